import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Position } from '../../src/application/ports/position.js';
import { formatPosition } from '../../src/application/ports/position.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * `?minPosition=` on the refund queries waits for the right read models, bounded, and
 * answers 503 read_model_behind with Retry-After when they do not get there in time:
 * a refund by id or a list waits for `refunds`; a payment's refunds for `payments` (which
 * says whether the payment exists) and then `refunds`.
 */

let h: Harness;
let behind = false;
const waitedFor: [string, string][] = [];

beforeAll(async () => {
  h = await startHarness('http_refund_wait', {
    limits: { minPositionWaitMs: 50 },
    wrapReadModels: (readModels) => ({
      status: () => readModels.status(),
      async waitForPosition(projection: string, position: Position, timeoutMs: number) {
        waitedFor.push([projection, formatPosition(position)]);
        return behind ? false : readModels.waitForPosition(projection, position, timeoutMs);
      },
    }),
  });
});
afterAll(async () => {
  await h?.close();
});

describe('minPosition on refund queries', () => {
  it('waits for the refunds read model, and is 503 read_model_behind when it does not get there in time', async () => {
    behind = true;
    const created = await h.request('POST', '/v1/payments', { body: createBody() });
    const paymentId = created.payment.id;
    const cases: [string, string[]][] = [
      ['/v1/refunds/re_01JD3Q4V5W6X7Y8Z9A0B1C2D3E?minPosition=7.7', ['refunds']],
      ['/v1/refunds?minPosition=7.7', ['refunds']],
      [`/v1/payments/${paymentId}/refunds?minPosition=7.7`, ['payments']],
    ];
    for (const [path, projections] of cases) {
      waitedFor.length = 0;
      const res = await h.request('GET', path);
      expect(res.status, path).toBe(503);
      expect(res.problem.code).toBe('read_model_behind');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(waitedFor).toEqual(projections.map((p) => [p, '7.7']));
    }
  });

  it('a payment\'s refunds wait for the payments read model, then the refunds one', async () => {
    behind = false;
    waitedFor.length = 0;
    const created = await h.request('POST', '/v1/payments', { body: createBody() });
    const position = created.headers.get('ledger-position')!;
    const res = await h.request('GET', `/v1/payments/${created.payment.id}/refunds?minPosition=${position}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ data: [], nextCursor: null });
    expect(waitedFor).toEqual([
      ['payments', position],
      ['refunds', position],
    ]);
  });
});
