import { PostgresActivityFeed } from '../../src/infrastructure/postgres/activity/postgres-activity-feed.js';
import { activityFeedMigrations } from '../../src/infrastructure/postgres/activity/schema.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { createTestDatabase } from '../support/pg.js';
import { activityFeedContract } from './contract.js';

activityFeedContract('PostgresActivityFeed (JSONB)', async () => {
  const db = await createTestDatabase('activity_pg');
  await migrate(db.pool, activityFeedMigrations);
  return {
    feed: new PostgresActivityFeed(db.pool),
    openAnother: () => new PostgresActivityFeed(db.pool),
    teardown: () => db.drop(),
  };
});
