import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPaymentId } from '../../src/domain/ids.js';
import { decodeIdCursor, encodeIdCursor } from '../../src/projections/id-cursor.js';

const encodeCursor = encodeIdCursor;
const decodeCursor = (cursor: string): string | undefined => decodeIdCursor(cursor, isPaymentId);

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const paymentId = fc.string({ unit: fc.constantFrom(...CROCKFORD), minLength: 26, maxLength: 26 }).map((body) => `pay_${body}`);

describe('payment list cursor', () => {
  it('round-trips every payment id and looks opaque (base64url)', () => {
    fc.assert(
      fc.property(paymentId, (id) => {
        const cursor = encodeCursor(id);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(cursor).not.toContain(id);
        expect(decodeCursor(cursor)).toBe(id);
      }),
    );
  });

  it('rejects anything it did not issue', () => {
    const forged = (body: unknown): string => Buffer.from(JSON.stringify(body)).toString('base64url');
    for (const bad of [
      '',
      'not a cursor',
      '!!!',
      'x'.repeat(300),
      Buffer.from('{"v":1,').toString('base64url'),
      forged({ v: 2, before: 'pay_01HZX3K8Q5W7G9T2M4N6P8R0SA' }),
      forged({ v: 1, before: 'pay_short' }),
      forged({ v: 1, before: "pay_01HZX3K8Q5W7G9T2M4N6P8R0S'" }),
      forged({ v: 1 }),
      forged(['pay_01HZX3K8Q5W7G9T2M4N6P8R0SA']),
      forged(null),
    ]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
    fc.assert(fc.property(fc.string(), (s) => decodeCursor(s) === undefined || /^pay_/.test(decodeCursor(s)!)));
  });
});
