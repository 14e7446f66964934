import { z } from 'zod';
import { parsePosition, type Position } from '../../application/ports/position.js';
import { err, ok, type Result } from '../../domain/result.js';

/**
 * The Socket.IO wire contract (docs/architecture.md, "Public contract"). Names here are
 * public: clients depend on them, so they change only by extension.
 */

export const SUBSCRIBE_EVENT = 'subscribe';
export const UNSUBSCRIBE_EVENT = 'unsubscribe';
export const CHANGE_EVENT = 'change';
/** Sent once, just before the server disconnects a socket: `{ error: "<code>: <explanation>" }`. */
export const ERROR_EVENT = 'error';

/** The lexical shape of `payment:<id>`, `refund:<id>`, `subscription:<id>`, `customer:<id>`, `ledger`, …; topicProblem is the whole check. */
export const TOPIC_PATTERN = /^[a-z_]+(:[A-Za-z0-9_\-.]{1,64})?$/;
/**
 * The topics there are, and whether each takes an id. A topic outside this grammar is
 * refused as `invalid_topic` before anyone asks whether the caller may see it, so that
 * `forbidden` always means "exists as a name, but not for you".
 */
export const TOPIC_KINDS: Readonly<Record<string, 'id' | 'none'>> = { payment: 'id', refund: 'id', subscription: 'id', invoice: 'id', dispute: 'id', customer: 'id', ledger: 'none' };
const TOPIC_ID = /^[A-Za-z0-9_\-.]{1,64}$/;
/** How much of a refused topic the ack quotes back. */
const MAX_QUOTED_TOPIC = 80;
/** Matches the CHECK on realtime_changes.topic: a longer topic could never have a change. */
export const MAX_TOPIC_LENGTH = 200;
export const MAX_TOPICS_PER_SOCKET = 50;

/** What the server emits as `change`. */
export interface ChangeMessage {
  readonly topic: string;
  readonly type: string;
  /** formatPosition() of the event that caused the change. */
  readonly position: string;
  readonly data: unknown;
}

export type Ack = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The payload of ERROR_EVENT. */
export interface ErrorMessage {
  readonly error: string;
}

/**
 * The first word of every error ack, so that clients can branch on it without parsing
 * prose; the rest of the string is for humans.
 */
export type RealtimeErrorCode =
  | 'invalid_request'
  | 'invalid_topic'
  | 'rate_limited'
  | 'too_many_topics'
  | 'forbidden'
  | 'unauthorized'
  | 'too_many_errors'
  | 'unavailable'
  | 'backlog_too_large'
  | 'since_too_old'
  | 'catch_up_overflow';

export const okAck: Ack = { ok: true };
export const errorAck = (code: RealtimeErrorCode, detail: string): Ack => ({ ok: false, error: `${code}: ${detail}` });

/** The code an error ack starts with; undefined for `{ ok: true }`. */
export function ackCode(ack: Ack): RealtimeErrorCode | undefined {
  if (ack.ok) return undefined;
  const colon = ack.error.indexOf(':');
  return (colon < 0 ? ack.error : ack.error.slice(0, colon)) as RealtimeErrorCode;
}

/**
 * Refusals that are the client's fault. Each one counts towards `maxRefusals`; the others
 * (backlog_too_large, unavailable, …) describe the server's state and count for nothing.
 */
export const RULE_BREAKING_CODES: ReadonlySet<RealtimeErrorCode> = new Set<RealtimeErrorCode>(['invalid_request', 'invalid_topic', 'rate_limited', 'too_many_topics', 'forbidden']);

export interface SubscribeRequest {
  /** Deduplicated, in the order given. */
  readonly topics: readonly string[];
  readonly since?: Position;
}

export interface UnsubscribeRequest {
  readonly topics: readonly string[];
}

// Only the shape here: a string that is not a topic is `invalid_topic` (topicProblem), not `invalid_request`.
const topics = z.array(z.string()).min(1).max(MAX_TOPICS_PER_SOCKET);

const TOPIC_SHAPE = 'a topic looks like "payment:<id>", "refund:<id>", "subscription:<id>", "invoice:<id>", "dispute:<id>", "customer:<id>" or "ledger"';

/** Why `topic` is not a topic at all; undefined for a well-formed one. */
export function topicProblem(topic: string): string | undefined {
  if (topic.length > MAX_TOPIC_LENGTH) return `longer than ${MAX_TOPIC_LENGTH} characters`;
  const colon = topic.indexOf(':');
  const kind = colon < 0 ? topic : topic.slice(0, colon);
  const id = colon < 0 ? undefined : topic.slice(colon + 1);
  const takes = Object.hasOwn(TOPIC_KINDS, kind) ? TOPIC_KINDS[kind] : undefined;
  if (takes === undefined) return `unknown kind of topic; ${TOPIC_SHAPE}`;
  if (takes === 'none') return id === undefined ? undefined : `"${kind}" takes no id`;
  if (id === undefined || id === '') return `"${kind}" needs an id: "${kind}:<id>"`;
  if (!TOPIC_ID.test(id)) return 'the id must be 1 to 64 characters of A-Z, a-z, 0-9, "_", "-", "."';
  return undefined;
}

/** A request that cannot be acted on: its code (invalid_request or invalid_topic) and why. */
export interface ProtocolRefusal {
  readonly code: Extract<RealtimeErrorCode, 'invalid_request' | 'invalid_topic'>;
  readonly detail: string;
}

const quote = (topic: string): string => JSON.stringify(topic.length > MAX_QUOTED_TOPIC ? `${topic.slice(0, MAX_QUOTED_TOPIC)}…` : topic);

function firstInvalidTopic(values: readonly string[]): ProtocolRefusal | undefined {
  for (const value of values) {
    const problem = topicProblem(value);
    if (problem !== undefined) return { code: 'invalid_topic', detail: `${quote(value)}: ${problem}` };
  }
  return undefined;
}

// Strict: an unknown key is more likely a client bug (`from` for `since`) than a feature
// we should silently ignore.
const subscribeSchema = z.strictObject({
  topics,
  // "<commit>.<prepare>", each at most 20 digits; parsePosition checks the rest.
  since: z.string().max(41).optional(),
});

const unsubscribeSchema = z.strictObject({ topics });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

const dedupe = (values: readonly string[]): string[] => [...new Set(values)];

const invalidRequest = (detail: string): Result<never, ProtocolRefusal> => err({ code: 'invalid_request', detail });

export function parseSubscribe(payload: unknown): Result<SubscribeRequest, ProtocolRefusal> {
  const parsed = subscribeSchema.safeParse(payload);
  if (!parsed.success) return invalidRequest(describeIssues(parsed.error));
  const invalidTopic = firstInvalidTopic(parsed.data.topics);
  if (invalidTopic !== undefined) return err(invalidTopic);
  const { since } = parsed.data;
  if (since === undefined) return ok({ topics: dedupe(parsed.data.topics) });
  const position = parsePosition(since);
  if (position === undefined) return invalidRequest('since: not a position ("<commit>.<prepare>")');
  return ok({ topics: dedupe(parsed.data.topics), since: position });
}

export function parseUnsubscribe(payload: unknown): Result<UnsubscribeRequest, ProtocolRefusal> {
  const parsed = unsubscribeSchema.safeParse(payload);
  if (!parsed.success) return invalidRequest(describeIssues(parsed.error));
  const invalidTopic = firstInvalidTopic(parsed.data.topics);
  if (invalidTopic !== undefined) return err(invalidTopic);
  return ok({ topics: dedupe(parsed.data.topics) });
}

export type AckFn = (ack: Ack) => void;

/**
 * Socket.IO hands a handler whatever the client sent: `emit('subscribe', payload, cb)`,
 * `emit('subscribe', cb)`, or no callback at all. The ack is the last argument when it is
 * a function; without one we still act, the client just cannot hear the outcome.
 */
export function splitArgs(args: readonly unknown[]): { payload: unknown; ack: AckFn } {
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    const callback = last as (ack: Ack) => unknown;
    return { payload: args.length > 1 ? args[0] : undefined, ack: (a) => void callback(a) };
  }
  return { payload: args[0], ack: () => undefined };
}
