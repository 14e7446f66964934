import type { LedgerMetrics } from '../../src/infrastructure/metrics/metrics.js';

type Labels = Record<string, string | number>;

/**
 * The value of the first series whose labels include `labels` (undefined when none),
 * read the way a scrape reads it: collect callbacks run.
 */
export async function valueOf(metrics: LedgerMetrics, name: string, labels: Labels = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => (v.labels as Labels)[k] === want))?.value;
}
