import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisputeCommandHandlers } from '../../src/application/disputes/dispute-command-handlers.js';
import type { DisputeCommands } from '../../src/application/ports/dispute-commands.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { toPaymentId } from '../../src/domain/ids.js';
import { SimulatedDisputeRunner } from '../../src/infrastructure/simulated-provider/simulated-dispute-runner.js';
import { DISPUTED_INTENT_PREFIX } from '../../src/infrastructure/simulated-provider/simulated-disputes.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase } from './support/postgres-setup.js';

/*
 * The simulated processor's reaction to captures (pm_card_createDispute), through
 * PostgreSQL's checkpoint: a crash after the dispute was opened and before the checkpoint
 * moved opens nothing twice; other cards' captures are passed by.
 */

const USD = toCurrencyCode('USD');
let t: ProjectionTestDatabase;
let service: Instance;
const disputed = toPaymentId('pay_01JG00000000000000000000A0');
const plain = toPaymentId('pay_01JG00000000000000000000B0');

async function paid(paymentId: string, providerPaymentId: string): Promise<void> {
  const metadata = { correlationId: 'c', causationId: null, actor: 't', occurredAt: '2026-11-28T10:00:00.000Z', schemaVersion: 1 };
  const ref = { paymentId, customerId: 'cus_sim', currency: USD };
  await service.eventStore.append(`payment-${paymentId}`, [
    { id: randomUUID(), type: 'PaymentAuthorized', data: { ...ref, amount: 4_000, paymentMethod: 'pm_card_createDispute', captureMethod: 'manual', providerPaymentId, description: null, metadata: {} }, metadata },
    { id: randomUUID(), type: 'PaymentCaptured', data: { ...ref, amount: 3_000, amountReleased: 1_000 }, metadata },
  ], 'no_stream');
}

beforeAll(async () => {
  t = await projectionTestDatabase('simulated_disputes');
  service = t.instance('sim');
  await paid(plain, 'pi_sim_plain');
  await paid(disputed, `${DISPUTED_INTENT_PREFIX}abc`);
});

afterAll(async () => {
  await t?.drop();
});

describe('SimulatedDisputeRunner', () => {
  it('opens the dispute of a captured pm_card_createDispute intent once, even when it crashed before its checkpoint', async () => {
    const index = { paymentIdFor: (id: string) => Promise.resolve(id === `${DISPUTED_INTENT_PREFIX}abc` ? disputed : id === 'pi_sim_plain' ? plain : undefined) };
    const real = new DisputeCommandHandlers(service.eventStore, index, new SystemClock(), new SystemIdGenerator(), undefined);
    const calls: string[] = [];
    const crashing: DisputeCommands = {
      async syncFromProvider(snapshot, ctx) {
        calls.push(snapshot.providerPaymentId);
        await real.syncFromProvider(snapshot, ctx);
        throw new Error('crash after the sync, before the checkpoint');
      },
    };
    const first = new SimulatedDisputeRunner({ eventStore: service.eventStore, store: service.store, disputes: crashing }, { instanceId: 'a' });
    await expect(first.runOnce()).rejects.toThrow('crash after the sync');

    const second = new SimulatedDisputeRunner({ eventStore: service.eventStore, store: service.store, disputes: real }, { instanceId: 'b' });
    expect(await second.runOnce()).toMatchObject({ kind: 'handled', opened: 0 });
    expect(await second.runOnce()).toEqual({ kind: 'idle' });
    expect(calls).toEqual([`${DISPUTED_INTENT_PREFIX}abc`]);

    const disputes = (await service.eventStore.readAll({ maxCount: 100 })).filter((e) => e.type.startsWith('Dispute'));
    expect(disputes.map((e) => e.type)).toEqual(['DisputeOpened']);
    expect(disputes[0]?.data).toMatchObject({ paymentId: disputed, amount: 3_000, currency: 'USD', status: 'needs_response', reason: 'fraudulent', feeAmount: 1_500, openedAt: '2026-11-28T10:00:00.000Z', evidenceDueBy: '2026-12-05T10:00:00.000Z' });
    expect(disputes[0]?.metadata).toMatchObject({ actor: 'simulated-processor' });
  });
});
