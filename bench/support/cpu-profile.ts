import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * A small reader of V8 .cpuprofile files (what `node --cpu-prof` writes): self time per
 * function and per package, optionally only for the samples taken inside a time window, so
 * that `BENCH_PROFILE=1 npm run bench` answers "where does the service's time go" in the
 * terminal. The file itself opens in Chrome DevTools or speedscope for a flame graph.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs, on the clock of process.hrtime (CLOCK_MONOTONIC on Linux). */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  /** Share of the non-idle time in the window. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Non-idle sampled time in the window, ms. */
  readonly busyMs: number;
  /** Whether the window given was used (false: it did not overlap the profile; all samples were taken). */
  readonly windowed: boolean;
  readonly functions: readonly SelfTime[];
  readonly packages: readonly SelfTime[];
}

const IDLE = new Set(['(idle)', '(root)']);

/**
 * The main-thread profile a directory holds (names are CPU.<date>.<time>.<pid>.<thread>.<seq>;
 * thread 0 is the main thread, others are workers such as tsx's module loader), or undefined.
 */
export function mainThreadProfile(dir: string): string | undefined {
  try {
    const main = readdirSync(dir)
      .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
      .sort();
    return main.length === 0 ? undefined : join(dir, main[main.length - 1] as string);
  } catch {
    return undefined;
  }
}

export const readProfile = (path: string): CpuProfile => JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;

/** Where a function comes from: a package, a node: module, a folder of this repository, or V8 itself. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) {
    const parts = url.slice(nodeModules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' && parts.length > 2 ? `internal/${parts[1] ?? ''}` : parts.join('/')}`;
  }
  const src = url.lastIndexOf('/src/');
  if (src >= 0) {
    const parts = url.slice(src + 1).split('/');
    return parts.slice(0, Math.min(3, parts.length - 1)).join('/') || url;
  }
  return url.slice(url.lastIndexOf('/') + 1);
}

function shortUrl(url: string): string {
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + '/node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * "name file:line". TypeScript run through tsx is profiled as the JavaScript it was compiled
 * to, whose line numbers are not the source's: those frames get the file only.
 */
function functionKey(f: CallFrame): string {
  if (f.url === '') return f.functionName;
  const where = /\.[cm]?ts$/.test(f.url) ? shortUrl(f.url) : `${shortUrl(f.url)}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'} ${where}`;
}

function top(totals: Map<string, number>, busyUs: number, count: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs === 0 ? 0 : us / busyUs }));
}

/**
 * Self time by function and by package. A sample lasts until the next one (the last until
 * endTime). `window` ([from, to] in µs on the profile's clock) restricts to the samples in it.
 */
export function summarizeProfile(profile: CpuProfile, window?: readonly [number, number], count = 25): ProfileSummary {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const overlaps = window !== undefined && window[0] < profile.endTime && window[1] > profile.startTime;
  const [from, to] = overlaps ? window : [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const next = i + 1 < profile.samples.length ? t + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime;
    if (t < from || t > to) continue;
    const frame = frames.get(profile.samples[i] as number);
    if (frame === undefined || IDLE.has(frame.functionName)) continue;
    const us = Math.max(0, next - t);
    busyUs += us;
    const fn = functionKey(frame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg = packageOf(frame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  return { busyMs: busyUs / 1000, windowed: overlaps, functions: top(byFunction, busyUs, count), packages: top(byPackage, busyUs, count) };
}

/** Lines for the terminal: the two tables. */
export function describeProfile(summary: ProfileSummary): string[] {
  const line = (s: SelfTime): string => `${s.ms.toFixed(0).padStart(7)} ms ${(s.share * 100).toFixed(1).padStart(5)} %  ${s.name}`;
  return [
    `self time, ${summary.windowed ? 'measured window only' : 'whole process lifetime (start-up included)'}: ${summary.busyMs.toFixed(0)} ms busy`,
    `top ${summary.packages.length} packages / modules:`,
    ...summary.packages.map(line),
    `top ${summary.functions.length} functions:`,
    ...summary.functions.map(line),
  ];
}
