import { createServer } from 'node:http';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { attachRealtime } from '../../src/infrastructure/container/realtime.js';

describe('attachRealtime', () => {
  it('refuses connectionStateRecovery, which would let a reconnecting socket skip authentication', () => {
    const server = createServer();
    expect(() =>
      attachRealtime(server, { pool: {} as pg.Pool, serverOptions: { connectionStateRecovery: {} } }),
    ).toThrow(/connectionStateRecovery/);
  });
});
