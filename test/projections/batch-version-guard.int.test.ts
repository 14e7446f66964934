import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { position } from '../../src/application/ports/position.js';
import { ok } from '../../src/domain/result.js';
import type { ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase } from './support/postgres-setup.js';
import { recordingProjection } from './support/test-projections.js';

let t: ProjectionTestDatabase;

beforeAll(async () => {
  t = await projectionTestDatabase('batch_version_guard');
});

afterAll(async () => {
  await t?.drop();
});

describe('a batch commit', () => {
  it('writes nothing when the stored rows are another version than the runner’s handler', async () => {
    const { store } = t.instance('a');
    const projection = recordingProjection('guarded', { version: 1 });
    const record = await store.register(projection);
    // A rebuild of version 2 switched in at the same checkpoint.
    await t.db.pool.query(`UPDATE projection_checkpoints SET version = 2 WHERE name = 'guarded'`);
    const batch = { name: 'guarded', schema: 'rm_guarded', from: record.checkpoint, to: position(5n, 5n) };
    let ran = false;
    const stale = await store.commitBatch({ ...batch, version: 1 }, () => {
      ran = true;
      return Promise.resolve(ok([]));
    });
    expect(stale.kind).toBe('checkpoint_moved');
    expect(ran).toBe(false);
    const current = await store.commitBatch({ ...batch, version: 2 }, () => Promise.resolve(ok([])));
    expect(current).toEqual({ kind: 'committed', checkpoint: position(5n, 5n) });
  });
});
