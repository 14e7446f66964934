import type { MrrInstant } from '../ports/mrr-reports.js';

/*
 * The calendar of MRR reports (docs/architecture.md, "Subscriptions", MRR): UTC months.
 * A month's figure is the one in force at its last instant (the millisecond before the
 * next month starts: event times are whole milliseconds), or at `asOf` for the month that
 * contains it.
 */

/** A UTC month written `YYYY-MM`. */
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The month as a count of months since year 0; undefined for text that is not `YYYY-MM` (year 0001–9999). */
export function parseMonth(text: string): number | undefined {
  const m = MONTH.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1) return undefined;
  return year * 12 + Number(m[2]) - 1;
}

export const monthIndexOf = (at: Date): number => at.getUTCFullYear() * 12 + at.getUTCMonth();

export const formatMonth = (index: number): string => `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;

export function monthStart(index: number): Date {
  const d = new Date(0);
  d.setUTCFullYear(Math.floor(index / 12), index % 12, 1);
  return d;
}

/** The instant MRR is read at for `asOf` itself: its own month's churn, its own moment. */
export const instantAt = (asOf: Date, label: string): MrrInstant => ({ label, monthStart: monthStart(monthIndexOf(asOf)), at: asOf });

/** One instant per month from `from` to `to` (indexes, both included, `to` not after asOf's month). */
export function monthInstants(from: number, to: number, asOf: Date): MrrInstant[] {
  const instants: MrrInstant[] = [];
  for (let month = from; month <= to; month++) {
    const lastInstant = new Date(monthStart(month + 1).getTime() - 1);
    instants.push({ label: formatMonth(month), monthStart: monthStart(month), at: lastInstant < asOf ? lastInstant : asOf });
  }
  return instants;
}
