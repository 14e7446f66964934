import type { ChangeFeedTailer } from './change-feed-tailer.js';
import type { RealtimeHub, RealtimeServer, RealtimeSocket } from './realtime-hub.js';
import type { RetentionPruner } from './retention.js';

/** A Socket.IO connection middleware (the handshake's authentication). */
export type ConnectionMiddleware = (socket: RealtimeSocket, next: (err?: Error) => void) => void;

/**
 * What the composition root builds (src/infrastructure/container/realtime.ts) and this
 * module serves: the Socket.IO server already attached to the HTTP server, the hub, the
 * change-feed tailer that feeds the hub, and optionally the pruning of old feed rows.
 */
export interface RealtimeParts {
  readonly io: RealtimeServer;
  readonly hub: RealtimeHub;
  readonly feed: ChangeFeedTailer;
  readonly retention?: RetentionPruner | undefined;
  /** Runs on every connection before the hub sees it; absent: anyone may connect. */
  readonly handshake?: ConnectionMiddleware | undefined;
}

export interface RealtimeHandle {
  readonly io: RealtimeServer;
  /** Resolves once the change feed is being tailed. Subscribes without `since` work before. */
  readonly ready: Promise<void>;
  /** Starts tailing the change feed and pruning it. Idempotent; nothing runs in the background before it. */
  start(): void;
  /**
   * Stops tailing and pruning, disconnects every socket. Leaves the HTTP server and the pool
   * open. Idempotent, and safe without start() (a start that failed to bind its port).
   */
  close(): Promise<void>;
}

/**
 * Serves Socket.IO connections with `parts`: refuses new ones once closing, authenticates
 * them (when a handshake is given), hands them to the hub. The feed is tailed and pruned
 * from start(), not before.
 */
export function serveRealtime(parts: RealtimeParts): RealtimeHandle {
  const { io, hub, feed, retention } = parts;
  let closing = false;
  io.use((_socket, next) => (closing ? next(new Error('server shutting down')) : next()));
  if (parts.handshake) io.use(parts.handshake);
  io.on('connection', (socket) => hub.handleConnection(socket));

  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing = true;
    await Promise.all([feed.stop(), retention?.stop()]);
    // Not io.close(): that would also close the HTTP server, which the API still owns.
    io.disconnectSockets(true);
    await io.of('/').adapter.close();
    io.engine.close();
  };

  return {
    io,
    ready: feed.ready,
    start: () => {
      if (closing) return;
      feed.start();
      retention?.start();
    },
    close: () => (closed ??= close()),
  };
}
