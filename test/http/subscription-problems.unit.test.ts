import { describe, expect, it } from 'vitest';
import type { SubscriptionCommandError } from '../../src/application/subscriptions/subscription-command-handlers.js';
import type { TestClockError } from '../../src/domain/test-clock/test-clock.js';
import { MAX_ADVANCE_MS } from '../../src/domain/test-clock/test-clock.js';
import { isRetryableOutcome } from '../../src/infrastructure/http/command-error-problems.js';
import { problemStatus } from '../../src/infrastructure/http/problem.js';
import { problemForSubscriptionError, problemForTestClockError } from '../../src/infrastructure/http/subscription-problems.js';

const SUB = 'sub_01JD3Q4V5W6X7Y8Z9A0B1C2D3E';
const CLOCK = 'clock_01JD3Q4V5W6X7Y8Z9A0B1C2D3E';

/** Every SubscriptionCommandError code, with the status and problem code it answers. */
const subscriptionCases: [SubscriptionCommandError, number, string][] = [
  [{ code: 'subscription_not_found', subscriptionId: SUB }, 404, 'subscription_not_found'],
  [{ code: 'test_clock_not_found', testClockId: CLOCK }, 404, 'test_clock_not_found'],
  [{ code: 'subscription_already_exists', subscriptionId: SUB }, 409, 'subscription_already_exists'],
  [{ code: 'subscription_ended', subscriptionId: SUB, status: 'canceled' }, 409, 'subscription_ended'],
  [{ code: 'illegal_subscription_transition', subscriptionId: SUB, from: 'incomplete', command: 'PauseSubscription' }, 409, 'illegal_subscription_transition'],
  [{ code: 'subscription_not_due', subscriptionId: SUB, dueAt: '2026-02-15T12:00:00.000Z' }, 409, 'subscription_not_due'],
  [{ code: 'concurrency_conflict', attempts: 5 }, 409, 'concurrency_conflict'],
  [{ code: 'revision_mismatch', expected: '1', actual: '2' }, 412, 'revision_mismatch'],
  [{ code: 'subscription_currency_mismatch', subscriptionId: SUB, currency: 'USD', requested: 'EUR' }, 422, 'subscription_currency_mismatch'],
  [{ code: 'invalid_trial', message: 'trialDays must be an integer from 1 to 730' }, 422, 'invalid_trial'],
  [{ code: 'customer_forbidden', customerId: 'cus_other' }, 403, 'forbidden'],
];

const clockCases: [TestClockError | { code: 'concurrency_conflict' }, number][] = [
  [{ code: 'test_clock_not_found', testClockId: CLOCK }, 404],
  [{ code: 'test_clock_already_exists', testClockId: CLOCK }, 409],
  [{ code: 'test_clock_advancing', testClockId: CLOCK, to: '2026-03-01T00:00:00.000Z' }, 409],
  [{ code: 'concurrency_conflict' }, 409],
  [{ code: 'test_clock_backwards', testClockId: CLOCK, frozenTime: '2026-03-01T00:00:00.000Z' }, 422],
  [{ code: 'test_clock_advance_too_far', testClockId: CLOCK, maxMs: MAX_ADVANCE_MS }, 422],
];

describe('problemForSubscriptionError', () => {
  it.each(subscriptionCases)('%o → %i %s', (error, status, code) => {
    const spec = problemForSubscriptionError(error);
    expect(spec.code).toBe(code);
    expect(problemStatus(spec.code)).toBe(status);
    expect(spec.detail.length).toBeGreaterThan(20);
  });

  it('says what was refused in the API\'s words, and names the field where there is one', () => {
    expect(problemForSubscriptionError({ code: 'illegal_subscription_transition', subscriptionId: SUB, from: 'incomplete', command: 'PauseSubscription' }).detail).toBe(
      'Cannot pause a subscription whose status is incomplete.',
    );
    expect(problemForSubscriptionError({ code: 'subscription_currency_mismatch', subscriptionId: SUB, currency: 'USD', requested: 'EUR' }).errors).toEqual([
      { path: 'price.currency', message: 'must be USD' },
    ]);
    expect(problemForSubscriptionError({ code: 'revision_mismatch', expected: '1', actual: null }).detail).toContain('revision none');
  });

  it('only a lost race is worth retrying with the same key', () => {
    for (const [error] of subscriptionCases) {
      const spec = problemForSubscriptionError(error);
      expect(isRetryableOutcome(problemStatus(spec.code), error.code), error.code).toBe(error.code === 'concurrency_conflict');
    }
  });
});

describe('problemForTestClockError', () => {
  it.each(clockCases)('%o → %i', (error, status) => {
    const spec = problemForTestClockError(error);
    expect(spec.code).toBe(error.code);
    expect(problemStatus(spec.code)).toBe(status);
  });

  it('an advance too far says how far is allowed; one while another runs says to retry', () => {
    expect(problemForTestClockError({ code: 'test_clock_advance_too_far', testClockId: CLOCK, maxMs: MAX_ADVANCE_MS })).toMatchObject({ extensions: { maxDays: 732 } });
    expect(problemForTestClockError({ code: 'test_clock_advancing', testClockId: CLOCK, to: 'x' }).retryAfterSeconds).toBe(1);
  });
});
