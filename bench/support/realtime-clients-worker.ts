import { parentPort, workerData } from 'node:worker_threads';
import { io, type Socket } from 'socket.io-client';
import type { ClientsReady, ClientsSpec, Deliveries, ToClients } from './realtime-clients.js';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across threads. */
const wallNow = (): number => performance.timeOrigin + performance.now();

interface Change {
  readonly topic: string;
  readonly type: string;
  readonly data: { readonly id?: unknown } | null;
}

type Ack = { ok: true } | { ok: false; error: string };

async function connectOne(spec: ClientsSpec, topic: string, onChange: (change: Change) => void): Promise<Socket> {
  const socket = io(spec.url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
    ...(spec.token === undefined ? {} : { auth: { token: spec.token } }),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
  });
  socket.on('change', onChange);
  const ack = (await socket.timeout(10_000).emitWithAck('subscribe', { topics: [topic] })) as Ack;
  if (!ack.ok) throw new Error(`subscribe refused: ${ack.error}`);
  return socket;
}

async function main(port: NonNullable<typeof parentPort>, spec: ClientsSpec): Promise<void> {
  const sockets: Socket[] = [];
  const ids: string[] = [];
  const at: number[] = [];
  const onChange = (change: Change): void => {
    // Only the payment changes the benchmark appends for: customer topics also carry the
    // activity feed's entries, and counting those made the wait end before the last payment
    // change had arrived (it then looked lost).
    if (!change.type.startsWith('payment.')) return;
    const id = change.data?.id;
    if (typeof id === 'string' && at.length < spec.maxDeliveries) {
      at.push(wallNow());
      ids.push(id);
    }
  };

  port.on('message', (message: ToClients) => {
    if (message.kind === 'stop') {
      for (const s of sockets) s.disconnect();
      const report: Deliveries = { kind: 'deliveries', ids, at };
      port.postMessage(report);
    }
  });

  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const connector = async (): Promise<void> => {
    while (next < spec.subscribers) {
      const i = next++;
      try {
        sockets.push(await connectOne(spec, spec.topics[i % spec.topics.length] as string, onChange));
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connectConcurrency }, () => connector()));
  const ready: ClientsReady = { kind: 'ready', connected: sockets.length, failed, firstError, ms: performance.now() - t0 };
  port.postMessage(ready);

  // Progress, so that the main thread knows when every expected change has arrived.
  const timer = setInterval(() => port.postMessage({ kind: 'progress', delivered: at.length }), 100);
  timer.unref();
}

if (parentPort) void main(parentPort, workerData as ClientsSpec);
