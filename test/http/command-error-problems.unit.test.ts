import { describe, expect, it } from 'vitest';
import type { PaymentCommandError } from '../../src/application/payments/payment-command-errors.js';
import { isRetryableOutcome, problemForCommandError } from '../../src/infrastructure/http/command-error-problems.js';
import { problemDocument, problemStatus, problemType } from '../../src/infrastructure/http/problem.js';

const cases: [PaymentCommandError, number][] = [
  [{ code: 'payment_not_found', paymentId: 'pay_x' }, 404],
  [{ code: 'payment_already_exists', paymentId: 'pay_x' }, 409],
  [{ code: 'illegal_transition', from: 'canceled', command: 'capture' }, 409],
  [{ code: 'concurrency_conflict', attempts: 5 }, 409],
  [{ code: 'revision_mismatch', expected: '1', actual: '2' }, 412],
  [{ code: 'capture_exceeds_authorized', requested: 10, capturable: 5 }, 422],
  [{ code: 'invalid_amount', message: 'amount must be at least 1 minor unit' }, 422],
  [{ code: 'provider_invalid_request', param: 'paymentMethod', message: 'No such PaymentMethod' }, 422],
  [{ code: 'provider_failed', providerCode: 'resource_missing', message: 'No such PaymentIntent' }, 502],
  [{ code: 'provider_unavailable', message: 'connect ECONNREFUSED 10.0.0.1:443' }, 503],
];

describe('problemForCommandError', () => {
  it.each(cases)('%o → %i', (error, status) => {
    const spec = problemForCommandError(error);
    expect(spec.code).toBe(error.code);
    expect(problemStatus(spec.code)).toBe(status);
    expect(spec.detail.length).toBeGreaterThan(0);
  });

  it('names the field for field-shaped errors', () => {
    expect(problemForCommandError({ code: 'provider_invalid_request', param: 'paymentMethod', message: 'm' }).errors).toEqual([{ path: 'paymentMethod', message: 'm' }]);
    expect(problemForCommandError({ code: 'capture_exceeds_authorized', requested: 10, capturable: 5 }).errors?.[0]?.path).toBe('amount');
  });

  it('asks for a retry on provider_unavailable, and does not leak the provider\'s words', () => {
    const spec = problemForCommandError({ code: 'provider_unavailable', message: 'connect ECONNREFUSED 10.0.0.1:443' });
    expect(spec.retryAfterSeconds).toBeGreaterThan(0);
    expect(spec.detail).not.toContain('10.0.0.1');
  });

  it('reports the current revision on revision_mismatch', () => {
    expect(problemForCommandError({ code: 'revision_mismatch', expected: '1', actual: '2' }).extensions).toEqual({ expectedRevision: '1', currentRevision: '2' });
  });

  it('keeps outcomes except 5xx and concurrency conflicts', () => {
    expect(isRetryableOutcome(201, undefined)).toBe(false);
    expect(isRetryableOutcome(422, 'capture_exceeds_authorized')).toBe(false);
    expect(isRetryableOutcome(412, 'revision_mismatch')).toBe(false);
    expect(isRetryableOutcome(409, 'concurrency_conflict')).toBe(true);
    expect(isRetryableOutcome(503, 'provider_unavailable')).toBe(true);
    expect(isRetryableOutcome(500, undefined)).toBe(true);
  });
});

describe('problemDocument', () => {
  it('is RFC 9457 shaped, with the standard members winning over extensions', () => {
    const doc = problemDocument(
      { code: 'illegal_transition', detail: 'd', extensions: { status: 'canceled', paymentStatus: 'canceled' }, errors: [{ path: 'a', message: 'b' }] },
      { instance: '/v1/payments/x/capture', requestId: 'r1' },
    );
    expect(doc).toEqual({
      type: problemType('illegal_transition'),
      title: expect.any(String),
      status: 409,
      detail: 'd',
      instance: '/v1/payments/x/capture',
      code: 'illegal_transition',
      requestId: 'r1',
      paymentStatus: 'canceled',
      errors: [{ path: 'a', message: 'b' }],
    });
    expect(doc.type).toBe('https://ledger.dev/problems/illegal_transition');
  });
});
