/**
 * What the service's lifecycle needs from the things the container builds, beyond their
 * ports: closing what holds connections, and starting and stopping what runs in the
 * background. Tokens stay typed by port; a binding whose consumer must also close it is
 * typed `Port & Closeable`, never by its adapter.
 */

/** Holds connections or timers of its own; the pool it was given is the caller's. */
export interface Closeable {
  close(): Promise<void>;
}

/**
 * Work that runs on its own once started (a projection runner, a feed tailer, a pruning
 * timer). The service starts these only after the HTTP port is bound, in the container's
 * order, and stops them in reverse.
 */
export interface BackgroundTask {
  /** For logs: which task failed to stop. */
  readonly name: string;
  start(): void;
  /** Resolves once nothing of the task runs any more. Safe before start() and twice. */
  stop(): Promise<void>;
}
