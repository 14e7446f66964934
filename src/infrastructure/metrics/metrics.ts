import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HttpRequestSample {
  readonly method: string;
  /** The route pattern (`/v1/payments/:id`), never the raw path: label values must stay few. */
  readonly route: string;
  readonly status: number;
  readonly durationSeconds: number;
}

/** Payment commands as the HTTP layer names them in the `command` label. */
export type CommandName = 'create' | 'capture' | 'cancel';

/**
 * The service's Prometheus metrics, each in its own Registry so that two instances in
 * one process (tests) never collide on global names.
 */
export class LedgerMetrics {
  readonly registry: Registry;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly commands: Counter<'command' | 'outcome'>;
  private readonly idempotentReplays: Counter<'command'>;

  constructor(options: { readonly defaultMetrics?: boolean; readonly prefix?: string } = {}) {
    const prefix = options.prefix ?? 'ledger_';
    this.registry = new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix });
    this.httpDuration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request duration, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      // Commands target p99 < 25 ms; the buckets resolve that range finely.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.commands = new Counter({
      name: `${prefix}commands_total`,
      help: 'Payment commands executed, by command and outcome (success or the error code).',
      labelNames: ['command', 'outcome'],
      registers: [this.registry],
    });
    this.idempotentReplays = new Counter({
      name: `${prefix}idempotent_replays_total`,
      help: 'Command responses replayed from the idempotency store instead of executing again.',
      labelNames: ['command'],
      registers: [this.registry],
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeHttpRequest(sample: HttpRequestSample): void {
    this.httpDuration.observe({ method: sample.method, route: sample.route, status: String(sample.status) }, sample.durationSeconds);
  }

  countCommand(command: CommandName, outcome: string): void {
    this.commands.inc({ command, outcome });
  }

  countIdempotentReplay(command: CommandName): void {
    this.idempotentReplays.inc({ command });
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

export const createMetrics = (options?: ConstructorParameters<typeof LedgerMetrics>[0]): LedgerMetrics => new LedgerMetrics(options);
