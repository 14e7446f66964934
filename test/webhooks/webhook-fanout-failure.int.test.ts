import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { formatPosition } from '../../src/application/ports/position.js';
import { WEBHOOK_FANOUT_NAME } from '../../src/infrastructure/webhooks/webhook-fanout.js';
import type { ProjectionStatus } from '../../src/projections/status.js';
import { readProjectionStatuses } from '../../src/projections/status.js';
import type { WebhookRig } from './support/webhook-rig.js';
import { webhookRig } from './support/webhook-rig.js';

/*
 * A fan-out batch that throws is retried from the checkpoint; meanwhile its record says so
 * the way a failed projection's does (what `GET /v1/admin/projections` and `ledger
 * projections status` read), and the next batch that gets through clears it.
 */

let rig: WebhookRig;
let failNext = 0;

beforeAll(async () => {
  rig = await webhookRig('webhooks_fanout_failure', {
    payloads: (real) => ({
      build: (events) => {
        if (failNext > 0) {
          failNext--;
          return Promise.reject(new Error('payload source unavailable'));
        }
        return real.build(events);
      },
    }),
  });
});

afterAll(async () => {
  await rig?.close();
});

async function visibleEvent(after: Position): Promise<RecordedEvent> {
  const until = Date.now() + 10_000;
  for (;;) {
    const [event] = await rig.eventStore.readAll({ after, maxCount: 1 });
    if (event) return event;
    if (Date.now() > until) throw new Error('the payment never showed in the log');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fanoutStatus(): Promise<ProjectionStatus> {
  const statuses = await readProjectionStatuses({ store: rig.projectionStore, eventStore: rig.eventStore, projections: [] });
  const status = statuses.find((s) => s.name === WEBHOOK_FANOUT_NAME);
  if (!status) throw new Error('no webhook_fanout record');
  return status;
}

describe('a failing fan-out batch', () => {
  it('shows on the webhook_fanout record as failed, at the first event of the stuck batch, until a batch gets through', async () => {
    const created = await rig.endpoints.create({ url: 'http://127.0.0.1:9/hooks', events: ['payment.*'] }, { actor: 'test', correlationId: 'webhook-test' });
    if (!created.ok) throw new Error(JSON.stringify(created.error));
    await rig.pay(1_500);
    // The log shows an event only once every older transaction (in any database of the
    // server) has ended: wait until it does, or the fan-out would just find nothing to do.
    const first = await visibleEvent(created.value.endpoint.after);

    failNext = 1;
    await expect(rig.fanout.runOnce()).rejects.toThrow('payload source unavailable');
    const failed = await fanoutStatus();
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('payload source unavailable');
    expect(failed.failedEventId).toBe(first.id);
    expect(failed.failedPosition).toBe(formatPosition(first.position));
    // Nothing was written: the checkpoint stayed before the batch.
    expect((await rig.store.deliveries({ endpointId: created.value.endpoint.id, limit: 10 })).length).toBe(0);

    const step = await rig.fanout.runOnce();
    expect(step).toMatchObject({ kind: 'committed', deliveries: 1 });
    const cleared = await fanoutStatus();
    expect(cleared.status).not.toBe('failed');
    expect([cleared.error, cleared.failedPosition, cleared.failedEventId]).toEqual([null, null, null]);
  });
});
