import type { Brand } from '../../domain/brand.js';

/**
 * A UTC calendar day written `YYYY-MM-DD`, checked to exist (no 2025-02-30). Reports count
 * days in UTC (docs/architecture.md has no local-time notion anywhere: every `occurredAt`
 * is an instant, and the day of an instant is its UTC date).
 */
export type CalendarDate = Brand<string, 'CalendarDate'>;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Undefined for text that is not an existing day between 0001-01-01 and 9999-12-31. */
export function parseCalendarDate(text: string): CalendarDate | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1) return undefined;
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  // Date rolls 2025-02-30 over to March: a day that does not exist does not round-trip.
  if (at.getUTCFullYear() !== year || at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day) return undefined;
  return text as CalendarDate;
}

/** The UTC day of an instant (`occurredAt`); undefined when `iso` is not a timestamp. */
export function utcDayOf(iso: string): CalendarDate | undefined {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return undefined;
  const day = new Date(ms).toISOString().slice(0, 10);
  return parseCalendarDate(day);
}

const epochDay = (date: CalendarDate): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);

/** Days from `from` to `to`, both included: 1 for the same day, 0 or less when `to` is before `from`. */
export const daysInclusive = (from: CalendarDate, to: CalendarDate): number => epochDay(to) - epochDay(from) + 1;

/** `YYYY-MM` of a day. */
export const monthOf = (date: CalendarDate): string => date.slice(0, 7);

const monthIndex = (date: CalendarDate): number => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1;

/** Calendar months `from` to `to` touch, both included: 1 when they share a month. */
export const monthsInclusive = (from: CalendarDate, to: CalendarDate): number => monthIndex(to) - monthIndex(from) + 1;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The first day of the month `months` after the month of `date` (0: its own month). */
export function firstOfMonthAfter(date: CalendarDate, months: number): CalendarDate {
  const index = monthIndex(date) + months;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1, 2)}-01` as CalendarDate;
}

/** The last day of the month `months` after the month of `date`. */
export function lastOfMonthAfter(date: CalendarDate, months: number): CalendarDate {
  const first = firstOfMonthAfter(date, months);
  const at = new Date(0);
  at.setUTCFullYear(Number(first.slice(0, 4)), Number(first.slice(5, 7)), 0);
  return `${first.slice(0, 8)}${pad(at.getUTCDate(), 2)}` as CalendarDate;
}

export const minDate = (a: CalendarDate, b: CalendarDate): CalendarDate => (a <= b ? a : b);
export const maxDate = (a: CalendarDate, b: CalendarDate): CalendarDate => (a >= b ? a : b);
