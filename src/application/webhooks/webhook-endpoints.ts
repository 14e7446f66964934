import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { WebhookEndpointAuditEvent, WebhookEndpointUpdated } from '../audit/audit-events.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CommandContext } from '../command-context.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import { START } from '../ports/position.js';
import type { BeforeCommit, WebhookEndpoint, WebhookEndpointPatch, WebhookEndpointStore } from '../ports/webhooks.js';
import { MAX_EVENT_PATTERNS, patternProblem } from './event-patterns.js';

/*
 * Managing merchants' webhook endpoints (README, "Webhooks"): the rules that are not
 * storage: URLs pass the SSRF policy, event patterns name something we send, a secret is
 * made here and shown once, and a rotation keeps the old secret signing for 24 hours.
 * Every change is audited (who, which endpoint, what changed; never the secret), inside
 * the change's transaction: an endpoint never changes unaudited.
 */

export const ENDPOINT_ID_PREFIX = 'we_';
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** Why a URL may not be used (scheme, SSRF), or undefined. Resolves DNS. */
export type UrlPolicy = (url: string) => Promise<string | undefined>;

export type EndpointInputError =
  | { readonly code: 'invalid_url'; readonly message: string }
  | { readonly code: 'invalid_events'; readonly message: string };

export type EndpointError = EndpointInputError | { readonly code: 'not_found' };

export interface CreatedEndpoint {
  readonly endpoint: WebhookEndpoint;
  /** Shown this once. */
  readonly secret: string;
}

type WebhookEndpointUpdatedChanges = WebhookEndpointUpdated['data']['changes'];

/** Who changes an endpoint, for the audit record. */
export type EndpointActor = Pick<CommandContext, 'actor' | 'correlationId'>;

export interface CreateEndpointInput {
  readonly url: string;
  readonly events: readonly string[];
  readonly description?: string | null | undefined;
}

export class WebhookEndpoints {
  constructor(
    private readonly deps: {
      readonly store: WebhookEndpointStore;
      readonly eventStore: Pick<EventStore, 'headPosition'>;
      readonly urlPolicy: UrlPolicy;
      readonly newSecret: () => string;
      readonly ids: IdGenerator;
      readonly clock: Clock;
      readonly audit: Pick<AuditLog, 'record'>;
    },
  ) {}

  async create(input: CreateEndpointInput, by: EndpointActor): Promise<Result<CreatedEndpoint, EndpointInputError>> {
    const checked = await this.check(input.url, input.events);
    if (!checked.ok) return checked;
    const secret = this.deps.newSecret();
    // Everything already in the log is older than the endpoint: it hears from the next event on.
    const after = (await this.deps.eventStore.headPosition()) ?? START;
    const endpoint = await this.deps.store.create({
      id: this.deps.ids.next(ENDPOINT_ID_PREFIX),
      url: input.url,
      events: dedupe(input.events),
      description: input.description ?? null,
      secret,
      after,
      createdBy: by.actor,
      at: this.deps.clock.now(),
    }, this.audited(by, (e) => ({ type: 'WebhookEndpointCreated', data: { endpointId: e.id, url: auditedUrl(e.url), events: e.events, description: e.description } })));
    return ok({ endpoint, secret });
  }

  get(id: string): Promise<WebhookEndpoint | undefined> {
    return this.deps.store.get(id);
  }

  async update(id: string, patch: WebhookEndpointPatch, by: EndpointActor): Promise<Result<WebhookEndpoint, EndpointError>> {
    if (patch.url !== undefined || patch.events !== undefined) {
      const current = await this.deps.store.get(id);
      if (!current) return err({ code: 'not_found' });
      const checked = await this.check(patch.url ?? current.url, patch.events ?? current.events);
      if (!checked.ok) return checked;
    }
    const applied: WebhookEndpointPatch = { ...patch, ...(patch.events ? { events: dedupe(patch.events) } : {}) };
    const updated = await this.deps.store.update(id, applied, this.deps.clock.now(), this.audited(by, (e) => ({ type: 'WebhookEndpointUpdated', data: { endpointId: e.id, changes: changesOf(applied) } })));
    return updated ? ok(updated) : err({ code: 'not_found' });
  }

  async rotateSecret(id: string, by: EndpointActor): Promise<Result<CreatedEndpoint, EndpointError>> {
    const now = this.deps.clock.now();
    const secret = this.deps.newSecret();
    const oldExpiresAt = new Date(now.getTime() + ROTATION_OVERLAP_MS);
    const endpoint = await this.deps.store.rotateSecret(id, secret, oldExpiresAt, now, this.audited(by, (e) => ({ type: 'WebhookEndpointSecretRotated', data: { endpointId: e.id, previousSecretExpiresAt: oldExpiresAt.toISOString() } })));
    return endpoint ? ok({ endpoint, secret }) : err({ code: 'not_found' });
  }

  delete(id: string, by: EndpointActor): Promise<boolean> {
    return this.deps.store.delete(id, this.audited(by, (e) => ({ type: 'WebhookEndpointDeleted', data: { endpointId: e.id, url: auditedUrl(e.url) } })));
  }

  private audited(by: EndpointActor, eventOf: (endpoint: WebhookEndpoint) => WebhookEndpointAuditEvent): BeforeCommit {
    return async (endpoint) => {
      await this.deps.audit.record(eventOf(endpoint), by.actor, by.correlationId);
    };
  }

  private async check(url: string, events: readonly string[]): Promise<Result<void, EndpointInputError>> {
    if (events.length === 0 || events.length > MAX_EVENT_PATTERNS) return err({ code: 'invalid_events', message: `between 1 and ${MAX_EVENT_PATTERNS} event patterns` });
    for (const pattern of events) {
      const problem = patternProblem(pattern);
      if (problem) return err({ code: 'invalid_events', message: `${JSON.stringify(pattern)} ${problem}` });
    }
    const urlProblem = await this.deps.urlPolicy(url);
    return urlProblem ? err({ code: 'invalid_url', message: urlProblem }) : ok(undefined);
  }
}

const dedupe = (events: readonly string[]): string[] => [...new Set(events)];

/** The URL as audited: without its query string, where receivers often put a token. */
export function auditedUrl(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : `${url.slice(0, at)}?…`;
}

const changesOf = (patch: WebhookEndpointPatch): WebhookEndpointUpdatedChanges => ({
  ...(patch.url !== undefined ? { url: auditedUrl(patch.url) } : {}),
  ...(patch.events !== undefined ? { events: patch.events } : {}),
  ...(patch.description !== undefined ? { description: patch.description } : {}),
  ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
});

/** The secrets that sign at `now`: the current one and any rotated-out one not yet expired. */
export const liveSecrets = (endpoint: Pick<WebhookEndpoint, 'secrets'>, now: Date): string[] =>
  endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt.getTime() > now.getTime()).map((s) => s.secret);
