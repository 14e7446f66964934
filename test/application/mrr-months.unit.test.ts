import { describe, expect, it } from 'vitest';
import { formatMonth, instantAt, monthIndexOf, monthInstants, parseMonth } from '../../src/application/reports/mrr-months.js';

/* The calendar of MRR reports: UTC months, each read at its last millisecond or at asOf. */

describe('MRR months', () => {
  it('parses YYYY-MM and nothing else', () => {
    expect(parseMonth('2026-01')).toBe(2026 * 12);
    expect(formatMonth(parseMonth('2026-12') as number)).toBe('2026-12');
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-01', '2026-01-01', '0000-01', '']) expect(parseMonth(bad)).toBeUndefined();
  });

  it('reads each month at its last millisecond, and asOf\'s month at asOf', () => {
    const asOf = new Date('2026-03-10T08:00:00Z');
    const instants = monthInstants(parseMonth('2025-12') as number, monthIndexOf(asOf), asOf);
    expect(instants.map((i) => [i.label, i.monthStart.toISOString(), i.at.toISOString()])).toEqual([
      ['2025-12', '2025-12-01T00:00:00.000Z', '2025-12-31T23:59:59.999Z'],
      ['2026-01', '2026-01-01T00:00:00.000Z', '2026-01-31T23:59:59.999Z'],
      ['2026-02', '2026-02-01T00:00:00.000Z', '2026-02-28T23:59:59.999Z'],
      ['2026-03', '2026-03-01T00:00:00.000Z', '2026-03-10T08:00:00.000Z'],
    ]);
    expect(instantAt(asOf, 'x')).toEqual({ label: 'x', monthStart: new Date('2026-03-01T00:00:00Z'), at: asOf });
  });
});
