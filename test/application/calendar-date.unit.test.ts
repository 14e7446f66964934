import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../../src/application/reports/calendar-date.js';
import {
  daysInclusive,
  firstOfMonthAfter,
  lastOfMonthAfter,
  monthsInclusive,
  parseCalendarDate,
  utcDayOf,
} from '../../src/application/reports/calendar-date.js';

const d = (text: string): CalendarDate => {
  const date = parseCalendarDate(text);
  if (!date) throw new Error(`bad test date ${text}`);
  return date;
};

describe('calendar dates (UTC days)', () => {
  it('accepts only days that exist, written YYYY-MM-DD', () => {
    expect(parseCalendarDate('2024-02-29')).toBe('2024-02-29');
    for (const bad of ['2025-02-29', '2025-13-01', '2025-00-10', '2025-04-31', '2025-1-01', '20250101', '2025-01-01T00:00:00Z', '', '0000-01-01']) {
      expect(parseCalendarDate(bad), bad).toBeUndefined();
    }
  });

  it('takes the UTC date of an instant', () => {
    expect(utcDayOf('2025-03-14T23:30:00-05:00')).toBe('2025-03-15');
    expect(utcDayOf('2025-03-15T00:30:00+01:00')).toBe('2025-03-14');
    expect(utcDayOf('not a time')).toBeUndefined();
  });

  it('counts days and months inclusively', () => {
    expect(daysInclusive(d('2025-01-01'), d('2025-01-01'))).toBe(1);
    expect(daysInclusive(d('2024-01-01'), d('2024-12-31'))).toBe(366);
    expect(daysInclusive(d('2025-01-02'), d('2025-01-01'))).toBe(0);
    expect(monthsInclusive(d('2024-11-30'), d('2025-02-01'))).toBe(4);
    expect(monthsInclusive(d('2025-02-01'), d('2025-02-28'))).toBe(1);
  });

  it('walks months across year ends and leap years', () => {
    expect(firstOfMonthAfter(d('2024-11-30'), 0)).toBe('2024-11-01');
    expect(firstOfMonthAfter(d('2024-11-30'), 2)).toBe('2025-01-01');
    expect(lastOfMonthAfter(d('2024-01-15'), 1)).toBe('2024-02-29');
    expect(lastOfMonthAfter(d('2025-01-15'), 1)).toBe('2025-02-28');
    expect(lastOfMonthAfter(d('2025-01-15'), 11)).toBe('2025-12-31');
    expect(lastOfMonthAfter(d('9999-12-01'), 0)).toBe('9999-12-31');
  });
});
