import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import type { AuditEvent } from '../../application/audit/audit-events.js';
import type { AuditReport, RebuildProgressReport, RebuildSummary } from '../../projections/rebuild.js';
import { readProjectionStatuses } from '../../projections/status.js';
import { TOKENS } from '../container/tokens.js';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export async function printStatuses(c: Container, json: boolean): Promise<number> {
  const statuses = await readProjectionStatuses({
    store: c.get(TOKENS.ProjectionStore),
    eventStore: c.get(TOKENS.EventStore),
    projections: c.get(TOKENS.Projections),
  });
  if (json) {
    console.log(JSON.stringify(statuses, null, 2));
    return 0;
  }
  const rows = [['NAME', 'VERSION', 'STATUS', 'CHECKPOINT', 'LAG', 'LEADER', 'ERROR']];
  for (const s of statuses) {
    rows.push([
      s.name,
      String(s.version),
      s.status,
      s.checkpoint ?? '-',
      `${s.lag}${s.lagExact ? '' : '+'}`,
      s.leader ?? '-',
      s.error ? `${s.error} (at ${s.failedPosition ?? '?'})` : '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((cell, i) => pad(cell, widths[i]!)).join('  ').trimEnd());
  return statuses.some((s) => s.status === 'failed') ? 1 : 0;
}

function progressPrinter(): (p: RebuildProgressReport) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (tty || now - last >= 1_000 || p.phase === 'finishing') {
      last = now;
      const line = `${p.name}: ${p.phase} ${p.processed} events (at ${p.position ?? 'start'}, head ${p.head ?? '-'})`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    }
  };
}

function auditEventOf(result: RebuildSummary | AuditReport): AuditEvent {
  return 'matches' in result
    ? { type: 'ProjectionAudited', data: { projection: result.name, checkpoint: result.checkpoint, processed: result.processed, matches: result.matches } }
    : { type: 'ProjectionRebuilt', data: { projection: result.name, version: result.version, checkpoint: result.checkpoint, processed: result.processed } };
}

/**
 * Runs a rebuild or an audit, then records it as an audit event with `actor`. The work is
 * done by then and cannot be undone: if the event cannot be appended, the result is still
 * printed, the failure is said on stderr and the exit code is 1, so that automation notices
 * an administrative action that is missing from the trail.
 */
export async function rebuildWithProgress(c: Container, mode: 'rebuild' | 'audit', name: string, actor: string): Promise<number> {
  const rebuilder = c.get(TOKENS.ProjectionRebuilder);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const result = mode === 'rebuild'
      ? await rebuilder.rebuild(name, progressPrinter(), controller.signal)
      : await rebuilder.audit(name, progressPrinter(), controller.signal);
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (!result.ok) {
      console.error(`${mode} ${name} failed: ${JSON.stringify(result.error)}`);
      return 1;
    }
    console.log(JSON.stringify(result.value, null, 2));
    try {
      await c.get(TOKENS.AuditLog).record(auditEventOf(result.value), actor, randomUUID());
    } catch (error) {
      console.error(`${mode} ${name} finished, but its audit event could not be recorded: ${(error as Error).message}`);
      return 1;
    }
    return 'matches' in result.value && !result.value.matches ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
