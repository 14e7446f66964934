import { describe, expect, it } from 'vitest';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { START, position } from '../../src/application/ports/position.js';
import * as mapping from '../../src/infrastructure/eventstoredb/mapping.js';

const MAX_U64 = (1n << 64n) - 1n;

const metadata = {
  correlationId: 'c-1',
  causationId: null,
  actor: 'test',
  occurredAt: '2024-01-01T00:00:00.000Z',
  schemaVersion: 1,
};

describe('EventStoreDB mapping: expected revisions', () => {
  it('maps the named expectations to the client constants and revisions to themselves', () => {
    expect(mapping.toEsdbExpectedRevision('any')).toBe('any');
    expect(mapping.toEsdbExpectedRevision('no_stream')).toBe('no_stream');
    expect(mapping.toEsdbExpectedRevision('stream_exists')).toBe('stream_exists');
    expect(mapping.toEsdbExpectedRevision(streamRevision(0))).toBe(0n);
    expect(mapping.toEsdbExpectedRevision(streamRevision(41n))).toBe(41n);
  });

  it("reads the client's current revision back, 'no_stream' as undefined", () => {
    expect(mapping.fromEsdbCurrentRevision('no_stream')).toBeUndefined();
    expect(mapping.fromEsdbCurrentRevision(0n)).toBe(0n);
    expect(mapping.fromEsdbCurrentRevision(7n)).toBe(7n);
  });

  it('knows where the last event of a batch must be when the expectation pins it', () => {
    expect(mapping.expectedLastRevision('no_stream', 1)).toBe(0n);
    expect(mapping.expectedLastRevision('no_stream', 3)).toBe(2n);
    expect(mapping.expectedLastRevision(streamRevision(4), 2)).toBe(6n);
    expect(mapping.expectedLastRevision('any', 2)).toBeUndefined();
    expect(mapping.expectedLastRevision('stream_exists', 2)).toBeUndefined();
  });
});

describe('EventStoreDB mapping: refused appends', () => {
  it('reads a refusal under any or stream_exists on an existing stream as a partial re-append', () => {
    expect(mapping.isPartialReappend('any', streamRevision(3))).toBe(true);
    expect(mapping.isPartialReappend('stream_exists', streamRevision(0))).toBe(true);
    expect(mapping.isPartialReappend('stream_exists', undefined)).toBe(false);
    expect(mapping.isPartialReappend('no_stream', streamRevision(0))).toBe(false);
    expect(mapping.isPartialReappend(streamRevision(2), streamRevision(5))).toBe(false);
  });
});

describe('EventStoreDB mapping: positions', () => {
  it("starts at the client's START for no position or the port's START, else at both halves", () => {
    expect(mapping.toReadPosition(undefined)).toBe('start');
    expect(mapping.toReadPosition(START)).toBe('start');
    expect(mapping.toReadPosition(position(10n, 8n))).toEqual({ commit: 10n, prepare: 8n });
  });

  it('treats "after" as exclusive and compares commit, then prepare', () => {
    const after = position(100n, 90n);
    expect(mapping.isStrictlyAfter(position(100n, 90n), after)).toBe(false);
    expect(mapping.isStrictlyAfter(position(99n, 200n), after)).toBe(false);
    expect(mapping.isStrictlyAfter(position(100n, 89n), after)).toBe(false);
    // Same commit position, later prepare: a later event of the same transaction.
    expect(mapping.isStrictlyAfter(position(100n, 91n), after)).toBe(true);
    expect(mapping.isStrictlyAfter(position(101n, 0n), after)).toBe(true);
  });

  it('lets everything through after nothing or after START', () => {
    expect(mapping.isStrictlyAfter(position(0n, 0n), undefined)).toBe(true);
    expect(mapping.isStrictlyAfter(position(0n, 0n), START)).toBe(true);
    expect(mapping.isStrictlyAfter(position(5n, 5n), START)).toBe(true);
  });

  it('keeps a write position only when it is a real one', () => {
    expect(mapping.usableWritePosition({ commit: 120n, prepare: 120n })).toEqual({ commit: 120n, prepare: 120n });
    expect(mapping.usableWritePosition(undefined)).toBeUndefined();
    expect(mapping.usableWritePosition({ commit: -1n, prepare: -1n })).toBeUndefined();
    expect(mapping.usableWritePosition({ commit: MAX_U64, prepare: MAX_U64 })).toBeUndefined();
  });
});

describe('EventStoreDB mapping: system events', () => {
  it('keeps application events and drops "$" types and "$" streams', () => {
    expect(mapping.isUserEvent('payment-pay_1', 'PaymentCaptured')).toBe(true);
    expect(mapping.isUserEvent('payment-pay_1', '$metadata')).toBe(false);
    expect(mapping.isUserEvent('$$payment-pay_1', '$metadata')).toBe(false);
    expect(mapping.isUserEvent('$stats-127.0.0.1:2113', 'StatsCollected')).toBe(false);
    expect(mapping.isUserEvent('$ce-payment', '$>')).toBe(false);
    expect(mapping.isUserEvent('$settings', 'Settings')).toBe(false);
  });
});

describe('EventStoreDB mapping: recorded events', () => {
  const created = new Date('2024-02-03T04:05:06.789Z');
  const raw = {
    id: '0b5b8a52-5a55-4c2f-9d0c-6c3f3f8e2a11',
    type: 'PaymentCaptured',
    streamId: 'payment-pay_1',
    revision: 3n,
    created,
    data: { amount: 100 },
    metadata,
    isJson: true,
    position: { commit: 500n, prepare: 500n },
  };

  it('maps every field, the recorded time from "created"', () => {
    expect(mapping.toRecordedEvent(raw)).toEqual({
      id: raw.id,
      type: 'PaymentCaptured',
      streamId: 'payment-pay_1',
      revision: 3n,
      position: { commit: 500n, prepare: 500n },
      data: { amount: 100 },
      metadata,
      recordedAt: created,
    });
  });

  it('fails visibly on an event it cannot represent', () => {
    expect(() => mapping.toRecordedEvent({ ...raw, position: undefined })).toThrow(mapping.UnsupportedEventStoreDbEvent);
    expect(() => mapping.toRecordedEvent({ ...raw, metadata: undefined })).toThrow(mapping.UnsupportedEventStoreDbEvent);
    expect(() => mapping.toRecordedEvent({ ...raw, metadata: new Uint8Array([1]) })).toThrow(mapping.UnsupportedEventStoreDbEvent);
    expect(() => mapping.toRecordedEvent({ ...raw, metadata: [metadata] })).toThrow(mapping.UnsupportedEventStoreDbEvent);
  });

  it('stores undefined data as JSON null and everything else as given', () => {
    expect(mapping.toJsonData(undefined)).toBeNull();
    expect(mapping.toJsonData({ a: 1 })).toEqual({ a: 1 });
    expect(mapping.toJsonData('text')).toBe('text');
  });
});
