import type { CommandContext } from '../src/application/command-context.js';
import { toCurrencyCode } from '../src/domain/currency.js';
import { moneyOf } from '../src/domain/money.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { TOKENS } from '../src/infrastructure/container/tokens.js';
import { createLogger } from '../src/infrastructure/logging/logger.js';
import { startService } from '../src/infrastructure/service.js';
import { withBenchDatabase } from './support/db.js';
import { forEachConcurrently } from './support/load.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, now } from './support/stats.js';

/*
 * Subscription billing (issue 9): how long advancing a test clock by a year takes for N
 * monthly subscriptions (1,000 in full mode), through the whole service in this process —
 * the billing clock reading due work from its read model, each renewal's subscription
 * command, the process manager issuing and charging the invoice through the payments path
 * (simulated processor), the projections catching up before the next instant.
 *
 * Baseline, in the same service and process: the same number of charges made directly
 * through the payments command handler (automatic capture), with the same concurrency the
 * clock uses. The ratio says what the billing machinery costs per charge beyond the charge
 * itself. No target was set by the issue; the figure is reported.
 */

const FULL_SUBSCRIPTIONS = 1_000;
const QUICK_SUBSCRIPTIONS = 50;
const MONTHS = 12;
const CREATE_CONCURRENCY = 8;

const ctx = (correlationId: string): CommandContext => ({ correlationId, actor: 'bench', customerScope: null });

async function run(bench: BenchContext): Promise<Row[]> {
  const count = bench.quick ? QUICK_SUBSCRIPTIONS : FULL_SUBSCRIPTIONS;
  return withBenchDatabase('billing', async (db) => {
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', BILLING_TICK_MS: '3600000' });
    const service = await startService(config, createLogger({ level: 'silent' }));
    try {
      const clocks = service.container.get(TOKENS.TestClocks);
      const subscriptions = service.container.get(TOKENS.SubscriptionCommands);
      const payments = service.container.get(TOKENS.PaymentCommands);
      const start = new Date('2026-01-15T12:00:00Z');
      const created = await clocks.create(start, 'bench', ctx('bench-clock'));
      if (!created.ok) throw new Error(created.error.code);
      const clockId = created.value.testClockId;
      const price = { amount: 2_500, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };

      const t0 = now();
      await forEachConcurrently(count, CREATE_CONCURRENCY, 600_000, async (i) => {
        const sub = await subscriptions.create({ customerId: `cus_b${i % 100}`, price, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: clockId }, ctx(`bench-sub-${i}`));
        if (!sub.ok) throw new Error(sub.error.code);
      });
      const createMs = now() - t0;
      bench.log(`  ${fmtInt(count)} subscriptions created in ${fmtMs(createMs)}`);

      // Advance in monthly steps (an advance is bounded to two years; months show progress).
      if (process.env.BENCH_NO_RUNNER) await service.container.get(TOKENS.BillingProcessRunner).stop();
      const t1 = now();
      for (let month = 1; month <= MONTHS; month++) {
        const to = new Date(Date.UTC(2026, month, 16, 0, 0, 0));
        const advanced = await clocks.advance(clockId, to, ctx(`bench-advance-${month}`));
        if (!advanced.ok) throw new Error(advanced.error.code);
      }
      const advanceMs = now() - t1;
      const invoices = await db.createPool(1, 'bench-billing-count').query<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE event_type = 'InvoicePaid'`);
      const paid = Number(invoices.rows[0]?.n);
      const expected = count * (MONTHS + 1);
      if (paid !== expected) throw new Error(`expected ${expected} paid invoices, found ${paid}`);
      const renewals = count * MONTHS;
      const renewalsPerSecond = renewals / (advanceMs / 1000);
      bench.log(`  advanced ${MONTHS} months: ${fmtInt(renewals)} renewals (${fmtInt(paid)} invoices paid in all) in ${fmtMs(advanceMs)}`);

      // Baseline: the charges alone, straight through the payments path, same concurrency as the clock.
      const t2 = now();
      await forEachConcurrently(renewals, BILLING_GROUP_CONCURRENCY, 600_000, async (i) => {
        const result = await payments.create(
          { customerId: `cus_b${i % 100}`, amount: moneyOf(2_500, toCurrencyCode('USD')), paymentMethod: 'pm_card_visa', captureMethod: 'automatic', description: null, metadata: {} },
          { ...ctx(`bench-pay-${i}`), idempotency: { key: `bench-pay-${i}`, firstSeenAt: new Date(), firstAttempt: true } },
        );
        if (!result.ok) throw new Error(result.error.code);
      });
      const baselineMs = now() - t2;
      const baselinePerSecond = renewals / (baselineMs / 1000);
      bench.log(`  baseline: ${fmtInt(renewals)} charges through PaymentCommands in ${fmtMs(baselineMs)}`);
      return [
        {
          benchmark: 'billing',
          setting: `advance ${MONTHS} months, ${fmtInt(count)} monthly subscriptions`,
          figure: `${fmtMs(advanceMs)} (${fmtInt(renewalsPerSecond)} renewals/s)`,
          baseline: `${fmtInt(baselinePerSecond)} charges/s`,
          ratio: renewalsPerSecond / baselinePerSecond,
          target: 'none (reported)',
          pass: undefined,
          values: { advanceMs, renewalsPerSecond, baselinePerSecond, createMs, subscriptions: count },
        },
      ];
    } finally {
      await service.stop();
    }
  });
}

/** The billing clock runs the items due at one instant this many at a time (billing-clock.ts). */
const BILLING_GROUP_CONCURRENCY = 8;

export const billingBenchmark: Benchmark = { name: 'billing', run };
