import { InMemoryEventStore } from '../support/in-memory-event-store.js';
import { eventStoreContract } from './contract.js';

// The fake that handler and runner unit tests stand on: it must behave as the PostgreSQL
// adapter does, or those tests prove nothing.
eventStoreContract('InMemoryEventStore', { validatesEvents: true, detectsReusedEventIds: true, reportsReplays: true }, () => {
  const store = new InMemoryEventStore();
  return Promise.resolve({ store, openInstance: () => new InMemoryEventStore(store), teardown: () => store.close() });
});
