import type { PositionedProjectionChange, Projection } from '../projection.js';
import { ProjectionEventError } from '../projection.js';
import { describeError } from '../logger.js';
import { ACTIVITY_EVENT_TYPES, activityRecordOf } from './activity-entries.js';

/** The realtime change type of a timeline entry; its data is the entry as GET /v1/customers/:id/activity shows it. */
export const ACTIVITY_CHANGE_TYPE = 'activity';

/*
 * Timeline entries reach `customer:<id>` subscribers through the ordinary projection path,
 * not through the feed's own loop: the realtime feed is the `realtime_changes` table in
 * PostgreSQL, and a projection batch writes its rows in the same transaction as its
 * checkpoint (docs/architecture.md, "Realtime"), so each entry is announced exactly once
 * whatever happens to MongoDB. This projection has no tables; the entry is the same pure
 * mapping the feed stores, so the change's data equals what the feed serves. The cost: a
 * subscriber may hear of an entry a moment before GET /v1/customers/:id/activity shows it.
 */
export const activityRealtimeProjection: Projection = {
  name: 'activity_realtime',
  version: 1,
  eventTypes: ACTIVITY_EVENT_TYPES,
  schemaSql: 'SELECT 1',
  applyBatch(_sql, events) {
    const changes: PositionedProjectionChange[] = [];
    for (const event of events) {
      let record;
      try {
        record = activityRecordOf(event);
      } catch (error) {
        throw new ProjectionEventError(event, describeError(error));
      }
      if (record) changes.push({ topics: [`customer:${record.customerId}`], type: ACTIVITY_CHANGE_TYPE, data: record.entry, position: event.position });
    }
    return Promise.resolve(changes);
  },
  async apply(sql, event) {
    return (await this.applyBatch!(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
