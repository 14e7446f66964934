import type { Position } from './position.js';

/*
 * Outbound webhooks' storage (README, "Webhooks"): merchants' endpoints and the log of
 * what was delivered to them. The PostgreSQL adapter lives in
 * src/infrastructure/postgres/webhooks.
 */

export interface WebhookSecret {
  readonly secret: string;
  /** Null for the current secret; a rotated-out one signs alongside until then. */
  readonly expiresAt: Date | null;
}

export type WebhookEndpointStatus = 'enabled' | 'disabled';

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly description: string | null;
  readonly status: WebhookEndpointStatus;
  /** Why it is disabled: by the merchant, or after 3 days of failures. Null when enabled. */
  readonly disabledReason: string | null;
  /** Newest first. */
  readonly secrets: readonly WebhookSecret[];
  /** Events at or before this position were in the log before the endpoint existed: not sent to it. */
  readonly after: Position;
  readonly failingSince: Date | null;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewWebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly description: string | null;
  readonly secret: string;
  readonly after: Position;
  readonly createdBy: string;
  readonly at: Date;
}

export interface WebhookEndpointPatch {
  readonly url?: string;
  readonly events?: readonly string[];
  readonly description?: string | null;
  /** true disables (reason: by request), false enables (and forgets past failures). */
  readonly disabled?: boolean;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookAttempt {
  readonly attempt: number;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  /** The first KiB of the answer. */
  readonly responseBody: string | null;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly endpointId: string;
  /** The webhook event's id (`evt_…`), the same for every endpoint that got it. */
  readonly eventId: string;
  readonly eventType: string;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastStatusCode: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly attemptLog: readonly WebhookAttempt[];
}

export interface DeliveryPageQuery {
  readonly endpointId: string;
  readonly limit: number;
  /** Exclusive cursor: deliveries older than this one. */
  readonly startingAfter?: string | undefined;
}

export interface EndpointPageQuery {
  readonly limit: number;
  readonly startingAfter?: string | undefined;
}

/**
 * Runs inside a change's transaction with the endpoint as changed (as deleted, for a
 * delete); the change commits only after it returned, and a throw undoes it. For the
 * audit record: an endpoint never changes unaudited.
 */
export type BeforeCommit = (endpoint: WebhookEndpoint) => Promise<void>;

export interface WebhookEndpointStore {
  create(endpoint: NewWebhookEndpoint, beforeCommit?: BeforeCommit): Promise<WebhookEndpoint>;
  get(id: string): Promise<WebhookEndpoint | undefined>;
  list(query: EndpointPageQuery): Promise<WebhookEndpoint[]>;
  update(id: string, patch: WebhookEndpointPatch, at: Date, beforeCommit?: BeforeCommit): Promise<WebhookEndpoint | undefined>;
  /** Puts `secret` first; the current one expires at `oldExpiresAt`; already expired ones are dropped. */
  rotateSecret(id: string, secret: string, oldExpiresAt: Date, at: Date, beforeCommit?: BeforeCommit): Promise<WebhookEndpoint | undefined>;
  delete(id: string, beforeCommit?: BeforeCommit): Promise<boolean>;
  deliveries(query: DeliveryPageQuery): Promise<WebhookDelivery[]>;
  delivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | undefined>;
}
