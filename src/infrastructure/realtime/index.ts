/**
 * Realtime: the durable change feed (`realtime_changes`) tailed per process and served
 * over Socket.IO. The composition root builds the parts (../container/realtime.ts) and
 * serves them with serveRealtime; the schema is realtimeMigrations from
 * ../postgres/realtime/schema.js.
 */
export { serveRealtime, type ConnectionMiddleware, type RealtimeHandle, type RealtimeParts } from './attach-realtime.js';
export {
  DEFAULT_LIMITS,
  type AuthorizeTopic,
  type ClientToServerEvents,
  type RealtimeLimits,
  type RealtimeServer,
  type RealtimeSocket,
  type ServerToClientEvents,
  type SocketData,
} from './realtime-hub.js';
export { AUTHENTICATE_TIMEOUT_MS, MAX_TOKEN_LENGTH, type ConnectErrorData } from './handshake-auth.js';
export { mayFollow, type OwnerLookups, type OwnerOf, type PaymentOwnerOf } from './topic-policy.js';
export { PAYMENT_OWNERS_DEFAULTS, type PaymentOwnersTuning } from './payment-owners.js';
export {
  CHANGE_EVENT,
  ERROR_EVENT,
  MAX_TOPICS_PER_SOCKET,
  SUBSCRIBE_EVENT,
  TOPIC_PATTERN,
  UNSUBSCRIBE_EVENT,
  type Ack,
  type ChangeMessage,
  type ErrorMessage,
  type RealtimeErrorCode,
  type SubscribeRequest,
} from './protocol.js';
export { pruneChanges, RETENTION_DEFAULTS, type RetentionOptions } from './retention.js';
export type { RealtimeLogger } from './logger.js';
