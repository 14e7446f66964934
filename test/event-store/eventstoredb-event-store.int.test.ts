import { describe } from 'vitest';
import { EventStoreDbEventStore } from '../../src/infrastructure/eventstoredb/eventstoredb-event-store.js';
import { eventStoreContract } from './contract.js';

const url = process.env.EVENTSTORE_URL;

// The one integration suite allowed to skip: no EventStoreDB server can run on the
// development machine, so it runs only where EVENTSTORE_URL points at one (docker compose,
// CI). The contract writes only to fresh random streams, so a shared, non-empty server is fine.
describe.skipIf(url === undefined || url === '')('EventStoreDbEventStore (EVENTSTORE_URL)', () => {
  // The server validates events itself (with errors of its own), and its idempotency is
  // positional: see EventStoreCapabilities.
  eventStoreContract('EventStoreDbEventStore', { validatesEvents: false, detectsReusedEventIds: false, reportsReplays: false }, () => {
    const store = new EventStoreDbEventStore(url ?? '');
    return Promise.resolve({ store, openInstance: () => new EventStoreDbEventStore(url ?? ''), teardown: () => store.close() });
  });
});
