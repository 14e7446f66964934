import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supportedCurrencies } from '../../src/domain/currency.js';
import { MAX_AMOUNT_MINOR } from '../../src/domain/money.js';
import type { ApiResponse, Harness, RequestOptions } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * Malformed and hostile input at every command endpoint. The invariants: an invalid
 * request is a 4xx application/problem+json (never a 5xx, never a stack or SQL), and it
 * appends no event. Bodies are built by fast-check from a valid body with one to three
 * fields made invalid (by a definition of "invalid" written here, independent of the
 * server's schemas), plus whole bodies that are not a command at all.
 */

const BODY_LIMIT = 256 * 1024;
let h: Harness;
let target: string;
let targetEtag: string;

beforeAll(async () => {
  // Room for 100 KB strings, so they reach validation rather than stopping at the size limit.
  h = await startHarness('http_hostile', { limits: { bodyLimitBytes: BODY_LIMIT } });
  const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual', customerId: 'cus_target' }) });
  expect(created.status).toBe(201);
  target = created.payment.id;
  targetEtag = created.headers.get('etag')!;
});
afterAll(async () => {
  // Every refused capture and cancel left the target payment as it was.
  if (h && target) {
    const after = await h.request('GET', `/v1/payments/${target}`);
    expect(after.payment.status).toBe('requires_capture');
    expect(after.headers.get('etag')).toBe(targetEtag);
  }
  await h?.close();
});

const RUNS = Number(process.env.HOSTILE_RUNS ?? 150);

/** The answer is a well-formed 4xx problem that leaks nothing. */
function expectRefusal(res: ApiResponse): void {
  expect(res.status, res.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
  expect(res.status, res.text.slice(0, 500)).toBeLessThan(500);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = res.problem as { type?: unknown; status?: unknown; code?: unknown; title?: unknown };
  expect(problem.status).toBe(res.status);
  expect(typeof problem.code).toBe('string');
  expect(typeof problem.title).toBe('string');
  // Server internals only: a problem may quote the request back (its path, an unknown payment method).
  expect(res.text).not.toMatch(/\bat [^"]*\.(ts|js):\d+|node_modules|syntax error at|relation "|violates .* constraint|invalid input syntax|Unicode escape|ECONN/);
}

async function refusedWithoutAppending(method: string, path: string, options: RequestOptions): Promise<ApiResponse> {
  const before = await h.countEvents();
  const res = await h.request(method, path, options);
  expectRefusal(res);
  expect(await h.countEvents(), `appended for ${res.status} ${res.text.slice(0, 300)}`).toBe(before);
  return res;
}

// ---- hostile values ---------------------------------------------------------------------

const HUNDRED_KB = 'A'.repeat(100 * 1024);

const hostileStrings = fc.constantFrom(
  "'; DROP TABLE events; --",
  "' OR '1'='1",
  '1; SELECT pg_sleep(10); --',
  "$$; DROP TABLE events; $$",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '\u0000',
  'pm_card_visa\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eRLO',
  '\ufeffBOM',
  'e\u0301',
  '👨‍👩‍👧‍👦',
  '𝔘𝔖𝔇',
  'ＵＳＤ',
  'usd',
  'Usd',
  'USD ',
  ' USD',
  'US\u0000D',
  '{{7*7}}',
  '${7*7}',
  '../../etc/passwd',
  '%00',
  '\r\nSet-Cookie: x=y',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e308',
  '12345678901234567890',
  '9223372036854775808',
  '-1',
  '0x10',
  'null',
  'true',
  '__proto__',
  'constructor',
  '',
  ' ',
  HUNDRED_KB,
);

const hostileNumbers = fc.constantFrom(
  1e308,
  -1e308,
  2 ** 63,
  2 ** 64,
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  MAX_AMOUNT_MINOR + 1,
  -1,
  0,
  -0,
  0.5,
  1.5,
  19.99,
  1e-7,
  Number.MIN_VALUE,
  -(2 ** 31),
);

const hostileStructures = fc.oneof(
  fc.constantFrom<unknown>({}, [], { $ne: null }, { $gt: '' }, ['USD'], [[['deep']]], { toString: 'x' }, { valueOf: 1 }, { length: 3 }, null, true, false),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Anything at all, weighted to the nasty. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileStrings,
  hostileNumbers,
  hostileStructures,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double(),
  fc.integer(),
);

// ---- "invalid", defined here rather than by the server's schemas --------------------

const CURRENCIES = new Set(supportedCurrencies());
const isValidAmount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= MAX_AMOUNT_MINOR;
/** Either case, as Stripe's clients send it; only ASCII letters fold (a full-width or dotless-i look-alike does not). */
const isValidCurrency = (v: unknown): boolean => typeof v === 'string' && /^[A-Za-z]{3}$/.test(v) && CURRENCIES.has(v.toUpperCase());
const isValidCustomerId = (v: unknown): boolean => typeof v === 'string' && /^[A-Za-z0-9_\-.]{1,64}$/.test(v);
/** Anything that is not one of the simulated provider's known cards is refused, by the schema or by the provider (422). */
const isKnownCard = (v: unknown): boolean => typeof v === 'string' && v.startsWith('pm_card_') && !/[^\x21-\x7e]/.test(v);
const isValidCaptureMethod = (v: unknown): boolean => v === 'automatic' || v === 'manual';
const isValidReason = (v: unknown): boolean => typeof v === 'string' && ['requested_by_customer', 'duplicate', 'fraudulent', 'abandoned'].includes(v);
/** No unpaired UTF-16 surrogate (what String.prototype.isWellFormed checks, in ES2024). */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}
const isSafeText = (v: unknown, max: number): boolean =>
  // eslint-disable-next-line no-control-regex
  typeof v === 'string' && v.length <= max && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(v) && isWellFormed(v);

/** Percent-encodes every byte but the unreserved ones (unlike encodeURIComponent, lone surrogates too, as U+FFFD). */
const encodeSegment = (s: string): string =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

const invalidAmount = anyValue.filter((v) => !isValidAmount(v));
const invalidCurrency = anyValue.filter((v) => !isValidCurrency(v));
const invalidCustomerId = anyValue.filter((v) => !isValidCustomerId(v));
const invalidPaymentMethod = anyValue.filter((v) => !isKnownCard(v));
const invalidCaptureMethod = anyValue.filter((v) => !isValidCaptureMethod(v) && v !== undefined);
const invalidDescription = fc
  .oneof(anyValue, fc.string({ minLength: 1001, maxLength: 1200 }), fc.string({ maxLength: 20 }).map((s) => `${s}\u0000`), fc.constant('x\ud800'))
  .filter((v) => !isSafeText(v, 1000) && v !== null);
const invalidMetadata = fc.oneof(
  anyValue.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => !isSafeText(x, 500)) || Object.keys(v).length === 0 ? true : false),
  fc.constantFrom<unknown>(
    { n: 1 },
    { nested: { a: 'b' } },
    { list: ['a'] },
    { '': 'empty key' },
    { 'a[b]': 'brackets' },
    { 'nul\u0000key': 'v' },
    { ['k'.repeat(41)]: 'v' },
    { k: 'v'.repeat(501) },
    { k: 'bad\u0000value' },
    { k: '\udc00' },
    Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])),
  ),
).filter((v) => !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));
const unknownKey = fc.oneof(
  fc.constantFrom('constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString', 'isAdmin', 'status', 'id', '$where', 'customer_id', 'Amount', 'amount ', ''),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

type Mutation = readonly [field: string, value: unknown];

/** One to three fields of a valid body made invalid (or unknown fields added). */
function mutations(fields: Record<string, fc.Arbitrary<unknown>>, known: readonly string[]): fc.Arbitrary<Mutation[]> {
  const one: fc.Arbitrary<Mutation> = fc.oneof(
    ...Object.entries(fields).map(([field, arb]) => arb.map((value): Mutation => [field, value])),
    fc.tuple(unknownKey.filter((k) => !known.includes(k)), anyValue).map(([k, v]): Mutation => [k, v]),
  );
  return fc.array(one, { minLength: 1, maxLength: 3 });
}

/** JSON for a body with `mutations` applied; keys are defined (never assigned) so "__proto__" stays a field. */
function bodyJson(base: Record<string, unknown>, applied: readonly Mutation[]): string {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) Object.defineProperty(body, k, { value: v, enumerable: true, configurable: true, writable: true });
  for (const [k, v] of applied) Object.defineProperty(body, k, { value: v, enumerable: true, configurable: true, writable: true });
  return JSON.stringify(body);
}

const json = (rawBody: string, headers: Record<string, string> = {}): RequestOptions => ({ rawBody, headers: { 'content-type': 'application/json', ...headers } });

const CREATE_FIELDS = ['customerId', 'amount', 'currency', 'paymentMethod', 'captureMethod', 'description', 'metadata'];
const createMutations = mutations(
  {
    customerId: invalidCustomerId,
    amount: invalidAmount,
    currency: invalidCurrency,
    paymentMethod: invalidPaymentMethod,
    captureMethod: invalidCaptureMethod,
    description: invalidDescription,
    metadata: invalidMetadata,
  },
  CREATE_FIELDS,
);

/** Bodies that are not a command object at all. */
const notAnObject = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    '{"amount": 1,}',
    "{'amount': 1}",
    '{"amount": NaN}',
    '{"amount": Infinity}',
    '{"amount": 0x10}',
    '{"amount": 1e400}',
    '{"amount": 12345678901234567890123}',
    '{"__proto__": {"isAdmin": true}}',
    '{"constructor": {"prototype": {"isAdmin": true}}}',
    '{"metadata": {"__proto__": {"polluted": "yes"}}}',
    `{"customerId": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    `[${'1,'.repeat(30_000)}1]`,
    '\u0000',
    'null',
    'true',
    '"a string"',
    '1e308',
  ),
);

/** Headers a client might garble; none of them may turn a refusal into a write or a 5xx. */
const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'idempotency-key': fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), fc.constantFrom("'; DROP TABLE idempotency_keys; --", 'k'.repeat(256))),
    'if-match': fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), fc.constantFrom('"99999999999999999999"', '"-1"', 'W/"0"', '"0", "1"', '*', '"0"')),
    'x-request-id': fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
  },
  { requiredKeys: [] },
);

describe('POST /v1/payments with hostile bodies', () => {
  it('a valid body with one to three fields made invalid: 4xx problem, nothing appended', async () => {
    await fc.assert(
      fc.asyncProperty(createMutations, async (applied) => {
        await refusedWithoutAppending('POST', '/v1/payments', json(bodyJson(createBody(), applied)));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('the same with garbled headers', async () => {
    await fc.assert(
      fc.asyncProperty(createMutations, hostileHeaders, async (applied, headers) => {
        await refusedWithoutAppending('POST', '/v1/payments', json(bodyJson(createBody(), applied), headers));
      }),
      { numRuns: RUNS },
    );
  });

  it('bodies that are not a command object: 4xx problem, nothing appended', async () => {
    await fc.assert(
      fc.asyncProperty(notAnObject, async (raw) => {
        await refusedWithoutAppending('POST', '/v1/payments', json(raw));
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    ['amount 1e308', { amount: 1e308 }],
    ['amount 2^63', { amount: 2 ** 63 }],
    ['amount as a 20-digit string', { amount: '12345678901234567890' }],
    ['amount as a 20-digit number', { amount: Number('12345678901234567890') }],
    ['negative amount', { amount: -500 }],
    ['fractional amount', { amount: 10.5 }],
    ['amount "NaN"', { amount: 'NaN' }],
    ['amount "Infinity"', { amount: 'Infinity' }],
    ['unknown currency', { currency: 'ZZZ' }],
    ['no-currency code in lower case', { currency: 'xxx' }],
    // toUpperCase() would turn these into INR and SEK: only ASCII letters may fold.
    ['dotless-i currency', { currency: '\u0131nr' }],
    ['long-s currency', { currency: '\u017fek' }],
    ['SQL in customerId', { customerId: "'; DROP TABLE events; --" }],
    ['SQL in currency', { currency: "USD'; DROP TABLE events; --" }],
    ['script in customerId', { customerId: '<script>alert(1)</script>' }],
    ['100 KB customerId', { customerId: HUNDRED_KB }],
    ['100 KB description', { description: HUNDRED_KB }],
    ['100 KB paymentMethod', { paymentMethod: HUNDRED_KB }],
    ['object as customerId', { customerId: { $ne: null } }],
    ['array as currency', { currency: ['USD'] }],
    ['null byte in customerId', { customerId: 'cus\u0000' }],
    ['null byte in description', { description: 'hello\u0000world' }],
    ['null byte in paymentMethod', { paymentMethod: 'pm_card_visa\u0000' }],
    ['lone surrogate in description', { description: 'x\ud800' }],
    ['lone surrogate in a metadata key', { metadata: { '\ud800': 'v' } }],
    ['null byte in a metadata value', { metadata: { k: '\u0000' } }],
    ['RTL override in customerId', { customerId: 'cus_\u202e42' }],
    ['full-width currency', { currency: 'ＵＳＤ' }],
    ['SQL as payment method', { paymentMethod: "pm_card_visa' OR '1'='1" }],
    ['constructor key', { constructor: { prototype: { isAdmin: true } } }],
    ['prototype key', { prototype: 'x' }],
  ])('%s', async (_name, overrides) => {
    await refusedWithoutAppending('POST', '/v1/payments', json(bodyJson(createBody(), Object.entries(overrides))));
  });

  it('a payment method that is not an id (script, spaces, punctuation) is a 400 and appends nothing', async () => {
    for (const paymentMethod of ['<script>alert(1)</script>', '!', 'pm card visa', 'pm_', 'tok_visa']) {
      const res = await refusedWithoutAppending('POST', '/v1/payments', json(bodyJson(createBody(), [['paymentMethod', paymentMethod]])));
      expect(res.status).toBe(400);
    }
  });

  it('a well-formed payment method the processor does not know is its 422, and (intent first) only the request and that failure are in the log', async () => {
    const before = await h.countEvents();
    const res = await h.request('POST', '/v1/payments', json(bodyJson(createBody(), [['paymentMethod', 'pm_card_nope']])));
    expectRefusal(res);
    expect(res.status).toBe(422);
    expect(await h.countEvents()).toBe(before + 2);
  });

  it('numbers JSON cannot hold exactly (20 digits, 1e400, -0, 1e-400) are refused', async () => {
    for (const amount of ['12345678901234567890', '1e400', '-1e400', '-0', '0.0', '1e-400', '99999999999999999999999999999999']) {
      await refusedWithoutAppending('POST', '/v1/payments', json(`{"customerId":"cus_n","amount":${amount},"currency":"USD","paymentMethod":"pm_card_nope"}`));
    }
  });

  it('"__proto__" anywhere in the body is refused (no prototype pollution)', async () => {
    for (const raw of [
      '{"customerId":"cus_1","amount":100,"currency":"USD","paymentMethod":"pm_card_visa","__proto__":{"isAdmin":true}}',
      '{"customerId":"cus_1","amount":100,"currency":"USD","paymentMethod":"pm_card_visa","metadata":{"__proto__":"x"}}',
      '{"customerId":"cus_1","amount":100,"currency":"USD","paymentMethod":"pm_card_visa","metadata":{"a":"b","__proto__":{"polluted":"yes"}}}',
    ]) {
      const res = await refusedWithoutAppending('POST', '/v1/payments', json(raw));
      expect(res.status).toBe(400);
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('capture and cancel with hostile input', () => {
  const captureMutations = mutations({ amount: invalidAmount.filter((v) => v !== undefined && v !== null) }, ['amount']);
  const cancelMutations = mutations({ reason: invalidCaptureMethod.filter((v) => !isValidReason(v) && v !== null) }, ['reason']);

  it('capture: invalid bodies are 4xx problems and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(captureMutations, async (applied) => {
        await refusedWithoutAppending('POST', `/v1/payments/${target}/capture`, json(bodyJson({}, applied)));
      }),
      { numRuns: RUNS },
    );
  });

  it('cancel: invalid bodies are 4xx problems and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(cancelMutations, async (applied) => {
        await refusedWithoutAppending('POST', `/v1/payments/${target}/cancel`, json(bodyJson({}, applied)));
      }),
      { numRuns: RUNS },
    );
  });

  it('capture and cancel: bodies that are not a command object', async () => {
    await fc.assert(
      fc.asyncProperty(notAnObject.filter((raw) => raw !== ''), fc.constantFrom('capture', 'cancel'), async (raw, action) => {
        await refusedWithoutAppending('POST', `/v1/payments/${target}/${action}`, json(raw));
      }),
      { numRuns: RUNS },
    );
  });

  it('capture: amounts beyond what is capturable are refused too', async () => {
    for (const amount of [MAX_AMOUNT_MINOR, 2000, 1e308, 2 ** 63, -1, 0.5]) {
      await refusedWithoutAppending('POST', `/v1/payments/${target}/capture`, { body: { amount } });
    }
  });

  it('hostile payment ids in the path: 4xx problem, nothing appended', async () => {
    const ids = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
      hostileStrings.filter((s) => s.length > 0 && s.length < 2000),
      fc.constantFrom('pay_' + '0'.repeat(26), 'pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E', 'pay_01jd3q4v5w6x7y8z9a0b1c2d3e', '..', '%2e%2e', '%00', '%ZZ', '%E0%A4%A'),
    );
    await fc.assert(
      fc.asyncProperty(ids, fc.constantFrom('capture', 'cancel'), async (id, action) => {
        // Some ids are sent raw on purpose (e.g. "%ZZ"); the rest percent-encoded.
        const segment = /^%/.test(id) ? id : encodeSegment(id);
        await refusedWithoutAppending('POST', `/v1/payments/${segment}/${action}`, { body: {} });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('hostile but valid text is stored as text', () => {
  it('SQL, script, unicode and long strings in description and metadata round-trip unchanged (or are refused as 400)', async () => {
    const text = fc.oneof(
      hostileStrings.filter((s) => s.length <= 500),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(text, text, async (description, value) => {
        const before = await h.countEvents();
        const res = await h.request('POST', '/v1/payments', { body: createBody({ customerId: 'cus_text', description, metadata: { note: value } }) });
        if (isSafeText(description, 1000) && isSafeText(value, 500)) {
          expect(res.status, res.text.slice(0, 300)).toBe(201);
          expect(res.payment.description).toBe(description);
          expect(res.payment.metadata).toEqual({ note: value });
          expect(await h.countEvents()).toBeGreaterThan(before);
          const read = await h.request('GET', `/v1/payments/${res.payment.id}`);
          expect(read.payment.description).toBe(description);
        } else {
          expectRefusal(res);
          expect(res.status).toBe(400);
          expect(await h.countEvents()).toBe(before);
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    // The events table is still there, and nothing but payment streams was written.
    const streams = await h.db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE stream_id NOT LIKE 'payment-pay\\_%'`);
    expect(streams.rows[0]!.n).toBe('0');
  });
});
