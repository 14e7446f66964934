import { describe, expect, it } from 'vitest';
import { isPaymentId } from '../../src/domain/ids.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';

const ids = new SystemIdGenerator();

describe('SystemIdGenerator', () => {
  it('makes valid, time-ordered payment ids', () => {
    const a = ids.deterministic('pay_', 'x', new Date(1_000));
    const b = ids.deterministic('pay_', 'x', new Date(2_000));
    expect(isPaymentId(a) && isPaymentId(b)).toBe(true);
    expect(a < b).toBe(true);
    expect(isPaymentId(ids.next('pay_'))).toBe(true);
  });

  it('is deterministic in its seed', () => {
    expect(ids.deterministic('pay_', 'seed', new Date(5))).toBe(ids.deterministic('pay_', 'seed', new Date(5)));
    expect(ids.deterministic('pay_', 'seed', new Date(5))).not.toBe(ids.deterministic('pay_', 'other', new Date(5)));
    expect(ids.uuidFrom('a')).toBe(ids.uuidFrom('a'));
    expect(ids.uuidFrom('a')).not.toBe(ids.uuidFrom('b'));
    expect(ids.uuidFrom('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
