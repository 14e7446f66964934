import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/infrastructure/config/config.js';
import { OutageLog, isDatabaseUnavailable } from '../../src/infrastructure/postgres/pool.js';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['timed out', withCode('connect ETIMEDOUT 10.0.0.1:5432', 'ETIMEDOUT')],
    ['pool checkout timeout', new Error('timeout exceeded when trying to connect')],
    ['client connect timeout', new Error('Connection terminated due to connection timeout')],
    ['connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['our query timeout', new Error('Query read timeout')],
    ['a broken client', new Error('Client has encountered a connection error and is not queryable')],
    ['SQLSTATE 08006 connection failure', withCode('connection failure', '08006')],
    ['SQLSTATE 57P01 admin shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['SQLSTATE 57P02 crash shutdown', withCode('terminating connection because of crash of another server process', '57P02')],
    ['SQLSTATE 57P03 cannot connect now', withCode('the database system is starting up', '57P03')],
    ['SQLSTATE 53300 too many connections', withCode('sorry, too many clients already', '53300')],
    ['our statement timeout', withCode('canceling statement due to statement timeout', '57014')],
    ['a wrapped cause', new Error('append failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') })],
    ['one of several addresses', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')],
  ])('%s is unavailability', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    ['an operator cancelling the statement', withCode('canceling statement due to user request', '57014')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s is not', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('follows causes only so deep (a cycle cannot hang it)', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});

describe('OutageLog', () => {
  const recorder = () => {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const logger = {
      warn: (fields: object, message: string) => void lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
      info: (fields: object, message: string) => void lines.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
    };
    return { lines, log: new OutageLog(logger) };
  };

  it('says one line when the database goes, none while it stays gone, one when it answers again', () => {
    const { lines, log } = recorder();
    log.answered();
    expect(lines).toEqual([]);
    for (let i = 0; i < 50; i++) log.failed(withCode('read ECONNRESET', 'ECONNRESET'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', fields: { cause: 'read ECONNRESET' } });
    expect(log.inOutage).toBe(true);
    log.answered();
    log.answered();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'info', message: 'database available again', fields: { failedOperations: 50 } });
    expect(lines[1]!.fields.downMs).toEqual(expect.any(Number));
    expect(log.inOutage).toBe(false);

    log.failed(new Error('Query read timeout'));
    expect(lines).toHaveLength(3);
    expect(lines[2]!.fields.cause).toBe('Query read timeout');
  });

  it('ignores errors that are not about reaching the database, and takes them as a sign it is back', () => {
    const { lines, log } = recorder();
    log.failed(withCode('duplicate key value violates unique constraint', '23505'));
    expect(lines).toEqual([]);
    expect(log.inOutage).toBe(false);
    log.failed(new Error('Connection terminated unexpectedly'));
    log.failed(withCode('duplicate key value violates unique constraint', '23505'));
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(log.inOutage).toBe(false);
  });

  it('does not take an operation that began before the latest failure as the heal', () => {
    const { lines, log } = recorder();
    const startedEarlier = performance.now();
    log.failed(withCode('read ECONNRESET', 'ECONNRESET'));
    log.answered(startedEarlier);
    log.failed(withCode('duplicate key value violates unique constraint', '23505'), startedEarlier);
    expect(log.inOutage).toBe(true);
    log.failed(withCode('read ECONNRESET', 'ECONNRESET'));
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    log.answered(performance.now());
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
  });
});

describe('database settings', () => {
  it('default to fast failure, and can be set', () => {
    const defaults = loadConfig({});
    expect(defaults.DATABASE_CONNECT_TIMEOUT_MS).toBe(2_000);
    expect(defaults.DATABASE_QUERY_TIMEOUT_MS).toBe(2_500);
    const set = loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: '1500', DATABASE_QUERY_TIMEOUT_MS: '4000' });
    expect(set.DATABASE_CONNECT_TIMEOUT_MS).toBe(1_500);
    expect(set.DATABASE_QUERY_TIMEOUT_MS).toBe(4_000);
    expect(() => loadConfig({ DATABASE_QUERY_TIMEOUT_MS: '0' })).toThrow(/DATABASE_QUERY_TIMEOUT_MS/);
  });

  it('refuses PAYMENT_PROVIDER=stripe without STRIPE_SECRET_KEY (test/infrastructure/stripe-config.unit.test.ts has the rest)', () => {
    expect(() => loadConfig({ PAYMENT_PROVIDER: 'stripe' })).toThrow(ConfigError);
    expect(() => loadConfig({ PAYMENT_PROVIDER: 'stripe' })).toThrow(/STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe/);
  });
});
