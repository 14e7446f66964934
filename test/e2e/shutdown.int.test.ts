import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizeRequest, AuthorizeResult } from '../../src/application/ports/payment-provider.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

/** A card processor that takes its time, so a request is still running when SIGTERM comes. */
class SlowProvider extends SimulatedPaymentProvider {
  override async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    await new Promise((r) => setTimeout(r, 400));
    return super.authorize(request);
  }
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('shutdown');
});

afterAll(async () => {
  await db?.drop();
});

describe('graceful shutdown', () => {
  it('finishes the request in flight, refuses new connections, and leaves the projection healthy', async () => {
    const service = await startTestService(db.url, {}, { paymentProvider: new SlowProvider() });
    const inFlight = fetch(`${service.url}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await authHeader()) },
      body: JSON.stringify({ customerId: 'cus_s', amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }),
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopped = service.stop();
    const response = await inFlight;
    expect(response.status).toBe(201);
    await stopped;
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();

    const record = await db.pool.query<{ error: string | null }>(`SELECT error FROM projection_checkpoints WHERE name = 'payments'`);
    expect(record.rows).toEqual([{ error: null }]);
    // A second start picks up from the committed checkpoint and projects the payment.
    const again = await startTestService(db.url);
    try {
      const { id } = (await response.json()) as { id: string };
      const position = response.headers.get('ledger-position')!;
      const read = await fetch(`${again.url}/v1/payments/${id}?minPosition=${position}`, { headers: await authHeader() });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ id, status: 'succeeded' });
    } finally {
      await again.stop();
    }
  });
});
