import net from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'forward' | 'reset' | 'silent';

/** One client connection and its upstream, with what is waiting to cross while silent. */
interface Pair {
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  readonly toServer: Buffer[];
  readonly toClient: Buffer[];
}

/**
 * A TCP proxy between the service and PostgreSQL that a test can break on purpose:
 * `reset` kills every connection and refuses new ones at once (like a restart); `silent`
 * keeps every socket open but forwards nothing, holding the bytes (like a partition or a
 * proxy that hangs), and new connections get nowhere; `forward` heals, delivering what was
 * held, as TCP would after a partition.
 */
export class TcpProxy {
  private mode: ProxyMode = 'forward';
  private readonly pairs = new Set<Pair>();
  private readonly server: net.Server;

  private constructor(
    private readonly target: { host: string; port: number },
    server: net.Server,
  ) {
    this.server = server;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    const proxy = new TcpProxy(target, server);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Heals: held bytes are delivered, connections made while silent reach the server now. */
  forward(): void {
    this.mode = 'forward';
    for (const pair of this.pairs) {
      if (!pair.upstream && !pair.client.destroyed) this.connectUpstream(pair);
      else this.flush(pair);
    }
  }

  reset(): void {
    this.mode = 'reset';
    for (const pair of this.pairs) this.drop(pair);
  }

  silence(): void {
    this.mode = 'silent';
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, toServer: [], toClient: [] };
    this.pairs.add(pair);
    client.on('data', (chunk) => {
      pair.toServer.push(chunk);
      if (this.mode === 'forward') this.flush(pair);
    });
    client.on('error', () => undefined);
    client.on('close', () => {
      // A client that gave up while silent: what it sent still arrives after the heal (TCP
      // would retransmit it), then the server sees the connection end.
      if (this.mode === 'forward' || !pair.upstream) this.end(pair);
    });
    if (this.mode === 'forward') this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    const upstream = net.connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('data', (chunk) => {
      pair.toClient.push(chunk);
      if (this.mode === 'forward') this.flush(pair);
    });
    upstream.on('error', () => undefined);
    upstream.on('close', () => {
      if (!pair.client.destroyed) pair.client.destroy();
      this.pairs.delete(pair);
    });
    this.flush(pair);
  }

  private flush(pair: Pair): void {
    if (pair.upstream && !pair.upstream.destroyed) for (const chunk of pair.toServer.splice(0)) pair.upstream.write(chunk);
    if (!pair.client.destroyed) for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
    if (pair.client.destroyed && pair.upstream && !pair.upstream.destroyed) pair.upstream.end();
  }

  private end(pair: Pair): void {
    if (pair.upstream && !pair.upstream.destroyed) {
      this.flush(pair);
      pair.upstream.end();
    } else {
      this.pairs.delete(pair);
    }
  }

  private drop(pair: Pair): void {
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (pair.upstream && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
    this.pairs.delete(pair);
  }
}
