import type pg from 'pg';

/** What a unit of work decided: commit its effects, or roll them back; either way, its value. */
export interface Decision<T> {
  readonly commit: boolean;
  readonly value: T;
}

/**
 * BEGIN, the work, then COMMIT or ROLLBACK as it decided; ROLLBACK if it throws. A client
 * that did not end its transaction cleanly is destroyed rather than returned to the pool,
 * and a failed COMMIT or ROLLBACK is thrown: the caller must not believe in an outcome
 * that may not have happened.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<Decision<T>>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no error listener, and a connection that dies under it (a
  // killed backend, a restart) emits 'error', which would otherwise crash the process.
  // The query in flight rejects anyway; here it is enough to stop the crash.
  const onError = (): void => undefined;
  client.on('error', onError);
  let clean = false;
  try {
    await client.query('BEGIN');
    let decision: Decision<T>;
    try {
      decision = await work(client);
    } catch (error) {
      await client.query('ROLLBACK').then(
        () => (clean = true),
        () => undefined,
      );
      throw error;
    }
    await client.query(decision.commit ? 'COMMIT' : 'ROLLBACK');
    clean = true;
    return decision.value;
  } finally {
    client.removeListener('error', onError);
    client.release(clean ? undefined : new Error('transaction did not end cleanly; discarding the connection'));
  }
}

/** Sets search_path for the rest of the transaction only. */
export async function setLocalSearchPath(client: pg.ClientBase, searchPath: string): Promise<void> {
  await client.query(`SELECT set_config('search_path', $1, true)`, [searchPath]);
}
