import type { Worker } from 'node:worker_threads';
import { firstMessage, startTsWorker } from './worker.js';

/** Socket.IO subscribers in a worker thread: subscriber i follows topics[i % topics.length]. */
export interface ClientsSpec {
  readonly url: string;
  readonly subscribers: number;
  readonly topics: readonly string[];
  readonly connectConcurrency: number;
  /** Bound on recorded deliveries. */
  readonly maxDeliveries: number;
  /** Sent in the handshake as `auth: { token }` when present. */
  readonly token: string | undefined;
}

export interface ClientsReady {
  readonly kind: 'ready';
  readonly connected: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly ms: number;
}

export interface ClientsProgress {
  readonly kind: 'progress';
  readonly delivered: number;
}

/** Every `change` received: the payment id it carried and when (wall clock, ms). */
export interface Deliveries {
  readonly kind: 'deliveries';
  readonly ids: readonly string[];
  readonly at: readonly number[];
}

export type FromClients = ClientsReady | ClientsProgress | Deliveries;
export type ToClients = { readonly kind: 'stop' };

export class RealtimeClients {
  #delivered = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromClients) => {
      if (message.kind === 'progress') this.#delivered = message.delivered;
    });
  }

  static async start(spec: ClientsSpec, timeoutMs: number): Promise<{ clients: RealtimeClients; ready: ClientsReady }> {
    const worker = startTsWorker(new URL('./realtime-clients-worker.ts', import.meta.url), spec);
    const clients = new RealtimeClients(worker);
    try {
      const ready = await firstMessage<ClientsReady>(worker, timeoutMs);
      return { clients, ready };
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** Deliveries counted so far (updated every 100 ms). */
  get delivered(): number {
    return this.#delivered;
  }

  /** Disconnects every client and returns what they received. */
  async stop(): Promise<Deliveries> {
    const done = new Promise<Deliveries>((resolve) => {
      const onMessage = (message: FromClients): void => {
        if (message.kind !== 'deliveries') return;
        this.worker.off('message', onMessage);
        resolve(message);
      };
      this.worker.on('message', onMessage);
    });
    const stop: ToClients = { kind: 'stop' };
    this.worker.postMessage(stop);
    try {
      return await Promise.race([
        done,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('subscribers did not report within 10 s')), 10_000).unref()),
      ]);
    } finally {
      await this.worker.terminate();
    }
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
