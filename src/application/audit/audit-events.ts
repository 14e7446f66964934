/**
 * Administrative actions, recorded as events so that "who did what to the system" has the
 * same durability and ordering as the money. The actor is in each event's metadata, not
 * in its data: it is the same field every other event carries.
 *
 * Audit events never carry a secret: a key's id and grants, never its hash or plaintext.
 */
export interface ApiKeyCreated {
  readonly type: 'ApiKeyCreated';
  readonly data: {
    readonly keyId: string;
    readonly scopes: readonly string[];
    readonly customerId: string | null;
    readonly name: string;
  };
}

export interface ApiKeyRevoked {
  readonly type: 'ApiKeyRevoked';
  readonly data: { readonly keyId: string };
}

export interface ProjectionRebuilt {
  readonly type: 'ProjectionRebuilt';
  readonly data: {
    readonly projection: string;
    readonly version: number;
    /** The live checkpoint right after the switch. */
    readonly checkpoint: string;
    readonly processed: number;
  };
}

export interface ProjectionAudited {
  readonly type: 'ProjectionAudited';
  readonly data: {
    readonly projection: string;
    readonly checkpoint: string;
    readonly processed: number;
    readonly matches: boolean;
  };
}

/*
 * Merchant webhook endpoints (README, "Webhooks"). Never the signing secret, and the URL
 * without its query string (`auditedUrl`): a receiver's token often rides there, and these
 * events are kept forever while an endpoint's configuration must be deletable.
 */
export interface WebhookEndpointCreated {
  readonly type: 'WebhookEndpointCreated';
  readonly data: {
    readonly endpointId: string;
    readonly url: string;
    readonly events: readonly string[];
    readonly description: string | null;
  };
}

export interface WebhookEndpointUpdated {
  readonly type: 'WebhookEndpointUpdated';
  readonly data: {
    readonly endpointId: string;
    /** The fields the request set, with their new values (the previous ones are earlier in the stream). */
    readonly changes: {
      readonly url?: string;
      readonly events?: readonly string[];
      readonly description?: string | null;
      readonly disabled?: boolean;
    };
  };
}

export interface WebhookEndpointSecretRotated {
  readonly type: 'WebhookEndpointSecretRotated';
  readonly data: { readonly endpointId: string; readonly previousSecretExpiresAt: string };
}

export interface WebhookEndpointDeleted {
  readonly type: 'WebhookEndpointDeleted';
  readonly data: { readonly endpointId: string; readonly url: string };
}

export type WebhookEndpointAuditEvent = WebhookEndpointCreated | WebhookEndpointUpdated | WebhookEndpointSecretRotated | WebhookEndpointDeleted;

export type AuditEvent = ApiKeyCreated | ApiKeyRevoked | ProjectionRebuilt | ProjectionAudited | WebhookEndpointAuditEvent;

export type AuditEventType = AuditEvent['type'];

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = [
  'ApiKeyCreated',
  'ApiKeyRevoked',
  'ProjectionRebuilt',
  'ProjectionAudited',
  'WebhookEndpointCreated',
  'WebhookEndpointUpdated',
  'WebhookEndpointSecretRotated',
  'WebhookEndpointDeleted',
];

export const AUDIT_STREAM_PREFIX = 'audit-';

/**
 * One stream per audited subject (`audit-apikey-<id>`, `audit-projection-<name>`,
 * `audit-webhookendpoint-<id>`), not one
 * per day: a key's whole history is one short read, its creation can demand `no_stream`
 * (an id collision fails instead of merging two keys' histories), and writers never queue
 * on one hot stream row. "Everything on a day" is a read of all events filtered by the
 * `audit-` prefix and recordedAt, which an audit projection can serve when one is needed.
 */
export function auditStreamOf(event: AuditEvent): string {
  switch (event.type) {
    case 'ApiKeyCreated':
    case 'ApiKeyRevoked':
      return `${AUDIT_STREAM_PREFIX}apikey-${event.data.keyId}`;
    case 'ProjectionRebuilt':
    case 'ProjectionAudited':
      return `${AUDIT_STREAM_PREFIX}projection-${event.data.projection}`;
    case 'WebhookEndpointCreated':
    case 'WebhookEndpointUpdated':
    case 'WebhookEndpointSecretRotated':
    case 'WebhookEndpointDeleted':
      return `${AUDIT_STREAM_PREFIX}webhookendpoint-${event.data.endpointId}`;
  }
}
