import { describe, expect, it } from 'vitest';
import { prototypeKeyPath } from '../../src/infrastructure/http/json-body.js';
import { fieldErrors } from '../../src/infrastructure/http/validation.js';
import { CreatePaymentBody } from '../../src/infrastructure/http/schemas.js';
import { REDACTED, createLogger, redactSensitive } from '../../src/infrastructure/logging/logger.js';

describe('redactSensitive', () => {
  it('redacts credentials and idempotency keys at any depth, by field name', () => {
    const out = redactSensitive({
      req: { headers: { authorization: 'Bearer abc', cookie: 'sid=1', 'idempotency-key': 'k1', accept: '*/*' } },
      config: { stripeSecretKey: 'sk_live', apiKey: 'ak', nested: [{ refreshToken: 't', password: 'p' }] },
      idempotencyKey: 'k2',
      amount: 5,
    });
    expect(out).toEqual({
      req: { headers: { authorization: REDACTED, cookie: REDACTED, 'idempotency-key': REDACTED, accept: '*/*' } },
      config: { stripeSecretKey: REDACTED, apiKey: REDACTED, nested: [{ refreshToken: REDACTED, password: REDACTED }] },
      idempotencyKey: REDACTED,
      amount: 5,
    });
  });

  it('leaves errors to pino\'s serializer', () => {
    const error = new Error('boom');
    expect((redactSensitive({ err: error }) as { err: unknown }).err).toBe(error);
  });
});

describe('createLogger', () => {
  it('writes JSON lines at the configured level, redacted, errors with message and stack', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    logger.debug({ a: 1 }, 'hidden');
    logger.info({ headers: { authorization: 'Bearer x' }, token: 'y' }, 'shown');
    logger.error({ err: new Error('kaput') }, 'failed');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toMatchObject({ level: 'info', msg: 'shown', headers: { authorization: REDACTED }, token: REDACTED });
    expect(parsed[1]).toMatchObject({ level: 'error', err: { message: 'kaput' } });
    expect(String((parsed[1]!.err as { stack: string }).stack)).toContain('kaput');
  });

  it('child bindings are redacted too', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    logger.child({ sessionToken: 's' }).info('x');
    expect(JSON.parse(lines[0]!)).toMatchObject({ sessionToken: REDACTED });
  });
});

describe('fieldErrors', () => {
  it('reports unknown fields at their own path and nested fields dotted', () => {
    const parsed = CreatePaymentBody.safeParse({ customerId: 'c', amount: 1, currency: 'USD', paymentMethod: 'pm_card_visa', metadata: { a: 1 }, extra: 1, other: 2 });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(fieldErrors(parsed.error.issues).map((e) => e.path).sort()).toEqual(['extra', 'metadata.a', 'other']);
  });
});

describe('prototypeKeyPath', () => {
  it('finds a "__proto__" member at any depth', () => {
    expect(prototypeKeyPath(JSON.parse('{"a": 1}'))).toBeUndefined();
    expect(prototypeKeyPath(JSON.parse('{"__proto__": 1}'))).toBe('__proto__');
    expect(prototypeKeyPath(JSON.parse('{"m": {"x": [0, {"__proto__": {}}]}}'))).toBe('m.x.1.__proto__');
    expect(prototypeKeyPath({ constructor: 'fine', prototype: 'fine' })).toBeUndefined();
  });
});
