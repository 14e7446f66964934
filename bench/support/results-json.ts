import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './report.js';

/*
 * Every row of a run as JSON (bench/results/latest.json, or BENCH_JSON), so that runs can be
 * compared by a program rather than by reading tables. bench/results/ is not committed.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_RESULTS_PATH = resolve(REPO, 'bench/results/latest.json');

export interface RunInfo {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly quick: boolean;
  readonly only: readonly string[];
  /** Machine, node and server facts, as printed at the top of the run. */
  readonly machine: Readonly<Record<string, unknown>>;
}

function git(args: readonly string[]): string | undefined {
  try {
    return execFileSync('git', [...args], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** "1,234.5" → 1234.5; the first number in `text` that is not part of a word ("p50"). */
function firstNumber(text: string): number | undefined {
  const match = /(?<![A-Za-z\d.])-?\d[\d,]*(?:\.\d+)?/.exec(text);
  return match === null ? undefined : Number(match[0].replace(/,/g, ''));
}

/** `p99 12.3 ms` → 12.3 */
function latency(text: string, label: string): number | undefined {
  const match = new RegExp(`${label}\\s+([\\d.,]+)\\s*ms`).exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1].replace(/,/g, ''));
}

/**
 * A row's numbers: those it states (Row.values), else what its text says: the first number
 * of the figure and of the baseline, and p50/p99 where printed.
 */
export function numericFields(row: Row): Record<string, number> {
  if (row.values !== undefined) return { ...row.values };
  const out: Record<string, number> = {};
  const put = (name: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out[name] = value;
  };
  put('figureValue', firstNumber(row.figure));
  put('baselineValue', firstNumber(row.baseline));
  put('p50Ms', latency(row.figure, 'p50'));
  put('p99Ms', latency(row.figure, 'p99'));
  put('baselineP50Ms', latency(row.baseline, 'p50'));
  put('baselineP99Ms', latency(row.baseline, 'p99'));
  return out;
}

const FIXED = new Set(['benchmark', 'setting', 'figure', 'baseline', 'ratio', 'target', 'pass']);

/** Numbers beside the fixed fields; one named like a fixed field is left out rather than overwrite it. */
const extraFields = (row: Row): Record<string, number> => Object.fromEntries(Object.entries(numericFields(row)).filter(([k]) => !FIXED.has(k)));

export function writeResults(path: string, run: RunInfo, rows: readonly Row[]): void {
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  const document = {
    timestamp: run.finishedAt.toISOString(),
    startedAt: run.startedAt.toISOString(),
    durationSeconds: Math.round((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000),
    git: { commit: git(['rev-parse', 'HEAD']) ?? null, branch: git(['rev-parse', '--abbrev-ref', 'HEAD']) ?? null, dirty: dirty === undefined ? null : dirty !== '' },
    mode: run.quick ? 'quick' : 'full',
    only: run.only,
    machine: run.machine,
    rows: rows.map((r) => ({
      benchmark: r.benchmark,
      setting: r.setting,
      figure: r.figure,
      baseline: r.baseline,
      ratio: r.ratio === undefined || !Number.isFinite(r.ratio) ? null : r.ratio,
      target: r.target,
      pass: r.pass ?? null,
      ...extraFields(r),
    })),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
}
