import { formatPosition } from '../../src/application/ports/position.js';
import { InMemoryProjectionStore, TransientError } from '../projections/support/in-memory-projection-store.js';
import { projectionStoreContract } from './contract.js';

// The fake that the runner's unit tests stand on: it must behave as PostgresProjectionStore
// does, or those tests prove nothing.
projectionStoreContract('InMemoryProjectionStore', () => {
  const store = new InMemoryProjectionStore();
  return Promise.resolve({
    store,
    openInstance: () => new InMemoryProjectionStore(store),
    items: (schema) =>
      Promise.resolve(
        (store.schemas.get(schema) ?? [])
          .filter((s) => s.text.startsWith('INSERT INTO items'))
          .map((s) => String(s.params[0]))
          .sort(),
      ),
    changes: (projection) =>
      Promise.resolve(
        store.realtime
          .filter((c) => c.projection === projection)
          .flatMap((c) => c.topics.map((topic) => ({ topic, type: c.type, position: formatPosition(c.position), data: c.data }))),
      ),
    killConnection: () => {
      store.failNextCommit = new TransientError('Connection terminated unexpectedly');
      return Promise.resolve();
    },
    severLeases: () => Promise.resolve(store.loseAllLeases()),
    transientErrors: [new TransientError('connection terminated')],
    permanentErrors: [],
    teardown: () => Promise.resolve(),
  });
});
