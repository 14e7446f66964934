import net from 'node:net';

/**
 * A TCP proxy a test controls: it forwards to `target` until stall() is called, after which
 * the connections open at that moment stay open but carry nothing either way, the way a
 * connection behind a dead NAT entry or a pulled cable does. New connections still forward
 * unless told otherwise.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #stalled = new Set<net.Socket>();
  #port = 0;
  #stallNew = false;

  private constructor(target: { host: string; port: number }) {
    this.#server = net.createServer((downstream) => {
      const upstream = net.connect(target.port, target.host);
      for (const [from, to] of [[downstream, upstream], [upstream, downstream]] as const) {
        this.#sockets.add(from);
        if (this.#stallNew) this.#stalled.add(from);
        from.on('data', (chunk) => {
          if (!this.#stalled.has(from)) to.write(chunk);
        });
        from.on('error', () => to.destroy());
        from.on('close', () => {
          this.#sockets.delete(from);
          this.#stalled.delete(from);
          to.destroy();
        });
      }
    });
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.#port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** How many connections (each counted once per direction) are open right now. */
  get openSockets(): number {
    return this.#sockets.size;
  }

  /**
   * Silently drops everything on the connections open now, in both directions; with
   * `newConnections`, also on every connection accepted from now on.
   */
  stall(options: { readonly newConnections?: boolean } = {}): void {
    for (const socket of this.#sockets) this.#stalled.add(socket);
    this.#stallNew = options.newConnections === true;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
