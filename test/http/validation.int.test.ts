import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

let h: Harness;
let manualId: string;
beforeAll(async () => {
  h = await startHarness('http_validation', { limits: { bodyLimitBytes: 4096 } });
  const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }) });
  manualId = created.payment.id;
});
afterAll(async () => {
  await h?.close();
});

const expectProblem = (res: ApiResponse, status: number, code: string, path?: string): void => {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.problem).toMatchObject({ status, code, type: `https://ledger.dev/problems/${code}` });
  expect(typeof res.problem.title).toBe('string');
  expect(typeof res.problem.detail).toBe('string');
  expect(typeof res.problem.instance).toBe('string');
  if (path !== undefined) expect(res.problem.errors?.map((e) => e.path)).toContain(path);
};

describe('create: every bad input is a 400 that names the field and writes nothing', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['amount as a string', createBody({ amount: '1999' }), 'amount'],
    ['negative amount', createBody({ amount: -1 }), 'amount'],
    ['zero amount', createBody({ amount: 0 }), 'amount'],
    ['fractional amount', createBody({ amount: 19.99 }), 'amount'],
    ['huge amount', createBody({ amount: 1e15 }), 'amount'],
    ['unsafe integer amount', createBody({ amount: 2 ** 60 }), 'amount'],
    ['null amount', createBody({ amount: null }), 'amount'],
    ['missing amount', createBody({ amount: undefined }), 'amount'],
    ['unknown currency', createBody({ currency: 'XYZ' }), 'currency'],
    ['currency with a space', createBody({ currency: 'us d' }), 'currency'],
    ['no-currency code', createBody({ currency: 'xxx' }), 'currency'],
    ['currency as number', createBody({ currency: 840 }), 'currency'],
    ['customerId with spaces', createBody({ customerId: 'cus 42' }), 'customerId'],
    ['customerId too long', createBody({ customerId: 'c'.repeat(65) }), 'customerId'],
    ['missing customerId', createBody({ customerId: undefined }), 'customerId'],
    ['empty paymentMethod', createBody({ paymentMethod: '' }), 'paymentMethod'],
    ['paymentMethod as object', createBody({ paymentMethod: { id: 'pm_card_visa' } }), 'paymentMethod'],
    ['bad captureMethod', createBody({ captureMethod: 'later' }), 'captureMethod'],
    ['description too long', createBody({ description: 'd'.repeat(1001) }), 'description'],
    ['description as number', createBody({ description: 5 }), 'description'],
    ['metadata value not a string', createBody({ metadata: { n: 1 } }), 'metadata.n'],
    ['metadata value too long', createBody({ metadata: { k: 'v'.repeat(501) } }), 'metadata.k'],
    ['metadata key too long', createBody({ metadata: { ['k'.repeat(41)]: 'v' } }), 'metadata.' + 'k'.repeat(41)],
    ['metadata too many keys', createBody({ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }), 'metadata'],
    ['metadata as array', createBody({ metadata: ['a'] }), 'metadata'],
    ['unknown field', createBody({ amout: 5 }), 'amout'],
  ];

  it.each(cases)('%s', async (_name, body, path) => {
    const before = await h.countEvents();
    const res = await h.request('POST', '/v1/payments', { body });
    expectProblem(res, 400, 'validation_failed', path);
    expect(await h.countEvents()).toBe(before);
  });

  it('reports every bad field at once', async () => {
    const res = await h.request('POST', '/v1/payments', { body: { amount: -5, currency: 'xxx', extra: true } });
    const paths = res.problem.errors?.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['amount', 'currency', 'customerId', 'paymentMethod', 'extra']));
  });

  it('a body that is not an object', async () => {
    for (const raw of ['[]', '[1,2]']) {
      const res = await h.request('POST', '/v1/payments', { rawBody: raw, headers: { 'content-type': 'application/json' } });
      expectProblem(res, 400, 'validation_failed');
    }
  });

  it('a "__proto__" field is an unknown field, not a prototype', async () => {
    const res = await h.request('POST', '/v1/payments', {
      rawBody: JSON.stringify(createBody()).replace(/}$/, ',"__proto__":{"polluted":true}}'),
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400, 'validation_failed', '__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const nested = await h.request('POST', '/v1/payments', {
      rawBody: JSON.stringify(createBody({ metadata: { a: 'b' } })).replace('"a":"b"', '"a":"b","__proto__":"x"'),
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(nested, 400, 'validation_failed', 'metadata.__proto__');
  });

  it('a missing body is 400', async () => {
    expectProblem(await h.request('POST', '/v1/payments'), 400, 'validation_failed');
  });
});

describe('body transport errors', () => {
  const paths = () => ['/v1/payments', `/v1/payments/${manualId}/capture`, `/v1/payments/${manualId}/cancel`];

  it('malformed JSON is 400', async () => {
    for (const path of paths()) {
      for (const raw of ['{"amount": ', '{amount: 5}', 'null', '"str"', '12']) {
        const before = await h.countEvents();
        const res = await h.request('POST', path, { rawBody: raw, headers: { 'content-type': 'application/json' } });
        expectProblem(res, 400, 'malformed_json');
        expect(await h.countEvents()).toBe(before);
      }
    }
  });

  it('a non-JSON content type is 415', async () => {
    for (const path of paths()) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await h.request('POST', path, { rawBody: 'amount=5', headers: { 'content-type': type } });
        expectProblem(res, 415, 'unsupported_media_type');
      }
      const untyped = await h.request('POST', path, { rawBody: new TextEncoder().encode('{}') });
      expectProblem(untyped, 415, 'unsupported_media_type');
    }
  });

  it('JSON with a charset parameter and +json types are accepted', async () => {
    const res = await h.request('POST', '/v1/payments', { rawBody: JSON.stringify(createBody()), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(res.status).toBe(201);
    const latin = await h.request('POST', '/v1/payments', { rawBody: JSON.stringify(createBody()), headers: { 'content-type': 'application/json; charset=latin1' } });
    expectProblem(latin, 415, 'unsupported_media_type');
  });

  it('a body far over the limit is 413 too (refused before it is read)', async () => {
    const res = await h.request('POST', '/v1/payments', { body: createBody({ description: 'x'.repeat(2 * 1024 * 1024) }) });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('a body over the limit is 413', async () => {
    for (const path of paths()) {
      const before = await h.countEvents();
      const res = await h.request('POST', path, { body: createBody({ description: 'x'.repeat(5000) }) });
      expectProblem(res, 413, 'payload_too_large');
      expect(await h.countEvents()).toBe(before);
    }
  });
});

describe('capture and cancel: bad bodies', () => {
  const captureCases: [string, unknown, string][] = [
    ['amount as string', { amount: '10' }, 'amount'],
    ['negative amount', { amount: -10 }, 'amount'],
    ['zero amount', { amount: 0 }, 'amount'],
    ['fractional amount', { amount: 0.5 }, 'amount'],
    ['huge amount', { amount: 1e300 }, 'amount'],
    ['unknown field', { amount: 10, currency: 'USD' }, 'currency'],
  ];
  it.each(captureCases)('capture: %s', async (_name, body, path) => {
    const before = await h.countEvents();
    expectProblem(await h.request('POST', `/v1/payments/${manualId}/capture`, { body }), 400, 'validation_failed', path);
    expect(await h.countEvents()).toBe(before);
  });

  const cancelCases: [string, unknown, string][] = [
    ['unknown reason', { reason: 'bored' }, 'reason'],
    ['reason as number', { reason: 1 }, 'reason'],
    ['unknown field', { reason: 'duplicate', note: 'x' }, 'note'],
  ];
  it.each(cancelCases)('cancel: %s', async (_name, body, path) => {
    const before = await h.countEvents();
    expectProblem(await h.request('POST', `/v1/payments/${manualId}/cancel`, { body }), 400, 'validation_failed', path);
    expect(await h.countEvents()).toBe(before);
  });

  it('the payment is untouched by all of that', async () => {
    const res = await h.request('GET', `/v1/payments/${manualId}`);
    // Intent first: its request (0) and its authorization (1); nothing since.
    expect(res.payment).toMatchObject({ status: 'requires_capture', revision: '1' });
  });
});

describe('queries: bad parameters', () => {
  const listCases: [string, string][] = [
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=1e1', 'limit'],
    ['status=pending', 'status'],
    ['customerId=bad%20id', 'customerId'],
    ['status=failed&status=succeeded', 'status'],
    ['customer_id=cus_42', 'customer_id'],
    ['minPosition=abc', 'minPosition'],
    ['minPosition=-1.0', 'minPosition'],
    ['minPosition=99999999999999999999999.1', 'minPosition'],
  ];
  it.each(listCases)('GET /v1/payments?%s', async (query, path) => {
    expectProblem(await h.request('GET', `/v1/payments?${query}`), 400, 'validation_failed', path);
  });

  it('an invalid cursor is 400 invalid_cursor', async () => {
    expectProblem(await h.request('GET', '/v1/payments?cursor=garbage'), 400, 'invalid_cursor', 'cursor');
  });

  it('GET /v1/payments/:id with a bad minPosition or unknown parameter is 400', async () => {
    expectProblem(await h.request('GET', `/v1/payments/${manualId}?minPosition=1`), 400, 'validation_failed', 'minPosition');
    expectProblem(await h.request('GET', `/v1/payments/${manualId}?expand=all`), 400, 'validation_failed', 'expand');
  });
});

describe('Stripe habits: an unknown field that is a Stripe name (or our name in snake_case) says which field was meant', () => {
  const hinted = async (method: 'POST' | 'GET', path: string, body: Record<string, unknown> | undefined, field: string, meant: string): Promise<void> => {
    const before = await h.countEvents();
    const res = await h.request(method, path, body === undefined ? {} : { body });
    expectProblem(res, 400, 'validation_failed', field);
    expect(res.problem.errors).toContainEqual({ path: field, message: `is not a known field; did you mean \`${meant}\`?` });
    expect(res.problem.detail).toContain(`did you mean \`${meant}\`?`);
    expect(await h.countEvents()).toBe(before);
  };
  const stripeCreate = (renamed: Record<string, unknown>, drop: string): Record<string, unknown> => ({ ...createBody({ [drop]: undefined }), ...renamed });

  it.each([
    ['customer', 'customerId', { customer: 'cus_42' }],
    ['payment_method', 'paymentMethod', { payment_method: 'pm_card_visa' }],
    ['capture_method', 'captureMethod', { capture_method: 'manual' }],
  ])('create with %s', async (field, meant, renamed) => {
    await hinted('POST', '/v1/payments', stripeCreate(renamed, meant), field, meant);
  });

  it('capture with amount_to_capture', async () => {
    await hinted('POST', `/v1/payments/${manualId}/capture`, { amount_to_capture: 500 }, 'amount_to_capture', 'amount');
  });

  it('cancel with cancellation_reason', async () => {
    await hinted('POST', `/v1/payments/${manualId}/cancel`, { cancellation_reason: 'duplicate' }, 'cancellation_reason', 'reason');
  });

  it('a query parameter in snake_case', async () => {
    await hinted('GET', '/v1/payments?customer_id=cus_42', undefined, 'customer_id', 'customerId');
  });

  it('a hint names only a field of the object refused; other unknown fields stay plain', async () => {
    // `amount_to_capture` means `amount` on capture; on cancel there is no amount to mean.
    const res = await h.request('POST', `/v1/payments/${manualId}/cancel`, { body: { amount_to_capture: 5, colour: 'red' } });
    expectProblem(res, 400, 'validation_failed');
    expect(res.problem.errors).toEqual(
      expect.arrayContaining([
        { path: 'amount_to_capture', message: 'is not a known field' },
        { path: 'colour', message: 'is not a known field' },
      ]),
    );
    expect(res.problem.detail).not.toContain('did you mean');
  });
});
