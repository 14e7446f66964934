import type { Collection, Db } from 'mongodb';
import { MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import type { ActivityEntry, ActivityFeedState, ActivityFeedStore, ActivityPageRequest, ActivityRecord } from '../../application/ports/activity-feed.js';
import type { Position } from '../../application/ports/position.js';
import { formatPosition, parsePosition } from '../../application/ports/position.js';
import { positionSortKey } from '../../projections/activity/activity-entries.js';

/*
 * MongoDB adapter of the activity feed. No write here can share a transaction with another
 * (and FerretDB, which the tests run, has no transactions at all), so:
 * - entries are insert-only documents whose _id is the event id: `insertMany` with
 *   ordered:false writes every new one, and duplicate-key errors (11000) mean "already
 *   written" (a replay after a crash) and are not errors;
 * - the checkpoint lives in this database (collection `activity_feed`, one state document)
 *   and moves after the batch with a conditional update (filter on the old value), so a
 *   runner that lost a switch or a race writes nothing.
 * Each generation is its own collection `activity_entries_g<n>`; a rebuild fills a fresh
 * one, then the state document's `live` is switched to it.
 */

const STATE_ID = 'state';
const ENTRIES_PREFIX = 'activity_entries_g';
const DUPLICATE_KEY = 11000;
const START_TEXT = '0.0';

interface StateDocument {
  _id: string;
  live: number;
  next: number;
  /** Checkpoint per existing generation, keyed `g<n>`. */
  checkpoints: Record<string, string>;
}

interface EntryDocument {
  _id: string;
  customerId: string;
  sortKey: string;
  entry: ActivityEntry;
}

const checkpointField = (generation: number): string => `checkpoints.g${generation}`;

function parseStored(text: string | undefined): Position | undefined {
  if (text === undefined) return undefined;
  const p = parsePosition(text);
  if (!p) throw new Error(`activity feed: stored checkpoint ${JSON.stringify(text)} is not a position`);
  return p;
}

const isDuplicateKey = (error: { code?: unknown }): boolean => error.code === DUPLICATE_KEY;

export interface MongoActivityFeedOptions {
  readonly url: string;
  /** Default: the database named in the URL, else `ledger`. */
  readonly database?: string;
  /** Bounds server selection, so a MongoDB that is down fails a call instead of hanging it. */
  readonly serverSelectionTimeoutMs?: number;
}

export class MongoActivityFeed implements ActivityFeedStore {
  private readonly client: MongoClient;
  private readonly db: Db;

  constructor(options: MongoActivityFeedOptions) {
    this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000 });
    this.db = options.database ? this.client.db(options.database) : this.client.db();
  }

  private get states(): Collection<StateDocument> {
    return this.db.collection<StateDocument>('activity_feed');
  }

  private entries(generation: number): Collection<EntryDocument> {
    return this.db.collection<EntryDocument>(`${ENTRIES_PREFIX}${generation}`);
  }

  private async ensureIndexes(generation: number): Promise<void> {
    // The timeline query: one customer, newest first, before a cursor.
    await this.entries(generation).createIndex({ customerId: 1, sortKey: -1 }, { name: 'timeline' });
  }

  async prepare(): Promise<void> {
    try {
      await this.states.updateOne(
        { _id: STATE_ID },
        { $setOnInsert: { live: 1, next: 2, checkpoints: { g1: START_TEXT } } },
        { upsert: true },
      );
    } catch (error) {
      // Two instances starting together: the loser's upsert hits the _id the winner inserted.
      if (!(error instanceof MongoServerError) || !(isDuplicateKey(error) || error.code === 1)) throw error;
    }
    await this.ensureIndexes((await this.state()).live);
  }

  private async stateDocument(): Promise<StateDocument> {
    const doc = await this.states.findOne({ _id: STATE_ID });
    if (!doc) throw new Error('activity feed: no state document (prepare() was not run)');
    return doc;
  }

  async state(): Promise<ActivityFeedState> {
    const doc = await this.stateDocument();
    const checkpoint = parseStored(doc.checkpoints[`g${doc.live}`]);
    if (!checkpoint) throw new Error(`activity feed: live generation ${doc.live} has no checkpoint`);
    return { live: doc.live, checkpoint };
  }

  async checkpointOf(generation: number): Promise<Position | undefined> {
    return parseStored((await this.stateDocument()).checkpoints[`g${generation}`]);
  }

  async insert(generation: number, records: readonly ActivityRecord[]): Promise<void> {
    if (records.length === 0) return;
    const docs: EntryDocument[] = records.map(({ customerId, entry }) => ({
      _id: entry.id,
      customerId,
      sortKey: positionSortKey(parseStored(entry.position) as Position),
      entry,
    }));
    try {
      await this.entries(generation).insertMany(docs, { ordered: false });
    } catch (error) {
      if (error instanceof MongoBulkWriteError) {
        const errors: readonly { code?: unknown }[] = ([] as { code?: unknown }[]).concat(error.writeErrors as { code?: unknown } | { code?: unknown }[]);
        if (errors.length > 0 && errors.every((e) => isDuplicateKey(e))) return;
      }
      if (error instanceof MongoServerError && isDuplicateKey(error)) return;
      throw error;
    }
  }

  async advance(generation: number, from: Position, to: Position): Promise<boolean> {
    const result = await this.states.updateOne(
      { _id: STATE_ID, [checkpointField(generation)]: formatPosition(from) },
      { $set: { [checkpointField(generation)]: formatPosition(to) } },
    );
    return result.matchedCount === 1;
  }

  async page(request: ActivityPageRequest): Promise<ActivityEntry[]> {
    const { live } = await this.stateDocument();
    const filter = request.beforePosition
      ? { customerId: request.customerId, sortKey: { $lt: positionSortKey(request.beforePosition) } }
      : { customerId: request.customerId };
    const docs = await this.entries(live).find(filter).sort({ sortKey: -1 }).limit(request.limit).toArray();
    return docs.map((d) => d.entry);
  }

  async createGeneration(): Promise<number> {
    const before = await this.stateDocument();
    const generation = before.next;
    // Only the rebuild lease holder gets here, so read-then-write is not racing another rebuild.
    // Field by field, never the whole `checkpoints` object: the live runner may move the live
    // checkpoint meanwhile, and rewriting it from `before` would set it back.
    const retired = Object.keys(before.checkpoints).filter((key) => key !== `g${before.live}`);
    const update = {
      $set: { next: generation + 1, [checkpointField(generation)]: START_TEXT },
      ...(retired.length > 0 ? { $unset: Object.fromEntries(retired.map((key): [string, ''] => [`checkpoints.${key}`, ''])) } : {}),
    };
    const updated = await this.states.updateOne({ _id: STATE_ID, next: generation }, update);
    if (updated.matchedCount !== 1) throw new Error('activity feed: another rebuild created a generation at the same time');
    await this.dropRetired();
    await this.ensureIndexes(generation);
    return generation;
  }

  async switchLive(generation: number): Promise<void> {
    const before = await this.stateDocument();
    const updated = await this.states.updateOne(
      { _id: STATE_ID, live: before.live },
      { $set: { live: generation }, $unset: { [checkpointField(before.live)]: '' } },
    );
    if (updated.matchedCount !== 1) throw new Error('activity feed: the live generation changed during the switch');
    await this.dropRetired();
  }

  /** Collections of generations that have no checkpoint any more (neither live nor being built). */
  private async dropRetired(): Promise<void> {
    const { checkpoints } = await this.stateDocument();
    const collections = await this.db.listCollections({}, { nameOnly: true }).toArray();
    for (const { name } of collections) {
      if (name.startsWith(ENTRIES_PREFIX) && !(`g${name.slice(ENTRIES_PREFIX.length)}` in checkpoints)) {
        await this.db.collection(name).drop().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
