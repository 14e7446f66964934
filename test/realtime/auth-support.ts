import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Authenticator } from '../../src/application/auth/authenticator.js';
import type { AuthenticationError, Principal, Scope } from '../../src/application/auth/principal.js';
import type { Clock } from '../../src/application/ports/clock.js';
import { err, ok, type Result } from '../../src/domain/result.js';
import { projectionSchema } from '../../src/projections/projection.js';
import { PAYMENTS_SCHEMA_SQL } from '../../src/projections/payments/payment-row.js';

/**
 * A tiny Authenticator for the realtime tests: opaque tokens it issued itself, so the
 * tests do not depend on the real JWT/API-key authenticator. Expired tokens are refused
 * as the real one would; `THROWING_TOKEN` makes it fail as if its store were down.
 */
export class TestAuthenticator implements Authenticator {
  static readonly THROWING_TOKEN = 'throw-please';
  readonly #tokens = new Map<string, Principal>();
  calls = 0;

  issue(options: { scopes: readonly Scope[]; customerId?: string | null; expiresAt?: Date | null; actor?: string }): string {
    const token = `tok_${randomUUID()}`;
    this.#tokens.set(token, {
      actor: options.actor ?? `jwt:${token.slice(4, 12)}`,
      kind: options.expiresAt === undefined || options.expiresAt === null ? 'api_key' : 'jwt',
      scopes: new Set(options.scopes),
      customerId: options.customerId ?? null,
      expiresAt: options.expiresAt ?? null,
    });
    return token;
  }

  authenticate(bearerToken: string | undefined, now: Date): Promise<Result<Principal, AuthenticationError>> {
    this.calls += 1;
    if (bearerToken === TestAuthenticator.THROWING_TOKEN) return Promise.reject(new Error('key store unreachable'));
    if (bearerToken === undefined) return Promise.resolve(err({ code: 'missing_credentials' }));
    const principal = this.#tokens.get(bearerToken);
    if (!principal) return Promise.resolve(err({ code: 'invalid_credentials', message: 'unknown token' }));
    if (principal.expiresAt !== null && principal.expiresAt.getTime() <= now.getTime()) return Promise.resolve(err({ code: 'expired_credentials' }));
    return Promise.resolve(ok(principal));
  }
}

/** The system clock, shifted by `offsetMs` (to make a credential expire without waiting). */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** The payments read model's table, where the projection runner would create it. */
export async function createPaymentsTable(pool: pg.Pool): Promise<void> {
  const schema = projectionSchema('payments');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SELECT set_config('search_path', $1, true)`, [schema]);
    await client.query(PAYMENTS_SCHEMA_SQL);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

export async function insertPayment(pool: Pick<pg.Pool, 'query'>, id: string, customerId: string): Promise<void> {
  await pool.query(
    `INSERT INTO ${projectionSchema('payments')}.payments
       (id, status, customer_id, amount, amount_capturable, amount_captured, amount_released, currency,
        capture_method, payment_method, revision, created_at, updated_at)
     VALUES ($1, 'succeeded', $2, 1000, 0, 1000, 0, 'EUR', 'automatic', 'pm_card_visa', 1, now(), now())`,
    [id, customerId],
  );
}
