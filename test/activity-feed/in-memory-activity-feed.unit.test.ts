import { activityFeedContract } from './contract.js';
import { InMemoryActivityFeed } from './in-memory-activity-feed.js';

activityFeedContract('InMemoryActivityFeed (the unit tests\' fake)', () => {
  const feed = new InMemoryActivityFeed();
  return Promise.resolve({ feed, openAnother: () => new InMemoryActivityFeed(feed), teardown: () => Promise.resolve() });
});
