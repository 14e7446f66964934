/**
 * The narrow SQL surface that projections and read-model queries are written against.
 * Projections keep their SQL beside them; only infrastructure knows it is `pg`.
 */
export interface SqlResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

export interface SqlExecutor {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
}
