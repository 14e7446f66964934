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

export type AuditEvent = ApiKeyCreated | ApiKeyRevoked | ProjectionRebuilt | ProjectionAudited;

export type AuditEventType = AuditEvent['type'];

export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = ['ApiKeyCreated', 'ApiKeyRevoked', 'ProjectionRebuilt', 'ProjectionAudited'];

export const AUDIT_STREAM_PREFIX = 'audit-';

/**
 * One stream per audited subject (`audit-apikey-<id>`, `audit-projection-<name>`), not one
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
  }
}
