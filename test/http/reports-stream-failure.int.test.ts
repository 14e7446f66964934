import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevenueReportQuery, RevenueReports, RevenueRow } from '../../src/application/ports/revenue-reports.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { Harness } from './support/harness.js';
import { startHarness } from './support/harness.js';

/*
 * A report is streamed, so a failure can happen before the first byte (a proper problem)
 * or after it (only the connection can say so). Either way the request ends: it never
 * hangs, and the client can tell the body is not whole.
 */

const ROW: RevenueRow = { period: '2025-01-01', currency: toCurrencyCode('USD'), gross: 1, refunded: 0, net: 1, payments: 1, refunds: 0 };

/** Fails at the page given: 0 before any page, 1 after the first. */
class FailingReports implements RevenueReports {
  failAtPage = 0;
  async *pages(_query: RevenueReportQuery): AsyncGenerator<readonly RevenueRow[]> {
    for (let page = 0; page < 3; page++) {
      if (page === this.failAtPage) throw new Error('the read model went away');
      await Promise.resolve();
      yield [ROW];
    }
  }
}

const reports = new FailingReports();
let h: Harness;

beforeAll(async () => {
  h = await startHarness('http_reports_failure', { revenueReports: reports });
});

afterAll(async () => {
  await h?.close();
});

describe('a revenue report whose read fails', () => {
  it('before the first page: a 500 problem, nothing streamed', async () => {
    reports.failAtPage = 0;
    const res = await h.request('GET', '/v1/reports/revenue?from=2025-01-01&to=2025-01-31', { headers: { 'x-request-id': 'report-early' } });
    expect(res.status).toBe(500);
    expect(res.problem).toMatchObject({ code: 'internal_error', requestId: 'report-early' });
  });

  it('after the first page: the connection is cut, so the body cannot pass for whole; the failure is logged', async () => {
    reports.failAtPage = 1;
    for (const accept of ['application/json', 'text/csv']) {
      const requestId = `report-late-${accept.replace('/', '-')}`;
      await expect(h.request('GET', '/v1/reports/revenue?from=2025-01-01&to=2025-01-31', { headers: { accept, 'x-request-id': requestId } })).rejects.toThrow();
      await expect.poll(() => h.logs.some((l) => l.msg === 'revenue report stream failed' && l.requestId === requestId)).toBe(true);
    }
    // Whole when nothing fails.
    reports.failAtPage = 99;
    const res = await h.request('GET', '/v1/reports/revenue?from=2025-01-01&to=2025-01-31');
    expect(res.json).toEqual({ data: [ROW, ROW, ROW] });
  });
});
