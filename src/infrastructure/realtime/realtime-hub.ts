import type { Server, Socket } from 'socket.io';
import type { Principal } from '../../application/auth/principal.js';
import type { Clock } from '../../application/ports/clock.js';
import { comparePositions, formatPosition, type PositionParts } from '../../application/ports/position.js';
import { TimeoutError, withTimeout } from '../../application/support/timing.js';
import { CatchUp, CatchUpRegistry } from './catch-up.js';
import { DeliveryFloors } from './delivery-floors.js';
import { readBacklog, readOldest, type FeedChange, type Queryable } from './change-feed-sql.js';
import { isExpired } from './handshake-auth.js';
import { Semaphore, SlidingWindowCounter, TokenBucket } from './limits.js';
import { errorFields, type RealtimeLogger } from './logger.js';
import { OwnerLookupUnavailable } from './payment-owners.js';
import {
  ackCode,
  CHANGE_EVENT,
  ERROR_EVENT,
  errorAck,
  MAX_TOPICS_PER_SOCKET,
  okAck,
  parseSubscribe,
  parseUnsubscribe,
  RULE_BREAKING_CODES,
  splitArgs,
  SUBSCRIBE_EVENT,
  UNSUBSCRIBE_EVENT,
  type Ack,
  type AckFn,
  type ChangeMessage,
  type ErrorMessage,
  type RealtimeErrorCode,
} from './protocol.js';

// Clients may send anything, so handlers take unknown[] and validate.
export interface ClientToServerEvents {
  subscribe: (...args: unknown[]) => void;
  unsubscribe: (...args: unknown[]) => void;
}
export interface ServerToClientEvents {
  change: (change: ChangeMessage) => void;
  /** The last thing a socket hears before the server disconnects it. */
  error: (error: ErrorMessage) => void;
}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- instances talk through the table, not Socket.IO
export interface InterServerEvents {}
export interface SocketData {
  /** Set by the handshake when realtime runs with an authenticator; fixed for the connection. */
  principal?: Principal;
  /**
   * For credentials that can be revoked (API keys): asks again whether the handshake's
   * credential is still good. Called on every subscribe and periodically.
   */
  revalidate?: () => Promise<boolean>;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * May this socket follow this topic? The principal, when there is one, is
 * `socket.data.principal`. A throw counts as "no" (`forbidden`), except an
 * OwnerLookupUnavailable, which is answered `unavailable`.
 */
export type AuthorizeTopic = (socket: RealtimeSocket, topic: string) => boolean | Promise<boolean>;

export interface RealtimeLimits {
  readonly maxTopicsPerSocket: number;
  /** Backlog rows one `subscribe` may receive; more is refused with `backlog_too_large`. */
  readonly maxBacklog: number;
  /** Live changes held for one catching-up subscribe; more is refused with `catch_up_overflow`. */
  readonly maxBufferedPerCatchUp: number;
  /** Backlog queries running at once in this process; the rest wait their turn. */
  readonly maxConcurrentBacklogQueries: number;
  /** Token bucket per socket for subscribe + unsubscribe. */
  readonly requestBurst: number;
  readonly requestsPerSecond: number;
  /**
   * How long a `since` subscribe waits for the tailer (to start; to pass the rows the
   * backlog query saw) before it is refused with `unavailable`.
   */
  readonly feedWaitMs: number;
  /**
   * Refused requests (invalid_request, invalid_topic, rate_limited, too_many_topics, forbidden, unknown
   * events) within `refusalWindowMs` after which the socket is disconnected.
   */
  readonly maxRefusals: number;
  readonly refusalWindowMs: number;
}

export const DEFAULT_LIMITS: RealtimeLimits = {
  maxTopicsPerSocket: MAX_TOPICS_PER_SOCKET,
  maxBacklog: 1_000,
  maxBufferedPerCatchUp: 1_000,
  maxConcurrentBacklogQueries: 4,
  requestBurst: 10,
  requestsPerSecond: 5,
  feedWaitMs: 5_000,
  maxRefusals: 10,
  refusalWindowMs: 60_000,
};

/** setTimeout's longest delay is about 24.8 days; the expiry timer re-arms past it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the hub needs from the tailer. */
export interface FeedCursor {
  readonly isReady: boolean;
  readonly ready: Promise<void>;
  readonly lastDeliveredId: bigint;
  whenDelivered(id: bigint, timeoutMs: number): Promise<boolean>;
}

export interface RealtimeHubOptions {
  readonly io: RealtimeServer;
  readonly feed: FeedCursor;
  readonly db: Queryable;
  readonly logger: RealtimeLogger;
  readonly limits: RealtimeLimits;
  readonly authorizeTopic?: AuthorizeTopic;
  /** For credential expiry. */
  readonly clock: Clock;
}

type TopicState = 'live' | CatchUp;

/** How often an open socket's revocable credential (API key) is checked again. */
const REVALIDATE_INTERVAL_MS = 30_000;

interface Session {
  readonly topics: Map<string, TopicState>;
  readonly bucket: TokenBucket;
  readonly refusals: SlidingWindowCounter;
  /** Disconnects the socket when its credential expires; at most one per socket. */
  expiryTimer: NodeJS.Timeout | undefined;
  /** Re-checks a revocable credential; at most one per socket. */
  revalidateTimer: NodeJS.Timeout | undefined;
}

type Denial = { readonly topic: string } | { readonly unavailable: true };

type BacklogOutcome =
  | { readonly ok: true; readonly changes: readonly FeedChange[]; readonly maxId: bigint }
  | { readonly ok: false; readonly ack: Ack };

/**
 * Socket-side of realtime: validates subscribe/unsubscribe, serves backlogs, and turns
 * the tailer's changes into room emits. Rooms are topic strings.
 */
export class RealtimeHub {
  readonly #options: RealtimeHubOptions;
  readonly #catchUps = new CatchUpRegistry();
  readonly #floors = new DeliveryFloors();
  readonly #backlogPermits: Semaphore;

  constructor(options: RealtimeHubOptions) {
    this.#options = options;
    this.#backlogPermits = new Semaphore(options.limits.maxConcurrentBacklogQueries);
  }

  /** Catch-ups in progress (for tests and metrics). */
  get catchingUp(): number {
    return this.#catchUps.entries;
  }

  /** From the tailer, in id order. */
  publish(change: FeedChange): void {
    // `local`: every instance tails the table itself, so a cluster adapter must not
    // forward this emit to the others, or their clients would get it twice.
    const skip = this.#floors.excluded(change.message.topic, change.at);
    const room = this.#options.io.local.to(change.message.topic);
    (skip.length > 0 ? room.except(skip) : room).emit(CHANGE_EVENT, change.message);
    this.#catchUps.offer(change);
  }

  handleConnection(socket: RealtimeSocket): void {
    const { limits } = this.#options;
    const session: Session = {
      topics: new Map(),
      bucket: new TokenBucket({ capacity: limits.requestBurst, refillPerSecond: limits.requestsPerSecond }),
      refusals: new SlidingWindowCounter({ max: limits.maxRefusals, windowMs: limits.refusalWindowMs }),
      expiryTimer: undefined,
      revalidateTimer: undefined,
    };
    // Any other event is a client bug (or a probe): refused, and counted like other refusals.
    socket.use((packet, next) => {
      const [event, ...args] = packet;
      if (event === SUBSCRIBE_EVENT || event === UNSUBSCRIBE_EVENT) return next();
      this.#answer(socket, session, splitArgs(args).ack, errorAck('invalid_request', 'unknown event; send subscribe or unsubscribe'));
    });
    socket.on(SUBSCRIBE_EVENT, (...args: unknown[]) => {
      const { payload, ack } = splitArgs(args);
      if (this.#expired(socket)) return this.#expire(socket, ack);
      this.#stillValid(socket).then((valid) => {
        if (valid === 'revoked') return this.#revoke(socket, ack);
        if (valid === 'unknown') return ack(errorAck('unavailable', 'could not check the credential; retry shortly'));
        return this.#subscribe(socket, session, payload).then(
        (result) => this.#answer(socket, session, ack, result),
        (error: unknown) => {
          this.#options.logger.error({ socket: socket.id, ...errorFields(error) }, 'realtime: subscribe failed');
          ack(errorAck('unavailable', 'internal error'));
        },
        );
      }, (error: unknown) => this.#options.logger.error({ socket: socket.id, ...errorFields(error) }, 'realtime: subscribe failed'));
    });
    socket.on(UNSUBSCRIBE_EVENT, (...args: unknown[]) => {
      const { payload, ack } = splitArgs(args);
      if (this.#expired(socket)) return this.#expire(socket, ack);
      this.#answer(socket, session, ack, this.#unsubscribe(socket, session, payload));
    });
    socket.on('disconnect', () => {
      clearTimeout(session.expiryTimer);
      session.expiryTimer = undefined;
      clearInterval(session.revalidateTimer);
      session.revalidateTimer = undefined;
      this.#floors.forget(socket.id, session.topics.keys());
      for (const state of session.topics.values()) if (state !== 'live') this.#catchUps.remove(state);
      session.topics.clear();
    });
    this.#watchExpiry(socket, session);
    if (socket.data.revalidate) {
      session.revalidateTimer = setInterval(() => {
        void this.#stillValid(socket).then((valid) => {
          if (valid === 'revoked') this.#revoke(socket);
        });
      }, REVALIDATE_INTERVAL_MS);
      session.revalidateTimer.unref();
    }
  }

  /** 'unknown' when the check itself failed (the store is down): neither allowed nor revoked. */
  async #stillValid(socket: RealtimeSocket): Promise<'valid' | 'revoked' | 'unknown'> {
    const revalidate = socket.data.revalidate;
    if (!revalidate) return 'valid';
    try {
      return (await revalidate()) ? 'valid' : 'revoked';
    } catch {
      return 'unknown';
    }
  }

  /** The credential was revoked since the handshake: say so and disconnect. */
  #revoke(socket: RealtimeSocket, ack?: AckFn): void {
    ack?.(errorAck('unauthorized', 'credential revoked'));
    this.#disconnect(socket, 'unauthorized', 'credential revoked');
  }

  /** Arms the socket's one expiry timer; re-arms when it fires early (clock skew, long delays). */
  #watchExpiry(socket: RealtimeSocket, session: Session): void {
    session.expiryTimer = undefined;
    const expiresAt = socket.data.principal?.expiresAt;
    if (expiresAt == null || !socket.connected) return;
    const remaining = expiresAt.getTime() - this.#options.clock.now().getTime();
    if (!(remaining > 0)) return this.#expire(socket); // also an invalid date: fail closed
    session.expiryTimer = setTimeout(() => this.#watchExpiry(socket, session), Math.min(remaining, MAX_TIMER_MS));
    session.expiryTimer.unref();
  }

  #expired(socket: RealtimeSocket): boolean {
    return isExpired(socket.data.principal, this.#options.clock.now());
  }

  /** The credential has expired: say so (to the request, if any) and disconnect. */
  #expire(socket: RealtimeSocket, ack?: AckFn): void {
    ack?.(errorAck('unauthorized', 'token expired'));
    this.#disconnect(socket, 'unauthorized', 'token expired; reconnect with a fresh token');
  }

  /** Answers a request; a rule-breaking refusal counts, and too many of them disconnect. */
  #answer(socket: RealtimeSocket, session: Session, ack: AckFn, result: Ack): void {
    ack(result);
    const code = ackCode(result);
    if (code === undefined || !RULE_BREAKING_CODES.has(code) || !session.refusals.record()) return;
    const { maxRefusals, refusalWindowMs } = this.#options.limits;
    this.#disconnect(socket, 'too_many_errors', `${maxRefusals} refused requests within ${Math.round(refusalWindowMs / 1000)} s`);
  }

  /**
   * Sends a last `error` and closes the connection. What was emitted before (an ack)
   * still goes out first; the client sees `io server disconnect` and does not reconnect
   * by itself.
   */
  #disconnect(socket: RealtimeSocket, code: RealtimeErrorCode, detail: string): void {
    if (!socket.connected) return;
    this.#options.logger.info({ socket: socket.id, actor: socket.data.principal?.actor, code }, 'realtime: disconnecting a client');
    socket.emit(ERROR_EVENT, { error: `${code}: ${detail}` });
    socket.disconnect(true);
  }

  async #subscribe(socket: RealtimeSocket, session: Session, payload: unknown): Promise<Ack> {
    const { limits, feed } = this.#options;
    if (!session.bucket.tryTake()) return errorAck('rate_limited', 'too many requests; slow down');
    const parsed = parseSubscribe(payload);
    if (!parsed.ok) return errorAck(parsed.error.code, parsed.error.detail);
    const { topics, since } = parsed.value;

    const denied = await this.#firstDenied(socket, topics);
    if (denied !== undefined) {
      return 'topic' in denied
        ? errorAck('forbidden', `not allowed to follow ${denied.topic}`)
        : errorAck('unavailable', 'could not check access to the topics; retry shortly');
    }
    if (since !== undefined && !feed.isReady && !(await readyWithin(feed, limits.feedWaitMs))) {
      return errorAck('unavailable', 'the change feed is not available yet; retry shortly');
    }
    if (!socket.connected) return okAck; // nobody is listening for the answer

    // From here to the end of this block nothing awaits: the checks and the state change
    // see the same session, and upToId is read together with registering the catch-up.
    const fresh = topics.filter((topic) => !session.topics.has(topic));
    if (session.topics.size + fresh.length > limits.maxTopicsPerSocket) {
      return errorAck('too_many_topics', `at most ${limits.maxTopicsPerSocket} topics per connection`);
    }
    // Topics already followed (or catching up) stay as they are: re-subscribing is a no-op.
    if (fresh.length === 0) return okAck;
    if (since === undefined) {
      for (const topic of fresh) {
        void socket.join(topic);
        session.topics.set(topic, 'live');
      }
      return okAck;
    }
    const catchUp = new CatchUp(fresh, feed.lastDeliveredId, since, limits.maxBufferedPerCatchUp);
    for (const topic of fresh) session.topics.set(topic, catchUp);
    this.#catchUps.add(catchUp);

    let outcome = await this.#backlog(catchUp).catch((error: unknown): BacklogOutcome => {
      this.#options.logger.error({ socket: socket.id, ...errorFields(error) }, 'realtime: backlog query failed');
      return { ok: false, ack: errorAck('unavailable', 'could not read the backlog; retry shortly') };
    });
    // Rows the backlog query could see but the tailer has not handed out yet (ids above
    // upToId) reach this catch-up through its buffer, where `since` filters them. Joining
    // the rooms before the tailer has passed them would let the old ones among them
    // (at or before `since`) through unfiltered.
    if (outcome.ok && !(await feed.whenDelivered(outcome.maxId, limits.feedWaitMs))) {
      outcome = { ok: false, ack: errorAck('unavailable', 'the change feed is behind; retry shortly') };
    }

    // Synchronous again until the ack: backlog, buffer, join, with no tailer emit between.
    this.#catchUps.remove(catchUp);
    const refuse = (ack: Ack): Ack => {
      for (const topic of catchUp.topics) if (session.topics.get(topic) === catchUp) session.topics.delete(topic);
      return ack;
    };
    if (!socket.connected) return refuse(okAck);
    if (!outcome.ok) return refuse(outcome.ack);
    if (catchUp.overflowed) {
      return refuse(errorAck('catch_up_overflow', `more than ${limits.maxBufferedPerCatchUp} live changes arrived while reading the backlog; subscribe again`));
    }
    let floor: PositionParts = catchUp.since;
    for (const change of catchUp.drain(outcome.changes)) {
      socket.emit(CHANGE_EVENT, change.message);
      if (comparePositions(change.at, floor) > 0) floor = change.at;
    }
    for (const topic of catchUp.topics) {
      if (session.topics.get(topic) !== catchUp) continue;
      this.#floors.set(topic, socket.id, floor);
      void socket.join(topic);
      session.topics.set(topic, 'live');
    }
    return okAck;
  }

  async #backlog(catchUp: CatchUp): Promise<BacklogOutcome> {
    const { db, limits } = this.#options;
    const release = await this.#backlogPermits.acquire();
    try {
      const topics = [...catchUp.topics];
      if (topics.length === 0) return { ok: true, changes: [], maxId: 0n }; // all unsubscribed while waiting
      const since = catchUp.since;
      const backlog = await readBacklog(db, { topics, since, upToId: catchUp.upToId, window: limits.maxBacklog + 1 });
      if (backlog.truncated || backlog.changes.length > limits.maxBacklog) {
        return {
          ok: false,
          ack: errorAck(
            'backlog_too_large',
            `more than ${limits.maxBacklog} changes since ${formatPosition(since)}; fetch the current state over HTTP, then subscribe with a newer since`,
          ),
        };
      }
      // Rows older than the retention period are gone. If the oldest row left is after
      // `since` and rows before it have been deleted (ids start at 1), the client may have
      // missed some we can no longer send: say so rather than leave a silent gap.
      const oldest = await readOldest(db);
      if (oldest !== undefined && oldest.id > 1n && comparePositions(since, oldest.at) < 0) {
        return {
          ok: false,
          ack: errorAck('since_too_old', `changes before ${formatPosition(oldest.at)} are no longer kept; fetch the current state over HTTP, then subscribe again`),
        };
      }
      return { ok: true, changes: backlog.changes, maxId: backlog.maxId };
    } finally {
      release();
    }
  }

  #unsubscribe(socket: RealtimeSocket, session: Session, payload: unknown): Ack {
    if (!session.bucket.tryTake()) return errorAck('rate_limited', 'too many requests; slow down');
    const parsed = parseUnsubscribe(payload);
    if (!parsed.ok) return errorAck(parsed.error.code, parsed.error.detail);
    for (const topic of parsed.value.topics) {
      const state = session.topics.get(topic);
      if (state === undefined) continue; // not subscribed: nothing to undo
      session.topics.delete(topic);
      this.#floors.forget(socket.id, [topic]);
      if (state === 'live') void socket.leave(topic);
      else this.#catchUps.dropTopic(state, topic);
    }
    return okAck;
  }

  /** Checks every topic at once (so the policy can batch its lookups); the first refusal wins. */
  async #firstDenied(socket: RealtimeSocket, topics: readonly string[]): Promise<Denial | undefined> {
    const authorize = this.#options.authorizeTopic;
    if (!authorize) return undefined;
    const verdicts = await Promise.all(
      topics.map(async (topic): Promise<'allowed' | 'denied' | 'unavailable'> => {
        try {
          return (await authorize(socket, topic)) ? 'allowed' : 'denied';
        } catch (error) {
          if (error instanceof OwnerLookupUnavailable) return 'unavailable';
          this.#options.logger.warn({ socket: socket.id, topic, ...errorFields(error) }, 'realtime: authorizeTopic threw; denying');
          return 'denied';
        }
      }),
    );
    const denied = verdicts.indexOf('denied');
    if (denied >= 0) return { topic: topics[denied] ?? '' };
    return verdicts.includes('unavailable') ? { unavailable: true } : undefined;
  }
}

async function readyWithin(feed: FeedCursor, ms: number): Promise<boolean> {
  try {
    await withTimeout(feed.ready, ms, 'the change feed start');
    return true;
  } catch (error) {
    if (error instanceof TimeoutError) return false;
    throw error;
  }
}
