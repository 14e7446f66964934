import type pg from 'pg';
import { fmtInt } from './stats.js';
import { machineBusyUs, parentPid, processCpu, totalUs } from './proc-stats.js';

/*
 * Where the CPU goes, without a profiler: CPU time of every party of an HTTP run over its
 * measured window, per request. Parties: the server under test (the service, or the
 * baseline server), the load generator, the PostgreSQL backends connected to the benchmark's
 * database (plus autovacuum workers on it), and PostgreSQL's shared processes (postmaster,
 * checkpointer, walwriter, background writer… which serve every database on the server,
 * so other users of the server show up there). "Machine" is the busy time of every CPU;
 * what it holds beyond the parties is everyone else (the bench process, other engineers).
 */

/** pid → CPU µs, for a set of processes. */
type CpuByPid = ReadonlyMap<number, number>;

interface Snapshot {
  readonly server: number | undefined;
  readonly loadGenerator: number | undefined;
  readonly backends: CpuByPid;
  readonly shared: CpuByPid;
  readonly machine: number | undefined;
}

/** CPU µs per request of each party over one window; undefined where /proc could not tell. */
export interface CpuPerRequest {
  readonly requests: number;
  readonly serverUs: number | undefined;
  readonly loadGeneratorUs: number | undefined;
  readonly postgresBackendsUs: number;
  readonly postgresSharedUs: number;
  readonly machineUs: number | undefined;
  /** Wall time × CPUs / requests: what the machine could give each request. */
  readonly capacityUs: number;
  /** PostgreSQL backends of the database that were there at the start and gone at the end (their CPU is lost). */
  readonly vanishedBackends: number;
}

const PG_PROCESSES = `
SELECT pid, (datname = $1) AS ours
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid() AND (datname = $1 OR datname IS NULL)`;

function cpuOf(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const t = processCpu(pid);
    if (t !== undefined) out.set(pid, t.ownUs);
  }
  return out;
}

/**
 * Takes CPU snapshots of the parties of one HTTP run. `admin` is a connection to another
 * database of the same server (its own backend is left out), used to list the backends.
 */
export class CpuAccounting {
  #postmaster: number | undefined;

  constructor(
    private readonly admin: pg.Client,
    private readonly database: string,
  ) {}

  async snapshot(serverPid: number, loadGeneratorPid: number): Promise<Snapshot> {
    // The processes we started first, before the round trip to list PostgreSQL's.
    const server = processCpu(serverPid);
    const loadGenerator = processCpu(loadGeneratorPid);
    const { rows } = await this.admin.query<{ pid: number; ours: boolean | null }>(PG_PROCESSES, [this.database]);
    const backends = rows.filter((r) => r.ours === true).map((r) => r.pid);
    const shared = rows.filter((r) => r.ours !== true).map((r) => r.pid);
    // The postmaster is not in pg_stat_activity: it is the parent of the shared processes.
    // Its own time only; its children's (every backend that ever exited) is everyone's.
    this.#postmaster ??= shared.map(parentPid).find((p) => p !== undefined && p > 1);
    if (this.#postmaster !== undefined) shared.push(this.#postmaster);
    return {
      server: server === undefined ? undefined : totalUs(server),
      loadGenerator: loadGenerator === undefined ? undefined : totalUs(loadGenerator),
      backends: cpuOf(backends),
      shared: cpuOf(shared),
      machine: machineBusyUs(),
    };
  }
}

/** A process that appeared during the window counts from zero: it started within it. */
function sumDelta(before: CpuByPid, after: CpuByPid): { us: number; vanished: number } {
  let us = 0;
  for (const [pid, end] of after) us += end - (before.get(pid) ?? 0);
  let vanished = 0;
  for (const pid of before.keys()) if (!after.has(pid)) vanished++;
  return { us, vanished };
}

const perRequest = (a: number | undefined, b: number | undefined, requests: number): number | undefined =>
  a === undefined || b === undefined ? undefined : (b - a) / requests;

export function cpuPerRequest(before: Snapshot, after: Snapshot, requests: number, wallMs: number, cpus: number): CpuPerRequest {
  const n = Math.max(1, requests);
  const backends = sumDelta(before.backends, after.backends);
  return {
    requests,
    serverUs: perRequest(before.server, after.server, n),
    loadGeneratorUs: perRequest(before.loadGenerator, after.loadGenerator, n),
    postgresBackendsUs: backends.us / n,
    postgresSharedUs: sumDelta(before.shared, after.shared).us / n,
    machineUs: perRequest(before.machine, after.machine, n),
    capacityUs: (wallMs * 1000 * cpus) / n,
    vanishedBackends: backends.vanished,
  };
}

const us = (v: number | undefined): string => (v === undefined ? 'n/a' : fmtInt(v));

/** One line: µs of CPU per request for each party. */
export function describeCpu(c: CpuPerRequest, serverName: string): string {
  const parties = (c.serverUs ?? 0) + (c.loadGeneratorUs ?? 0) + c.postgresBackendsUs + c.postgresSharedUs;
  const others = c.machineUs === undefined ? undefined : c.machineUs - parties;
  return (
    `CPU µs/request: ${serverName} ${us(c.serverUs)}, load generator ${us(c.loadGeneratorUs)}, ` +
    `PostgreSQL backends ${us(c.postgresBackendsUs)}, PostgreSQL shared ${us(c.postgresSharedUs)}; ` +
    `machine ${us(c.machineUs)} of ${us(c.capacityUs)} available (everything else ${us(others)})` +
    (c.vanishedBackends > 0 ? `; ${c.vanishedBackends} backend(s) exited during the window, not counted` : '')
  );
}
