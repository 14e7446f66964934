import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { matchesPattern, patternProblem } from '../../src/application/webhooks/event-patterns.js';
import { FIRST_RETRY_MS, GIVE_UP_AFTER_MS, MAX_RETRY_MS, afterFailure, retryDelayMs } from '../../src/application/webhooks/retry-schedule.js';
import { WEBHOOK_EVENT_MAP, WEBHOOK_EVENT_TYPES } from '../../src/application/webhooks/webhook-event-types.js';
import { DISPUTE_EVENT_TYPES } from '../../src/domain/dispute/index.js';
import { PAYMENT_EVENT_TYPES } from '../../src/domain/payment/index.js';
import { REFUND_EVENT_TYPES } from '../../src/domain/refund/index.js';
import { INVOICE_EVENT_TYPES } from '../../src/domain/invoice/index.js';
import { SUBSCRIPTION_EVENT_TYPES } from '../../src/domain/subscription/index.js';
import { signatureHeader } from '../../src/infrastructure/webhooks/signature.js';

type Verify = (rawBody: string | Buffer, header: string | undefined, secret: string, options?: { toleranceSeconds?: number; now?: number }) => boolean;
const snippetUrl = pathToFileURL(new URL('../../docs/webhook-verification-snippet.js', import.meta.url).pathname).href;
const { verifyLedgerSignature } = (await import(snippetUrl)) as { verifyLedgerSignature: Verify };

describe('event patterns', () => {
  it('match exact types, a resource wildcard and everything', () => {
    expect(matchesPattern('payment.succeeded', 'payment.succeeded')).toBe(true);
    expect(matchesPattern('payment.succeeded', 'payment.failed')).toBe(false);
    expect(matchesPattern('refund.*', 'refund.created')).toBe(true);
    expect(matchesPattern('refund.*', 'payment.refunded')).toBe(false);
    expect(matchesPattern('*', 'invoice.paid')).toBe(true);
  });

  it('are refused when malformed or naming nothing we send', () => {
    expect(patternProblem('payment.succeeded')).toBeUndefined();
    expect(patternProblem('refund.*')).toBeUndefined();
    expect(patternProblem('*')).toBeUndefined();
    expect(patternProblem('payment.succeded')).toMatch(/matches no event type/);
    expect(patternProblem('charge.*')).toMatch(/matches no event type/);
    expect(patternProblem('payment.**')).toMatch(/must be/);
    expect(patternProblem('Payment.Succeeded')).toMatch(/must be/);
  });
});

describe('the event-type table', () => {
  it('names only domain events that exist, and every type it can send is in the catalogue', () => {
    const domain = new Set<string>([...PAYMENT_EVENT_TYPES, ...REFUND_EVENT_TYPES, ...SUBSCRIPTION_EVENT_TYPES, ...INVOICE_EVENT_TYPES, ...DISPUTE_EVENT_TYPES]);
    for (const name of Object.keys(WEBHOOK_EVENT_MAP)) expect(domain.has(name), name).toBe(true);
    expect(WEBHOOK_EVENT_TYPES).toEqual(expect.arrayContaining(['payment.succeeded', 'payment.requires_capture', 'payment.refunded', 'refund.created', 'subscription.created', 'invoice.paid', 'invoice.uncollectible', 'dispute.created', 'dispute.closed']));
    for (const type of WEBHOOK_EVENT_TYPES) expect(type).toMatch(/^[a-z_]+\.[a-z_]+$/);
  });
});

describe('the retry schedule', () => {
  it('doubles from 30 s with ±20 % jitter, capped at 12 h', () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(FIRST_RETRY_MS);
    expect(retryDelayMs(2, () => 0.5)).toBe(2 * FIRST_RETRY_MS);
    expect(retryDelayMs(1, () => 0)).toBe(0.8 * FIRST_RETRY_MS);
    expect(retryDelayMs(1, () => 1)).toBe(1.2 * FIRST_RETRY_MS);
    expect(retryDelayMs(40, () => 0.5)).toBe(MAX_RETRY_MS);
  });

  it('retries for at least 3 days, then gives up', () => {
    const first = new Date('2026-01-01T00:00:00Z');
    let now = first;
    let attempts = 0;
    for (;;) {
      attempts++;
      // The fastest schedule (all jitter low) still keeps going for 3 days.
      const next = afterFailure(attempts, first, now, () => 0);
      if (next.kind === 'give_up') break;
      now = next.at;
      expect(attempts).toBeLessThan(100);
    }
    expect(now.getTime() - first.getTime()).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS);
    expect(attempts).toBeGreaterThan(10);
  });
});

describe('the README verification snippet', () => {
  const secret = 'whsec_test_secret';
  const body = JSON.stringify({ id: 'evt_1', type: 'payment.succeeded', createdAt: '2026-01-01T00:00:00.000Z', data: { amount: 1 } });
  const t = 1_767_225_600;

  it('accepts what we sign, with one secret or during a rotation with either', () => {
    expect(verifyLedgerSignature(body, signatureHeader([secret], t, body), secret, { now: t })).toBe(true);
    const rotating = signatureHeader(['whsec_new', secret], t, body);
    expect(verifyLedgerSignature(body, rotating, secret, { now: t })).toBe(true);
    expect(verifyLedgerSignature(body, rotating, 'whsec_new', { now: t })).toBe(true);
    expect(verifyLedgerSignature(Buffer.from(body), rotating, 'whsec_new', { now: t })).toBe(true);
  });

  it('refuses another secret, a changed body, a stale timestamp and garbage', () => {
    const header = signatureHeader([secret], t, body);
    expect(verifyLedgerSignature(body, header, 'whsec_other', { now: t })).toBe(false);
    expect(verifyLedgerSignature(body.replace('1}', '2}'), header, secret, { now: t })).toBe(false);
    expect(verifyLedgerSignature(body, header, secret, { now: t + 301 })).toBe(false);
    expect(verifyLedgerSignature(body, undefined, secret, { now: t })).toBe(false);
    expect(verifyLedgerSignature(body, 't=abc,v1=zz', secret, { now: t })).toBe(false);
    expect(verifyLedgerSignature(body, `t=${t},v1=${'0'.repeat(64)}`, secret, { now: t })).toBe(false);
  });

  it('is the 15 lines the README publishes', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../docs/webhook-verification-snippet.js', import.meta.url), 'utf8');
    expect(text.trimEnd().split('\n')).toHaveLength(15);
  });

  it('is, byte for byte, the block the README publishes', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../docs/webhook-verification-snippet.js', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(text);
  });
});
