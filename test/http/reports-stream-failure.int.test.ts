import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
  /** How long the first page takes. */
  firstPageMs = 0;
  async *pages(_query: RevenueReportQuery): AsyncGenerator<readonly RevenueRow[]> {
    await new Promise((resolve) => setTimeout(resolve, this.firstPageMs));
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
  h = await startHarness('http_reports_failure', { revenueReports: reports, limits: { requestTimeoutMs: 400 } });
});

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  reports.failAtPage = 99;
  reports.firstPageMs = 0;
});

describe('a revenue report whose read fails', () => {
  it('a first page slower than the request timeout: the timeout\'s 503, and nothing written after it', async () => {
    reports.firstPageMs = 800;
    const res = await h.request('GET', '/v1/reports/revenue?from=2025-01-01&to=2025-01-31', { headers: { 'x-request-id': 'report-slow' } });
    expect(res.status).toBe(503);
    expect(res.problem.code).toBe('request_timeout');
    // The report's own work ends quietly once the page arrives: no error about headers already sent.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(h.logs.filter((l) => l.requestId === 'report-slow' && l.msg !== 'request')).toEqual([]);
  });

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
