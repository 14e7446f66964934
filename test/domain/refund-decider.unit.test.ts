import { describe, expect, it } from 'vitest';
import type { RefundEvent } from '../../src/domain/refund/index.js';
import { RefundEventNotApplicable, decideRefund, evolveRefund, foldRefund, upcastRefundEvent } from '../../src/domain/refund/index.js';
import { REFUND_ID, refundId, refundRequested } from './refund-fixtures.js';

const succeeded: RefundEvent = { type: 'RefundSucceeded', data: { ...refundRequested().data, providerRefundId: 're_sim_1' } };
const { reason: _r, metadata: _m, ...reference } = refundRequested().data;
const failed: RefundEvent = { type: 'RefundFailed', data: { ...reference, providerRefundId: 're_sim_1', failureReason: 'expired_or_canceled_card' } };

describe('Refund decider', () => {
  it('given nothing, when requested, then the refund is pending', () => {
    const result = decideRefund(foldRefund([]), { type: 'RequestRefund', request: refundRequested().data });
    expect(result).toEqual({ ok: true, value: [refundRequested()] });
    expect(foldRefund([refundRequested()])).toMatchObject({ status: 'pending', amount: 1_000, providerRefundId: null, failureReason: null });
  });

  it('a second request is refused', () => {
    expect(decideRefund(foldRefund([refundRequested()]), { type: 'RequestRefund', request: refundRequested().data })).toMatchObject({
      ok: false,
      error: { code: 'refund_already_exists' },
    });
  });

  it('pending → succeeded, carrying the processor reference', () => {
    const r = decideRefund(foldRefund([refundRequested()]), { type: 'RecordRefundOutcome', refundId: REFUND_ID, outcome: { status: 'succeeded', providerRefundId: 're_sim_1' } });
    expect(r).toEqual({ ok: true, value: [{ type: 'RefundSucceeded', data: { ...reference, providerRefundId: 're_sim_1' } }] });
  });

  it('pending → failed with the failure reason', () => {
    const outcome = { status: 'failed', providerRefundId: 're_sim_1', failureReason: 'expired_or_canceled_card' } as const;
    expect(decideRefund(foldRefund([refundRequested()]), { type: 'RecordRefundOutcome', refundId: REFUND_ID, outcome })).toEqual({ ok: true, value: [failed] });
    expect(foldRefund([refundRequested(), failed])).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
  });

  it('pending → canceled', () => {
    expect(decideRefund(foldRefund([refundRequested()]), { type: 'CancelRefund', refundId: REFUND_ID })).toEqual({
      ok: true,
      value: [{ type: 'RefundCanceled', data: reference }],
    });
  });

  it('the same outcome again is no event; another outcome is refused: terminal stays terminal', () => {
    const done = foldRefund([refundRequested(), succeeded]);
    expect(decideRefund(done, { type: 'RecordRefundOutcome', refundId: REFUND_ID, outcome: { status: 'succeeded', providerRefundId: 're_sim_1' } })).toEqual({ ok: true, value: [] });
    expect(decideRefund(done, { type: 'CancelRefund', refundId: REFUND_ID })).toMatchObject({ ok: false, error: { code: 'refund_already_final', status: 'succeeded' } });
  });

  it('an outcome for a refund never requested is refused by decide and thrown by evolve', () => {
    expect(decideRefund(foldRefund([]), { type: 'CancelRefund', refundId: REFUND_ID })).toMatchObject({ ok: false, error: { code: 'refund_not_found' } });
    expect(() => evolveRefund(foldRefund([]), succeeded)).toThrow(RefundEventNotApplicable);
    expect(() => foldRefund([refundRequested(), succeeded, failed])).toThrow(/already succeeded/);
    expect(() => foldRefund([refundRequested(), { ...succeeded, data: { ...succeeded.data, refundId: refundId(9) } }])).toThrow(RefundEventNotApplicable);
  });

  it('upcast refuses unknown types, future versions and bad ids', () => {
    expect(upcastRefundEvent('RefundRequested', refundRequested().data, 1)).toEqual(refundRequested());
    expect(() => upcastRefundEvent('PaymentCaptured', {}, 1)).toThrow(/not a refund event/);
    expect(() => upcastRefundEvent('RefundRequested', refundRequested().data, 2)).toThrow(/newer/);
    expect(() => upcastRefundEvent('RefundRequested', { ...refundRequested().data, refundId: 'pay_x' }, 1)).toThrow(/refund id/);
  });
});
