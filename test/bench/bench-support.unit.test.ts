import { describe, expect, it } from 'vitest';
import { cpuPerRequest } from '../../bench/support/cpu-accounting.js';
import { packageOf, summarizeProfile, type CpuProfile } from '../../bench/support/cpu-profile.js';
import { processCpu, processMemory } from '../../bench/support/proc-stats.js';
import type { Row } from '../../bench/support/report.js';
import { numericFields } from '../../bench/support/results-json.js';

describe('cpu profile summary', () => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
  // Samples at 100, 200, 300, 400 µs after start; each lasts until the next (the last until endTime).
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('parse', 'file:///app/node_modules/pg-protocol/dist/parser.js', 25) },
      { id: 3, callFrame: frame('handle', 'file:///app/src/infrastructure/http/app.ts', 9) },
      { id: 4, callFrame: frame('(idle)') },
    ],
    startTime: 1_000,
    endTime: 1_500,
    samples: [2, 3, 2, 4],
    timeDeltas: [100, 100, 100, 100],
  };

  it('attributes each sample the time until the next one, leaving idle out', () => {
    const s = summarizeProfile(profile);
    expect(s.busyMs).toBeCloseTo(0.3);
    expect(s.functions[0]).toMatchObject({ name: 'parse pg-protocol/dist/parser.js:26', ms: 0.2 });
    expect(s.functions[1]?.name).toBe('handle src/infrastructure/http/app.ts');
    expect(s.packages.map((p) => p.name)).toEqual(['pg-protocol', 'src/infrastructure/http']);
  });

  it('keeps only the samples inside the window, and all of them when the window misses the profile', () => {
    expect(summarizeProfile(profile, [1_150, 1_250]).functions).toEqual([{ name: 'handle src/infrastructure/http/app.ts', ms: 0.1, share: 1 }]);
    expect(summarizeProfile(profile, [5_000, 6_000]).windowed).toBe(false);
  });

  it('names packages, node modules and V8 entries', () => {
    expect(packageOf(frame('x', 'file:///a/node_modules/@scope/pkg/lib/i.js'))).toBe('@scope/pkg');
    expect(packageOf(frame('x', 'node:internal/streams/writable'))).toBe('node:internal/streams');
    expect(packageOf(frame('x', 'node:net'))).toBe('node:net');
    expect(packageOf(frame('(garbage collector)'))).toBe('(garbage collector)');
    expect(packageOf(frame('writev'))).toBe('(native)');
  });
});

describe('cpu per request', () => {
  it('divides each party by the requests; a backend that appeared counts from zero, one that vanished is reported', () => {
    const before = { server: 1_000, loadGenerator: 500, backends: new Map([[10, 100], [11, 50]]), shared: new Map([[1, 0]]), machine: 10_000 };
    const after = { server: 3_000, loadGenerator: 700, backends: new Map([[10, 500], [12, 200]]), shared: new Map([[1, 100]]), machine: 14_000 };
    const c = cpuPerRequest(before, after, 100, 10, 2);
    expect(c).toEqual({
      requests: 100,
      serverUs: 20,
      loadGeneratorUs: 2,
      postgresBackendsUs: 6,
      postgresSharedUs: 1,
      machineUs: 40,
      capacityUs: 200,
      vanishedBackends: 1,
    });
  });
});

describe('numeric fields of a row', () => {
  const row = (figure: string, baseline: string, values?: Record<string, number>): Row => ({
    benchmark: 'b',
    setting: 's',
    figure,
    baseline,
    ratio: 0.5,
    target: 't',
    pass: undefined,
    ...(values === undefined ? {} : { values }),
  });

  it('takes the stated values when a row has them', () => {
    expect(numericFields(row('1 ev/s', '2 ev/s', { rate: 3 }))).toEqual({ rate: 3 });
  });

  it('reads the first number and the latencies from the text otherwise', () => {
    expect(numericFields(row('12,345 ev/s (p50 1.20 ms, p99 25.0 ms)', '20,000 ev/s'))).toEqual({
      figureValue: 12_345,
      baselineValue: 20_000,
      p50Ms: 1.2,
      p99Ms: 25,
    });
    expect(numericFields(row('p50 360 ms, p99 608 ms', '—'))).toEqual({ figureValue: 360, p50Ms: 360, p99Ms: 608 });
  });
});

describe.runIf(process.platform === 'linux')('/proc readings', () => {
  it('reads this process', () => {
    const cpu = processCpu(process.pid);
    expect(cpu?.ownUs).toBeGreaterThan(0);
    const memory = processMemory(process.pid);
    expect(memory?.rss).toBeGreaterThan(1024 * 1024);
    expect(memory?.hwm).toBeGreaterThanOrEqual(memory?.rss ?? Infinity);
  });

  it('says undefined for a process that does not exist', () => {
    expect(processCpu(2 ** 30)).toBeUndefined();
  });
});
