import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export type Answer = (request: Received, countOnPath: number) => number | Promise<number>;

/** A merchant's endpoint on 127.0.0.1: records every request, answers what `answer` says (default 200). */
export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  on(path: string, answer: Answer): void;
  onPath(path: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answers = new Map<string, Answer>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(r);
      const count = received.filter((x) => x.path === r.path).length;
      void Promise.resolve((answers.get(r.path) ?? (() => 200))(r, count)).then((status) => {
        res.statusCode = status;
        res.end(status >= 300 ? 'nope' : 'ok');
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path, answer) => answers.set(path, answer),
    onPath: (path) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
