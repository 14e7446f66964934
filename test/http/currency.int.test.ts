import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * Stripe conventions for currency, through the real app: `usd` and `USD` are one currency,
 * normalised on the way in, answered in upper case (ISO 4217 as stored); a real ISO 4217
 * code that is no currency for payments (XXX and its kin) is refused for what it is.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_currency');
});
afterAll(async () => {
  await h?.close();
});

describe('currency codes in either case', () => {
  it.each(['usd', 'USD', 'Usd', 'jpy', 'bhd'])('%s is accepted, stored and answered in upper case', async (currency) => {
    const res = await h.request('POST', '/v1/payments', { body: createBody({ currency }) });
    expect(res.status, res.text).toBe(201);
    expect(res.payment.currency).toBe(currency.toUpperCase());
    const stored = await h.db.pool.query<{ currency: string }>(`SELECT data->>'currency' AS currency FROM events WHERE stream_id = $1`, [`payment-${res.payment.id}`]);
    // Intent first: the request, the authorization, the capture.
    expect(stored.rows.map((r) => r.currency)).toEqual([currency.toUpperCase(), currency.toUpperCase(), currency.toUpperCase()]);
    const read = await h.request('GET', `/v1/payments/${res.payment.id}`);
    expect(read.payment.currency).toBe(currency.toUpperCase());
  });

  it('a retry of a lower-case create with its Idempotency-Key replays the upper-case answer byte for byte', async () => {
    const first = await h.request('POST', '/v1/payments', { body: createBody({ currency: 'usd' }), headers: { 'idempotency-key': 'currency-case-1' } });
    const again = await h.request('POST', '/v1/payments', { body: createBody({ currency: 'usd' }), headers: { 'idempotency-key': 'currency-case-1' } });
    expect(first.status).toBe(201);
    expect(first.payment.currency).toBe('USD');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
  });
});

describe('ISO 4217 codes that are not currencies for payments', () => {
  const refused = async (currency: unknown): Promise<string> => {
    const before = await h.countEvents();
    const res = await h.request('POST', '/v1/payments', { body: createBody({ currency }) });
    expect(res.status).toBe(400);
    expect(res.problem.code).toBe('validation_failed');
    expect(await h.countEvents()).toBe(before);
    const errors = res.problem.errors ?? [];
    expect(errors.map((e) => e.path)).toEqual(['currency']);
    return errors[0]!.message;
  };

  it('refuses XXX, in either case, saying it is the code for no currency, not that it is no code', async () => {
    expect(await refused('XXX')).toBe("XXX is the ISO 4217 code for 'no currency' and is not accepted for payments");
    expect(await refused('xxx')).toBe("XXX is the ISO 4217 code for 'no currency' and is not accepted for payments");
  });

  it('refuses the metals, units of account and the testing code likewise', async () => {
    expect(await refused('XAU')).toBe('XAU is the ISO 4217 code for gold and is not accepted for payments');
    expect(await refused('xts')).toBe('XTS is the ISO 4217 code for testing and is not accepted for payments');
    expect(await refused('XDR')).toMatch(/^XDR is the ISO 4217 code for .* and is not accepted for payments$/);
  });

  it('still says that a code which is not ISO 4217 is not one', async () => {
    expect(await refused('zzz')).toBe('ZZZ is not an ISO 4217 currency code');
    expect(await refused('US')).toMatch(/three letters/);
    expect(await refused('ＵＳＤ')).toMatch(/three letters/);
    expect(await refused(840)).toMatch(/ISO 4217/);
  });

  it('documents the convention in /openapi.json', async () => {
    const doc = (await h.request('GET', '/openapi.json')).json as { components: { schemas: Record<string, { properties: Record<string, { description?: string; pattern?: string }> }> } };
    const currency = doc.components.schemas.CreatePaymentRequest!.properties.currency!;
    expect(currency.pattern).toBe('^[A-Za-z]{3}$');
    expect(currency.description).toMatch(/either case.*upper case/);
  });
});
