import pg from 'pg';

/**
 * Transactions committed in the benchmark's database (pg_stat_database.xact_commit; every
 * autocommitted statement counts as one). Backends publish these counters lazily, but always
 * when they exit: so a count is taken over a whole server's lifetime, from before it opens its
 * pool to after it has closed it, on a connection of our own whose statements we subtract.
 */
export class TransactionCounter {
  #statements = 0;
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<TransactionCounter> {
    const client = new pg.Client({ connectionString: url });
    // Dropping the database on Ctrl-C (WITH FORCE) ends this connection: not a crash.
    client.on('error', () => undefined);
    await client.connect();
    return new TransactionCounter(client);
  }

  async read(): Promise<bigint> {
    // Connections closed a moment ago may still be exiting (and flushing their counters).
    await new Promise((resolve) => setTimeout(resolve, 300));
    this.#statements++;
    const { rows } = await this.client.query<{ n: string }>(`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`);
    return BigInt(rows[0]?.n ?? '0');
  }

  /** CHECKPOINT through this connection, so that it is not counted as the server's. */
  async checkpoint(): Promise<void> {
    this.#statements++;
    await this.client.query('CHECKPOINT');
  }

  /** Statements this counter ran itself (they are transactions too). */
  get own(): number {
    return this.#statements;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/**
 * A server's lifetime, for its transactions per request: opened before the server starts
 * (before it opens its pool), closed after it has stopped (its backends have exited).
 */
export class TransactionSpan {
  /** Requests the server answered, warm-up included; the caller adds them up. */
  requests = 0;

  private constructor(
    private readonly counter: TransactionCounter,
    private readonly ownBefore: number,
    private readonly before: bigint,
  ) {}

  static async open(counter: TransactionCounter): Promise<TransactionSpan> {
    const ownBefore = counter.own;
    return new TransactionSpan(counter, ownBefore, await counter.read());
  }

  /** Transactions per request; the counter's own statements (but for this read) are subtracted. */
  async close(): Promise<number> {
    const after = await this.counter.read();
    return (Number(after - this.before) - (this.counter.own - this.ownBefore - 1)) / Math.max(1, this.requests);
  }
}
