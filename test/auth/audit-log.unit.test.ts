import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/application/audit/audit-log.js';
import { WrongExpectedVersion } from '../../src/application/ports/event-store.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';
import { NOW } from './support.js';

const clock = { now: () => NOW };

describe('AuditLog', () => {
  it('appends to the subject\'s audit stream with the actor and correlation id in the metadata', async () => {
    const store = new InMemoryEventStore();
    const audit = new AuditLog(store, clock, new SystemIdGenerator());
    await audit.record({ type: 'ApiKeyCreated', data: { keyId: '0123456789abcdef', scopes: ['payments:read'], customerId: null, name: 'ci' } }, 'cli:alice', 'corr-1');
    await audit.record({ type: 'ProjectionRebuilt', data: { projection: 'payments', version: 3, checkpoint: '1.1', processed: 10 } }, 'cli:bob', 'corr-2');
    expect(store.events.map((e) => [e.streamId, e.type, e.metadata.actor, e.metadata.correlationId, e.metadata.occurredAt])).toEqual([
      ['audit-apikey-0123456789abcdef', 'ApiKeyCreated', 'cli:alice', 'corr-1', NOW.toISOString()],
      ['audit-projection-payments', 'ProjectionRebuilt', 'cli:bob', 'corr-2', NOW.toISOString()],
    ]);
  });

  it('creates a key\'s stream once: a second creation is refused', async () => {
    const audit = new AuditLog(new InMemoryEventStore(), clock, new SystemIdGenerator());
    const created = { type: 'ApiKeyCreated', data: { keyId: '0123456789abcdef', scopes: ['admin'], customerId: null, name: '' } } as const;
    await audit.record(created, 'cli:a', 'c');
    await expect(audit.record(created, 'cli:a', 'c')).rejects.toBeInstanceOf(WrongExpectedVersion);
  });

  it('records a fact with an idempotency seed once, however often it is retried', async () => {
    const store = new InMemoryEventStore();
    const audit = new AuditLog(store, clock, new SystemIdGenerator());
    const revoked = { type: 'ApiKeyRevoked', data: { keyId: '0123456789abcdef' } } as const;
    await audit.record(revoked, 'cli:a', 'c', { idempotencySeed: 'ApiKeyRevoked:0123456789abcdef' });
    await audit.record(revoked, 'cli:a', 'c', { idempotencySeed: 'ApiKeyRevoked:0123456789abcdef' });
    expect(store.events).toHaveLength(1);
  });

  it('needs an actor', async () => {
    const audit = new AuditLog(new InMemoryEventStore(), clock, new SystemIdGenerator());
    await expect(audit.record({ type: 'ApiKeyRevoked', data: { keyId: 'x' } }, ' ', 'c')).rejects.toThrow(/actor/);
  });
});
