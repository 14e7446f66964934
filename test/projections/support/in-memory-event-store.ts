import type { EventStore, NewEvent } from '../../../src/application/ports/event-store.js';
import type { Position } from '../../../src/application/ports/position.js';

export { InMemoryEventStore } from '../../support/in-memory-event-store.js';

/** A new event for tests; `type` decides which projections handle it. */
export function testEvent(type: string, data: unknown = {}): NewEvent {
  return {
    id: crypto.randomUUID(),
    type,
    data,
    metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: new Date(0).toISOString(), schemaVersion: 1 },
  };
}

/**
 * Appends `count` events of `type` (or of the type `type(i)` gives the i-th), `perAppend`
 * to a stream and append, and returns the position of the last one.
 */
export async function appendMany(store: EventStore, count: number, type: string | ((i: number) => string), perAppend = 1): Promise<Position | undefined> {
  let last: Position | undefined;
  for (let i = 0; i < count; i += perAppend) {
    const events = [];
    for (let j = i; j < Math.min(count, i + perAppend); j++) events.push(testEvent(typeof type === 'string' ? type : type(j), { i: j }));
    last = (await store.append(`test-${crypto.randomUUID()}`, events, 'no_stream')).position;
  }
  return last;
}
