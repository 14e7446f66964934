import type { Server as HttpServer } from 'node:http';
import type pg from 'pg';
import { Server, type ServerOptions } from 'socket.io';
import type { Authenticator } from '../../application/auth/authenticator.js';
import type { Clock } from '../../application/ports/clock.js';
import { serveRealtime, type RealtimeHandle } from '../realtime/attach-realtime.js';
import { ChangeFeedTailer, type ChangeFeedTailerOptions } from '../realtime/change-feed-tailer.js';
import { AUTHENTICATE_TIMEOUT_MS, handshakeAuthentication, MAX_TOKEN_LENGTH } from '../realtime/handshake-auth.js';
import { silentLogger, type RealtimeLogger } from '../realtime/logger.js';
import { PaymentOwners, type OwnedResource, type PaymentOwnersTuning } from '../realtime/payment-owners.js';
import { DEFAULT_LIMITS, RealtimeHub, type AuthorizeTopic, type RealtimeLimits, type RealtimeServer } from '../realtime/realtime-hub.js';
import { RetentionPruner, type RetentionOptions } from '../realtime/retention.js';
import { principalTopicPolicy } from '../realtime/topic-policy.js';
import { SystemClock } from '../system/system-clock.js';

/** Largest message a client may send unless told otherwise: a subscribe of 50 topics fits easily. */
const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;

export interface RealtimeOptions {
  /** The service's pool. Realtime holds one connection for LISTEN and borrows others briefly. */
  readonly pool: pg.Pool;
  readonly logger?: RealtimeLogger;
  /**
   * Authenticates every connection (`auth: { token }` in the client's handshake) and turns
   * on the default topic policy (see topic-policy.ts) and credential expiry. Without one,
   * anyone may connect and follow any topic: for tests and local development only.
   */
  readonly authenticator?: Authenticator;
  /** For credential expiry. Default: the system clock. */
  readonly clock?: Clock;
  /** Handshake bounds; defaults MAX_TOKEN_LENGTH and AUTHENTICATE_TIMEOUT_MS. */
  readonly auth?: { readonly maxTokenLength?: number; readonly timeoutMs?: number };
  /** The payment-, refund-, subscription- and invoice-owner lookups behind the default policy for customer-scoped principals (each its own bounds). */
  readonly paymentOwners?: Partial<PaymentOwnersTuning>;
  /**
   * An extra topic check. With an authenticator it narrows the default policy (both must
   * say yes); without one it is the only check (by default every topic is allowed).
   */
  readonly authorizeTopic?: AuthorizeTopic;
  readonly limits?: Partial<RealtimeLimits>;
  /** Largest message a client may send. Default 16 KiB. */
  readonly maxPayloadBytes?: number;
  readonly feed?: Partial<Pick<ChangeFeedTailerOptions, 'batchSize' | 'pollIntervalMs' | 'gapRecheckMs' | 'gap' | 'startWindow'>>;
  /** Pruning of old feed rows; `false` turns it off in this instance. */
  readonly retention?: false | Partial<Pick<RetentionOptions, 'retentionMs' | 'intervalMs' | 'chunkSize' | 'maxChunksPerRun'>>;
  /**
   * Passed to Socket.IO (cors, path, …), except maxHttpBufferSize (set maxPayloadBytes
   * instead). Not connectionStateRecovery: a recovered socket would skip the handshake's
   * authentication and the hub's per-socket bounds; clients resume with `since` instead.
   */
  readonly serverOptions?: Partial<ServerOptions>;
}

/**
 * Builds the realtime endpoint on `httpServer`: the Socket.IO server, the change-feed
 * tailer over `pool`, the hub it feeds, the topic policy (owners of payments, refunds,
 * subscriptions and invoices looked up in their read models) and the feed's pruning. Nothing runs in the background until start().
 * Create the HTTP server with its request handler first (`http.createServer(app)`):
 * Socket.IO takes over the `request` listeners present at attach time and routes
 * everything outside its path to them.
 */
export function createRealtime(httpServer: HttpServer, options: RealtimeOptions): RealtimeHandle {
  const logger = options.logger ?? silentLogger;
  const limits: RealtimeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const clock = options.clock ?? new SystemClock();
  if (options.serverOptions?.connectionStateRecovery !== undefined) {
    throw new TypeError('createRealtime: connectionStateRecovery is not supported (it would skip authentication); clients resume with `since`');
  }
  const { authenticator } = options;
  let authorizeTopic = options.authorizeTopic;
  if (authenticator) {
    // One lookup (with its own cache and bounds) per kind of owned topic.
    const lookup = (resource: OwnedResource) => {
      const owners = new PaymentOwners({ ...options.paymentOwners, db: options.pool, logger, resource });
      return (id: string) => owners.ownerOf(id);
    };
    const policy = principalTopicPolicy({ payment: lookup('payment'), refund: lookup('refund'), subscription: lookup('subscription'), invoice: lookup('invoice'), dispute: lookup('dispute') });
    const extra = options.authorizeTopic;
    authorizeTopic = extra ? async (socket, topic) => (await policy(socket, topic)) && (await extra(socket, topic)) : policy;
  }
  const io: RealtimeServer = new Server(httpServer, {
    serveClient: false,
    ...options.serverOptions,
    maxHttpBufferSize: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
  });
  const feed = new ChangeFeedTailer({
    ...options.feed,
    pool: options.pool,
    logger,
    // `hub` is declared below; the tailer delivers nothing before start().
    onChange: (change) => hub.publish(change),
  });
  const hub = new RealtimeHub({ io, feed, db: options.pool, logger, limits, authorizeTopic, clock });
  return serveRealtime({
    io,
    hub,
    feed,
    retention: options.retention === false ? undefined : new RetentionPruner({ ...options.retention, pool: options.pool, logger }),
    handshake: authenticator
      ? handshakeAuthentication({
          authenticator,
          clock,
          logger,
          maxTokenLength: options.auth?.maxTokenLength ?? MAX_TOKEN_LENGTH,
          timeoutMs: options.auth?.timeoutMs ?? AUTHENTICATE_TIMEOUT_MS,
        })
      : undefined,
  });
}

/** createRealtime, started at once: for tests and tools that own their server. */
export function attachRealtime(httpServer: HttpServer, options: RealtimeOptions): RealtimeHandle {
  const realtime = createRealtime(httpServer, options);
  realtime.start();
  return realtime;
}
