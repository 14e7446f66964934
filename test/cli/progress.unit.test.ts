import { describe, expect, it } from 'vitest';
import {
  LINE_INTERVAL_MS,
  ProgressDisplay,
  TTY_REDRAW_MS,
  formatCount,
  formatDuration,
  progressFigures,
  renderBar,
  renderLine,
  renderSummary,
} from '../../src/infrastructure/cli/progress.js';

describe('progress figures', () => {
  it('gives percent, rate and ETA from done, total and elapsed time', () => {
    expect(progressFigures({ label: 'p', phase: 'replaying', done: 25_000, total: 100_000, elapsedMs: 5_000 }))
      .toEqual({ percent: 25, perSecond: 5_000, etaSeconds: 15 });
  });

  it('has no percent or ETA without a total, and no rate before there is anything to measure', () => {
    expect(progressFigures({ label: 'p', phase: 'replaying', done: 10, total: null, elapsedMs: 1_000 }))
      .toEqual({ percent: null, perSecond: 10, etaSeconds: null });
    expect(progressFigures({ label: 'p', phase: 'replaying', done: 0, total: 100, elapsedMs: 5_000 }))
      .toEqual({ percent: 0, perSecond: null, etaSeconds: null });
    expect(progressFigures({ label: 'p', phase: 'replaying', done: 50, total: 100, elapsedMs: 10 }).perSecond).toBeNull();
  });

  it('caps at 100% with a zero ETA when work that arrived meanwhile takes done past the total', () => {
    expect(progressFigures({ label: 'p', phase: 'replaying', done: 120, total: 100, elapsedMs: 1_000 }))
      .toEqual({ percent: 100, perSecond: 120, etaSeconds: 0 });
    expect(progressFigures({ label: 'p', phase: 'replaying', done: 0, total: 0, elapsedMs: 1_000 }).percent).toBe(100);
  });
});

describe('formatting', () => {
  it('groups thousands and writes durations compactly', () => {
    expect([0, 999, 1_000, 1_234_567, 12.6].map(formatCount)).toEqual(['0', '999', '1,000', '1,234,567', '13']);
    expect([0.42, 9.96, 42.4, 185, 7_620].map(formatDuration)).toEqual(['0.4s', '10.0s', '42s', '3m05s', '2h07m']);
  });

  it('renders a log line and a terminal bar with the same figures', () => {
    const sample = { label: 'payments', phase: 'replaying', done: 41_200, total: 100_000, elapsedMs: 2_000 };
    expect(renderLine(sample)).toBe('payments: replaying 41,200/100,000 events (41.2%), 20,600 ev/s, ETA 2.9s');
    expect(renderBar(sample, 200)).toBe('payments replaying  [##########--------------]  41.2%  41,200/100,000 ev  20,600 ev/s  ETA 2.9s');
    expect(renderLine({ ...sample, total: null })).toBe('payments: replaying 41,200 events, 20,600 ev/s');
    expect(renderBar({ ...sample, total: null }, 200)).toBe('payments replaying  41,200 ev  20,600 ev/s');
  });

  it('fits the terminal width: drops the bar first, then cuts', () => {
    const sample = { label: 'payments', phase: 'replaying', done: 41_200, total: 100_000, elapsedMs: 2_000 };
    expect(renderBar(sample, 80)).toBe('payments replaying  41.2%  41,200/100,000 ev  20,600 ev/s  ETA 2.9s');
    expect(renderBar(sample, 30)).toBe('payments replaying  41.2%  41');
  });

  it('summarises count, duration and rate', () => {
    expect(renderSummary('payments', 'rebuilt', 100_000, 4_000)).toBe('payments: rebuilt 100,000 events in 4.0s, 25,000 ev/s');
    expect(renderSummary('payments', 'audited', 0, 0)).toBe('payments: audited 0 events in 0.0s');
  });
});

function fakeOutput(tty: boolean) {
  let now = 1_000_000;
  const written: string[] = [];
  return {
    out: { tty, columns: 120, write: (t: string) => void written.push(t), nowMs: () => now },
    advance: (ms: number) => { now += ms; },
    written,
  };
}

describe('ProgressDisplay', () => {
  it('piped: the first update, each phase change, then a line per interval, and a summary', () => {
    const { out, advance, written } = fakeOutput(false);
    const display = new ProgressDisplay(out, 'payments', 10_000);
    display.update('replaying', 0);
    advance(LINE_INTERVAL_MS - 1);
    display.update('replaying', 2_000); // too soon: nothing
    advance(1);
    display.update('replaying', 3_000);
    advance(10);
    display.update('switching', 10_000); // phase change: at once
    advance(990);
    display.succeed('rebuilt', 10_000);
    expect(written).toEqual([
      'payments: replaying 0/10,000 events (0.0%)\n',
      'payments: replaying 3,000/10,000 events (30.0%), 1,000 ev/s, ETA 7.0s\n',
      'payments: switching 10,000/10,000 events (100.0%), 3,322 ev/s, ETA 0.0s\n',
      'payments: rebuilt 10,000 events in 4.0s, 2,500 ev/s\n',
    ]);
    expect(written.join('')).not.toContain('\r');
  });

  it('on a terminal: redraws one line in place at most every TTY_REDRAW_MS and ends it with the summary', () => {
    const { out, advance, written } = fakeOutput(true);
    const display = new ProgressDisplay(out, 'payments', 1_000);
    display.update('replaying', 0);
    advance(TTY_REDRAW_MS - 1);
    display.update('replaying', 100);
    advance(1);
    display.update('replaying', 500);
    display.succeed('audited', 1_000);
    expect(written).toHaveLength(3);
    expect(written.slice(0, 2).every((w) => w.startsWith('\r') && !w.includes('\n'))).toBe(true);
    expect(written[1]).toContain('500/1,000 ev');
    expect(written[2]).toBe('\rpayments: audited 1,000 events in 0.1s, 10,000 ev/s\u001b[K\n');
  });

  it('stop ends an open terminal line, and writes nothing when none is open', () => {
    const tty = fakeOutput(true);
    const display = new ProgressDisplay(tty.out, 'payments', null);
    display.update('replaying', 5);
    display.stop();
    display.stop();
    expect(tty.written.slice(1)).toEqual(['\n']);
    const piped = fakeOutput(false);
    new ProgressDisplay(piped.out, 'payments', null).stop();
    expect(piped.written).toEqual([]);
  });
});
