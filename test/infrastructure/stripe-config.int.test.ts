import { describe, expect, it } from 'vitest';
import { CLI_TIMEOUT_MS, NO_DATABASE, ledger } from '../cli/run-ledger.js';

describe('ledger serve with PAYMENT_PROVIDER=stripe', () => {
  it('without STRIPE_SECRET_KEY fails at start with one line, before touching the database', async () => {
    const run = await ledger(['serve'], { PAYMENT_PROVIDER: 'stripe', DATABASE_URL: NO_DATABASE, PORT: '0' });
    expect(run.code).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe');
  }, CLI_TIMEOUT_MS);

  it('with a live key outside production fails at start with one line', async () => {
    const run = await ledger(['serve'], { PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_notreal', DATABASE_URL: NO_DATABASE, PORT: '0' });
    expect(run.code).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('STRIPE_SECRET_KEY: is a live key');
    expect(run.stderr).not.toContain('sk_live_notreal');
  }, CLI_TIMEOUT_MS);
});
