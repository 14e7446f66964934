/**
 * Realtime: the durable change feed (`realtime_changes`) tailed per process and served
 * over Socket.IO. The composition root needs attachRealtime and, for the schema,
 * realtimeMigrations from ../postgres/realtime/schema.js.
 */
export { attachRealtime, type RealtimeHandle, type RealtimeOptions } from './attach-realtime.js';
export {
  DEFAULT_LIMITS,
  type AuthorizeTopic,
  type ClientToServerEvents,
  type RealtimeLimits,
  type RealtimeServer,
  type RealtimeSocket,
  type ServerToClientEvents,
} from './realtime-hub.js';
export {
  CHANGE_EVENT,
  MAX_TOPICS_PER_SOCKET,
  SUBSCRIBE_EVENT,
  TOPIC_PATTERN,
  UNSUBSCRIBE_EVENT,
  type Ack,
  type ChangeMessage,
  type RealtimeErrorCode,
  type SubscribeRequest,
} from './protocol.js';
export { pruneChanges, RETENTION_DEFAULTS, type RetentionOptions } from './retention.js';
export type { RealtimeLogger } from './logger.js';
