import pg from 'pg';
import { PostgresProjectionStore } from '../../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { projectionTestDatabase } from '../projections/support/postgres-setup.js';
import { projectionStoreContract } from './contract.js';

const MISSING_RELATION = '42P01';

projectionStoreContract('PostgresProjectionStore', async () => {
  const database = await projectionTestDatabase('ps_contract');
  const { pool } = database.db;
  // Short heartbeats: a lease whose connection dies is noticed within the test's patience.
  const store = new PostgresProjectionStore(pool, { leaseHeartbeatMs: 200 });
  const others: PostgresProjectionStore[] = [];
  return {
    store,
    openInstance() {
      // Its own lease connection, named apart so that severLeases finds only the first store's.
      const other = new PostgresProjectionStore(pool, {
        leaseHeartbeatMs: 200,
        createLeaseClient: () => new pg.Client({ connectionString: database.db.url, application_name: 'ps-contract-other-instance' }),
      });
      others.push(other);
      return other;
    },
    async items(schema) {
      try {
        const result = await pool.query<{ id: string }>(`SELECT id FROM ${pg.escapeIdentifier(schema)}.items ORDER BY id`);
        return result.rows.map((r) => r.id);
      } catch (error) {
        if ((error as { code?: unknown }).code === MISSING_RELATION) return [];
        throw error;
      }
    },
    async changes(projection) {
      const result = await pool.query<{ topic: string; type: string; position: string; data: unknown }>(
        `SELECT topic, type, position_commit::text || '.' || position_prepare::text AS position, data
           FROM realtime_changes WHERE projection = $1 ORDER BY id`,
        [projection],
      );
      return result.rows;
    },
    async killConnection(sql) {
      await sql.query('SELECT pg_terminate_backend(pg_backend_pid())');
    },
    async severLeases() {
      const killed = await pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE '%:projection-leases'`,
      );
      if (killed.rowCount !== 1) throw new Error(`expected one lease connection, terminated ${killed.rowCount}`);
    },
    transientErrors: [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('deadlock detected'), { code: '40P01' }),
      Object.assign(new Error('could not serialize access'), { code: '40001' }),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection terminated unexpectedly'),
    ],
    permanentErrors: [
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('relation "nope" does not exist'), { code: '42P01' }),
      Object.assign(new Error('division by zero'), { code: '22012' }),
    ],
    async teardown() {
      for (const other of others) await other.close();
      await store.close();
      await database.drop();
    },
  };
});
