import { describe } from 'vitest';
import { MongoActivityFeed } from '../../src/infrastructure/mongo/mongo-activity-feed.js';
import { ferretDbAvailable, startFerretDb } from '../support/ferretdb.js';
import { activityFeedContract } from './contract.js';

// Runs against FerretDB v1 (scripts/ferretdb.sh); under CI=true a missing binary fails here.
describe.runIf(ferretDbAvailable('MongoActivityFeed'))('MongoActivityFeed on FerretDB', () => {
  activityFeedContract('MongoActivityFeed', async () => {
    const server = await startFerretDb('activity_mongo');
    const opened: MongoActivityFeed[] = [];
    const open = (): MongoActivityFeed => {
      const feed = new MongoActivityFeed({ url: server.url });
      opened.push(feed);
      return feed;
    };
    return {
      feed: open(),
      openAnother: open,
      teardown: async () => {
        for (const feed of opened) await feed.close();
        await server.stop();
      },
    };
  });
});
