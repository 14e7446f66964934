import { apiKeyMigrations } from '../auth/schema.js';
import { activityFeedMigrations } from './activity/schema.js';
import { eventStoreMigrations } from './event-store/schema.js';
import { idempotencyMigrations } from './idempotency/schema.js';
import { inboxMigrations } from './inbox/schema.js';
import type { Migration } from './migrator.js';
import { projectionMigrations } from './projections/schema.js';
import { realtimeMigrations } from './realtime/schema.js';
import { webhookMigrations } from './webhooks/schema.js';

/** Every schema change the service owns, in the order they apply. */
export const allMigrations: readonly Migration[] = [
  ...eventStoreMigrations,
  ...projectionMigrations,
  ...realtimeMigrations,
  ...idempotencyMigrations,
  ...apiKeyMigrations,
  ...activityFeedMigrations,
  ...webhookMigrations,
  ...inboxMigrations,
];
