import { fmtRatio } from './stats.js';

/** One line of the final table. */
export interface Row {
  readonly benchmark: string;
  /** Concurrency, batch size, log size… */
  readonly setting: string;
  readonly figure: string;
  readonly baseline: string;
  /** figure / baseline, when they measure the same thing. */
  readonly ratio: number | undefined;
  readonly target: string;
  /** undefined: informational, no target. */
  readonly pass: boolean | undefined;
  /**
   * The figures as numbers, for bench/results/*.json (rate, p50Ms, p99Ms, rssPeakMiB…).
   * Optional: for a row without them, the JSON holds what can be read from its text.
   */
  readonly values?: Readonly<Record<string, number>>;
}

export interface BenchContext {
  readonly quick: boolean;
  /** Progress and detail lines, printed as the run goes. */
  log(line: string): void;
}

/** A benchmark module: a name for the table and a function producing its rows. */
export interface Benchmark {
  readonly name: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

export const passMark = (pass: boolean | undefined): string => (pass === undefined ? 'info' : pass ? 'PASS' : 'FAIL');

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A GitHub-flavoured markdown table, columns padded so it also reads well in a terminal. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((r) => r.map(escapeCell));
  const widths = header.map((_, c) => Math.max(3, ...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const [head, ...body] = cells;
  return [line(head ?? []), rule, ...body.map(line)].join('\n');
}

export function resultsTable(rows: readonly Row[]): string {
  return markdownTable(
    ['benchmark', 'concurrency / size', 'figure', 'baseline', 'ratio', 'target', 'pass/fail'],
    rows.map((r) => [r.benchmark, r.setting, r.figure, r.baseline, fmtRatio(r.ratio), r.target, passMark(r.pass)]),
  );
}

/** The row a benchmark contributes when it could not run to the end. */
export function errorRow(benchmark: string, error: unknown): Row {
  const message = error instanceof Error ? error.message : String(error);
  return { benchmark, setting: '—', figure: `ERROR: ${message.split('\n')[0]?.slice(0, 160) ?? ''}`, baseline: '—', ratio: undefined, target: '—', pass: false };
}
