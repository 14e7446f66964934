import { readFileSync } from 'node:fs';

/*
 * CPU time and memory of processes, read from Linux's /proc (no profiler, no dependency).
 * Elsewhere every reading is undefined and the benchmark prints "n/a".
 */

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux that Node supports. */
const TICKS_PER_SECOND = 100;
const MICROS_PER_TICK = 1_000_000 / TICKS_PER_SECOND;

export interface CpuTime {
  /** utime + stime of the process (all its threads), µs. */
  readonly ownUs: number;
  /** cutime + cstime: children it has waited for, µs. */
  readonly childrenUs: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat from the third (state) on; the command name before them may hold spaces. */
function statFields(pid: number): string[] | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export function parentPid(pid: number): number | undefined {
  const ppid = Number(statFields(pid)?.[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** CPU time used so far by `pid`, or undefined when it is gone (or there is no /proc). */
export function processCpu(pid: number): CpuTime | undefined {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  // Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are at 11-14 from field 3.
  const ticks = (i: number): number => Number(fields[i] ?? 0);
  return { ownUs: (ticks(11) + ticks(12)) * MICROS_PER_TICK, childrenUs: (ticks(13) + ticks(14)) * MICROS_PER_TICK };
}

export const totalUs = (t: CpuTime): number => t.ownUs + t.childrenUs;

/** Busy time of the whole machine (every CPU, every process), µs: /proc/stat minus idle and iowait. */
export function machineBusyUs(): number | undefined {
  const line = readText('/proc/stat')?.split('\n', 1)[0];
  if (line === undefined || !line.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * MICROS_PER_TICK;
}

export interface Memory {
  /** Resident set now, bytes. */
  readonly rss: number;
  /** Peak resident set since the process started (VmHWM), bytes. */
  readonly hwm: number;
}

export function processMemory(pid: number): Memory | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Samples a process's resident set every `intervalMs` until stopped; keeps the largest and the last. */
export class RssSampler {
  #peak = 0;
  #last: Memory | undefined;
  #samples = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    const m = processMemory(this.pid);
    if (m === undefined || !Number.isFinite(m.rss)) return;
    this.#samples++;
    this.#last = m;
    if (m.rss > this.#peak) this.#peak = m.rss;
  }

  /** Stops sampling after one last sample. */
  stop(): RssReport | undefined {
    clearInterval(this.#timer);
    this.#sample();
    const last = this.#last;
    if (last === undefined) return undefined;
    return { peakSampled: this.#peak, end: last.rss, hwm: last.hwm, samples: this.#samples };
  }
}

export interface RssReport {
  /** Largest VmRSS among the samples, bytes. */
  readonly peakSampled: number;
  /** VmRSS at the end of the load, bytes. */
  readonly end: number;
  /** VmHWM at the end: the kernel's peak since the process started (start-up included), bytes. */
  readonly hwm: number;
  readonly samples: number;
}

export const mib = (bytes: number): number => bytes / 2 ** 20;
