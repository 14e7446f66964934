import type { SubscriptionCommandError } from '../../application/subscriptions/subscription-command-handlers.js';
import type { TestClockError } from '../../domain/test-clock/test-clock.js';
import type { ProblemSpec } from './problem.js';

/**
 * Every way a subscription or test-clock command can be refused, as the problem the client
 * sees (docs/architecture.md, "Subscriptions"). The switches are exhaustive, so a new error
 * code fails to compile here until someone decides its status.
 */
export function problemForSubscriptionError(error: SubscriptionCommandError): ProblemSpec {
  switch (error.code) {
    case 'subscription_not_found':
      return { code: 'subscription_not_found', detail: `No subscription has the id ${error.subscriptionId}.` };
    case 'subscription_already_exists':
      return { code: 'subscription_already_exists', detail: `A subscription with the id ${error.subscriptionId} already exists.` };
    case 'subscription_ended':
      return {
        code: 'subscription_ended',
        detail: `Subscription ${error.subscriptionId} is ${error.status}; an ended subscription cannot be changed. Create a new one.`,
        extensions: { subscriptionStatus: error.status },
      };
    case 'illegal_subscription_transition':
      return {
        code: 'illegal_subscription_transition',
        detail: `Cannot ${commandVerb(error.command)} a subscription whose status is ${error.from}.`,
        extensions: { subscriptionStatus: error.from },
      };
    case 'subscription_currency_mismatch':
      return {
        code: 'subscription_currency_mismatch',
        detail: `The subscription is billed in ${error.currency}; a new price must be too (asked ${error.requested}).`,
        errors: [{ path: 'price.currency', message: `must be ${error.currency}` }],
        extensions: { currency: error.currency },
      };
    case 'subscription_not_due':
      return { code: 'subscription_not_due', detail: `Nothing is due on subscription ${error.subscriptionId} before ${error.dueAt}.`, extensions: { dueAt: error.dueAt } };
    case 'invalid_trial':
      return { code: 'invalid_trial', detail: error.message, errors: [{ path: 'trialDays', message: error.message }] };
    case 'customer_forbidden':
      return {
        code: 'forbidden',
        detail: `This credential may not act for customer ${error.customerId}.`,
        errors: [{ path: 'customerId', message: 'must be the customer the credential belongs to' }],
      };
    case 'test_clock_not_found':
      return { code: 'test_clock_not_found', detail: `No test clock has the id ${error.testClockId}.`, errors: [{ path: 'testClock', message: 'names no test clock' }] };
    case 'concurrency_conflict':
      return { code: 'concurrency_conflict', detail: `The subscription kept changing during ${error.attempts} attempts; retry the request.`, retryAfterSeconds: 1 };
    case 'revision_mismatch':
      return {
        code: 'revision_mismatch',
        detail: `If-Match expected revision ${error.expected}, but the subscription is at revision ${error.actual ?? 'none'}.`,
        extensions: { expectedRevision: error.expected, currentRevision: error.actual },
      };
  }
}

export function problemForTestClockError(error: TestClockError | { readonly code: 'concurrency_conflict' }): ProblemSpec {
  switch (error.code) {
    case 'test_clock_not_found':
      return { code: 'test_clock_not_found', detail: `No test clock has the id ${error.testClockId}.` };
    case 'test_clock_already_exists':
      return { code: 'test_clock_already_exists', detail: `A test clock with the id ${error.testClockId} already exists.` };
    case 'test_clock_advancing':
      return {
        code: 'test_clock_advancing',
        detail: `Test clock ${error.testClockId} is advancing to ${error.to}; retry when it is ready (or ask for that same advance, which answers when it is done).`,
        extensions: { advancingTo: error.to },
        retryAfterSeconds: 1,
      };
    case 'test_clock_backwards':
      return {
        code: 'test_clock_backwards',
        detail: `Test clock ${error.testClockId} is at ${error.frozenTime}; it only moves forward.`,
        errors: [{ path: 'frozenTime', message: `must be later than ${error.frozenTime}` }],
        extensions: { frozenTime: error.frozenTime },
      };
    case 'test_clock_advance_too_far': {
      const days = Math.floor(error.maxMs / 86_400_000);
      return {
        code: 'test_clock_advance_too_far',
        detail: `One advance moves a test clock at most ${days} days; advance in steps.`,
        errors: [{ path: 'frozenTime', message: `must be at most ${days} days after the clock's frozen time` }],
        extensions: { maxDays: days },
      };
    }
    case 'concurrency_conflict':
      return { code: 'concurrency_conflict', detail: 'The test clock kept changing; retry the request.', retryAfterSeconds: 1 };
  }
}

/** The decider's command names as the API says them. */
function commandVerb(command: string): string {
  switch (command) {
    case 'PauseSubscription':
      return 'pause';
    case 'ResumeSubscription':
      return 'resume';
    case 'ChangePrice':
      return 'change the price of';
    case 'CancelSubscription':
      return 'cancel';
    case 'UpdateSubscription':
      return 'update';
    default:
      return command;
  }
}
