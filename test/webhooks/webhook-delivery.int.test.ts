import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookDelivery } from '../../src/application/ports/webhooks.js';
import { GIVE_UP_AFTER_MS } from '../../src/application/webhooks/retry-schedule.js';
import { paymentWireForm } from '../../src/infrastructure/http/wire-form.js';
import { createWebhookPoster } from '../../src/infrastructure/webhooks/webhook-http.js';
import { webhookUrlPolicy } from '../../src/infrastructure/webhooks/url-policy.js';
import type { Receiver } from './support/receiver.js';
import { startReceiver } from './support/receiver.js';
import type { Verify, WebhookRig } from './support/webhook-rig.js';
import { readmeSnippet, webhookRig } from './support/webhook-rig.js';

/*
 * Outbound webhooks end to end below HTTP: the fan-out over the real event log, the
 * sender posting to a real local receiver, on a stepped clock (no real waiting for a
 * schedule that spans 3 days), and every signature checked with the README's snippet.
 */

let rig: WebhookRig;
let receiver: Receiver;
let verify: Verify;

beforeAll(async () => {
  rig = await webhookRig('webhooks_delivery');
  receiver = await startReceiver();
  verify = await readmeSnippet();
});

afterAll(async () => {
  await rig?.close();
  await receiver?.close();
});

const by = { actor: 'test', correlationId: 'webhook-test' };

const nowSeconds = (): number => rig.clock.now().getTime() / 1000;

async function endpoint(path: string, events: string[] = ['payment.*']): Promise<{ id: string; secret: string }> {
  const created = await rig.endpoints.create({ url: `${receiver.url}${path}`, events }, by);
  if (!created.ok) throw new Error(JSON.stringify(created.error));
  return { id: created.value.endpoint.id, secret: created.value.secret };
}

async function onlyDelivery(endpointId: string): Promise<WebhookDelivery> {
  const [delivery, ...rest] = await rig.store.deliveries({ endpointId, limit: 10 });
  expect(rest).toHaveLength(0);
  return delivery!;
}

/** Sends what is due until nothing is (each endpoint's next delivery becomes due as the one before it is done). */
async function sendAllDue(maxRounds = 50): Promise<number> {
  let sent = 0;
  for (let i = 0; i < maxRounds; i++) {
    const round = await rig.sender.runOnce();
    if (round.length === 0) return sent;
    sent += round.length;
  }
  throw new Error('still sending after maxRounds');
}

describe('a delivery', () => {
  it('is the payment as GET shows it, with a stable id, signed so that the README snippet verifies it', async () => {
    const { id, secret } = await endpoint('/plain');
    const payment = await rig.pay(4_200);
    expect(await rig.drain()).toBe(1);
    expect(await sendAllDue()).toBe(1);

    const [got] = receiver.onPath('/plain');
    const header = got!.headers['ledger-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify(got!.body, header, secret, { now: nowSeconds() })).toBe(true);
    expect(verify(got!.body, header, 'whsec_someone_else', { now: nowSeconds() })).toBe(false);
    expect(got!.headers['content-type']).toBe('application/json');

    const body = JSON.parse(got!.body) as { id: string; type: string; createdAt: string; data: unknown };
    expect(Object.keys(body)).toEqual(['id', 'type', 'createdAt', 'data']);
    expect(body.type).toBe('payment.succeeded');
    expect(body.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(body.createdAt).toBe(payment.updatedAt);
    // The same bytes GET /v1/payments/:id sends for this revision.
    expect(JSON.stringify(body.data)).toBe(JSON.stringify(paymentWireForm(payment)));

    const delivery = await onlyDelivery(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200, eventId: body.id, eventType: 'payment.succeeded' });
    expect(delivery.attemptLog).toHaveLength(1);
    expect(delivery.attemptLog[0]!.responseBody).toBe('ok');
    await rig.endpoints.delete(id, by);
  });

  it('goes only to endpoints whose patterns match, and not for events from before the endpoint existed', async () => {
    const before = await rig.pay(10);
    await rig.drain();
    await sendAllDue();
    const refunds = await endpoint('/refunds-only', ['refund.*']);
    const manual = await endpoint('/manual', ['payment.requires_capture']);
    await rig.pay(11);
    await rig.pay(12, 'manual');
    await rig.drain();
    await sendAllDue();
    expect(await rig.store.deliveries({ endpointId: refunds.id, limit: 10 })).toHaveLength(0);
    const got = receiver.onPath('/manual').map((r) => JSON.parse(r.body) as { type: string; data: { amount: number; status: string } });
    expect(got.map((g) => [g.type, g.data.amount, g.data.status])).toEqual([['payment.requires_capture', 12, 'requires_capture']]);
    expect(receiver.onPath('/manual').some((r) => r.body.includes(before.id))).toBe(false);
    await rig.endpoints.delete(refunds.id, by);
    await rig.endpoints.delete(manual.id, by);
  });
});

describe('a failing endpoint', () => {
  it('is retried with exponential backoff on the injected clock (500, 500, then 200), every attempt logged', async () => {
    receiver.on('/flaky', (_r, n) => (n <= 2 ? 500 : 200));
    const { id, secret } = await endpoint('/flaky');
    await rig.pay(500);
    await rig.drain();
    const t0 = rig.clock.now().getTime();

    expect(await rig.sender.runOnce()).toEqual([expect.objectContaining({ status: 'pending' })]);
    let d = await onlyDelivery(id);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(d.nextAttemptAt?.getTime()).toBe(t0 + 30_000);
    // Not due yet: nothing is sent, however often the sender looks.
    rig.clock.step(29_999);
    expect(await rig.sender.runOnce()).toEqual([]);

    rig.clock.step(1);
    expect(await rig.sender.runOnce()).toEqual([expect.objectContaining({ status: 'pending' })]);
    d = await onlyDelivery(id);
    expect(d.attempts).toBe(2);
    expect(d.nextAttemptAt?.getTime()).toBe(t0 + 30_000 + 60_000);
    // Failing since the first failed attempt: the clock that disables it after 3 days.
    expect((await rig.endpoints.get(id))?.failingSince?.getTime()).toBe(t0);
    rig.clock.step(59_999);
    expect(await rig.sender.runOnce()).toEqual([]);

    rig.clock.step(1);
    expect(await rig.sender.runOnce()).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    d = await onlyDelivery(id);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 3, nextAttemptAt: null, lastStatusCode: 200 });
    expect((await rig.endpoints.get(id))?.failingSince).toBeNull();
    expect(d.attemptLog.map((a) => [a.attempt, a.statusCode, a.at.getTime() - t0])).toEqual([
      [1, 500, 0],
      [2, 500, 30_000],
      [3, 200, 90_000],
    ]);
    // Three sends of one event: one id, each signed anew and valid.
    const sends = receiver.onPath('/flaky');
    expect(new Set(sends.map((s) => (JSON.parse(s.body) as { id: string }).id)).size).toBe(1);
    for (const s of sends) expect(verify(s.body, s.headers['ledger-signature'] as string, secret, { now: t0 / 1000 + 90 })).toBe(true);
    await rig.endpoints.delete(id, by);
  });

  it('is retried for at least 3 days, then the delivery is failed and the endpoint disabled with a reason', async () => {
    receiver.on('/down', () => 503);
    const { id } = await endpoint('/down');
    await rig.pay(503);
    await rig.drain();
    const t0 = rig.clock.now().getTime();
    let d = await onlyDelivery(id);
    for (let i = 0; i < 40 && d.status === 'pending'; i++) {
      if (d.nextAttemptAt) rig.clock.set(d.nextAttemptAt);
      expect(await rig.sender.runOnce()).toHaveLength(1);
      d = await onlyDelivery(id);
    }
    expect(d.status).toBe('failed');
    const last = d.attemptLog.at(-1)!.at.getTime();
    expect(last - t0).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS);
    expect(last - t0).toBeLessThan(GIVE_UP_AFTER_MS + 13 * 3_600_000);
    const gaps = d.attemptLog.slice(1).map((a, i) => a.at.getTime() - d.attemptLog[i]!.at.getTime());
    expect(gaps.slice(0, 4)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(Math.max(...gaps)).toBe(12 * 3_600_000);
    const endpointNow = await rig.endpoints.get(id);
    expect(endpointNow).toMatchObject({ status: 'disabled', disabledReason: 'every delivery failed for 3 days' });

    // Disabled: new events are not fanned out to it.
    await rig.pay(504);
    await rig.drain();
    expect(await rig.store.deliveries({ endpointId: id, limit: 10 })).toHaveLength(1);
    await rig.endpoints.delete(id, by);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets for 24 hours, then with the new one only', async () => {
    const { id, secret: old } = await endpoint('/rotating');
    const rotated = await rig.endpoints.rotateSecret(id, by);
    if (!rotated.ok) throw new Error('rotation failed');
    const fresh = rotated.value.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);

    await rig.pay(700);
    await rig.drain();
    await sendAllDue();
    const [during] = receiver.onPath('/rotating');
    const header = during!.headers['ledger-signature'] as string;
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verify(during!.body, header, old, { now: nowSeconds() })).toBe(true);
    expect(verify(during!.body, header, fresh, { now: nowSeconds() })).toBe(true);

    rig.clock.step(24 * 3_600_000 + 1_000);
    await rig.pay(701);
    await rig.drain();
    await sendAllDue();
    const after = receiver.onPath('/rotating')[1]!;
    const afterHeader = after.headers['ledger-signature'] as string;
    expect(afterHeader.match(/v1=/g)).toHaveLength(1);
    expect(verify(after.body, afterHeader, fresh, { now: nowSeconds() })).toBe(true);
    expect(verify(after.body, afterHeader, old, { now: nowSeconds() })).toBe(false);
    await rig.endpoints.delete(id, by);
  });
});

describe('ordering', () => {
  it('keeps each endpoint in event order while a failing endpoint holds back only itself', async () => {
    receiver.on('/stuck', (_r, n) => (n === 1 ? 500 : 200));
    const stuck = await endpoint('/stuck');
    await endpoint('/fine');
    const amounts = [801, 802, 803, 804];
    for (const a of amounts) await rig.pay(a);
    await rig.drain();
    await sendAllDue();
    const amountsOn = (path: string): number[] => receiver.onPath(path).map((r) => (JSON.parse(r.body) as { data: { amount: number } }).data.amount);
    // /fine got everything, in order; /stuck got its first (which failed) and nothing after it.
    expect(amountsOn('/fine')).toEqual(amounts);
    expect(amountsOn('/stuck')).toEqual([801]);
    rig.clock.step(30_000);
    await sendAllDue();
    expect(amountsOn('/stuck')).toEqual([801, 801, 802, 803, 804]);
    await rig.endpoints.delete(stuck.id, by);
  });

  it('a slow endpoint does not hold back a fast one (the sender loop, real concurrency)', async () => {
    receiver.on('/slow', () => new Promise<number>((resolve) => setTimeout(() => resolve(200), 700)));
    await endpoint('/slow');
    await endpoint('/fast');
    const amounts = [901, 902, 903];
    for (const a of amounts) await rig.pay(a);
    await rig.drain();
    const started = Date.now();
    rig.sender.start();
    try {
      const amountsOn = (path: string): number[] => receiver.onPath(path).map((r) => (JSON.parse(r.body) as { data: { amount: number } }).data.amount).filter((a) => a >= 901);
      while (amountsOn('/fast').length < 3 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20));
      expect(amountsOn('/fast')).toEqual(amounts);
      // By then the slow one has had at most its first: one at a time, in order.
      expect(amountsOn('/slow').length).toBeLessThanOrEqual(1);
      while (amountsOn('/slow').length < 3 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(amountsOn('/slow')).toEqual(amounts);
    } finally {
      await rig.sender.stop();
    }
  });
});

describe('chaining (the next delivery claimed with the outcome of the one before)', () => {
  it('takes only the very next delivery of the endpoint, never one behind a delivery someone else holds', async () => {
    for (const e of await rig.store.list({ limit: 100 })) await rig.endpoints.delete(e.id, by);
    const { id } = await endpoint('/chain');
    for (const a of [1001, 1002, 1003]) await rig.pay(a);
    await rig.drain();
    const [d1, d2, d3] = (await rig.store.deliveries({ endpointId: id, limit: 10 })).reverse();
    const now = rig.clock.now();
    const until = new Date(now.getTime() + 60_000);
    const [claimed] = await rig.queue.claimDue(now, 10, 'token-a', until);
    expect(claimed?.id).toBe(d1!.id);
    // A manual re-send holds the second one right now.
    expect((await rig.queue.claimOne(id, d2!.id, now, 'token-b', until))?.id).toBe(d2!.id);
    const base = { at: now, statusCode: 200, latencyMs: 1, error: null, responseBody: 'ok', status: 'succeeded' as const, nextAttemptAt: null, disableIfFailingSince: new Date(0), disableReason: 'x', chainUntil: until };
    const first = await rig.queue.record({ ...base, deliveryId: d1!.id, leaseToken: 'token-a' });
    expect(first).toEqual({ recorded: true, next: undefined });
    const second = await rig.queue.record({ ...base, deliveryId: d2!.id, leaseToken: 'token-b' });
    expect(second.recorded).toBe(true);
    expect(second.next?.id).toBe(d3!.id);
    const third = await rig.queue.record({ ...base, deliveryId: d3!.id, leaseToken: 'token-b' });
    expect(third).toEqual({ recorded: true, next: undefined });
    // A claim that lapsed (someone else's token now) records nothing.
    expect((await rig.queue.record({ ...base, deliveryId: d3!.id, leaseToken: 'token-a' })).recorded).toBe(false);
    await rig.endpoints.delete(id, by);
  });
});

describe('the SSRF guard', () => {
  it('refuses, at connect time after DNS, names and literals that resolve to loopback, with private URLs not allowed', async () => {
    const strict = createWebhookPoster({ timeoutMs: 2_000, allowPrivate: false, maxSockets: 1 });
    try {
      const port = new URL(receiver.url).port;
      const before = receiver.received.length;
      const byName = await strict.post(`http://localhost:${port}/ssrf`, '{}', {});
      expect(byName).toMatchObject({ kind: 'error', error: expect.stringMatching(/localhost resolves to .* may not reach/) as unknown });
      const byLiteral = await strict.post(`http://127.0.0.1:${port}/ssrf`, '{}', {});
      expect(byLiteral).toMatchObject({ kind: 'error', error: expect.stringMatching(/loopback/) as unknown });
      const mapped = await strict.post(`http://[::ffff:127.0.0.1]:${port}/ssrf`, '{}', {});
      expect(mapped.kind).toBe('error');
      expect(receiver.received.length).toBe(before);
    } finally {
      strict.close();
    }
  });

  it('refuses such URLs at registration, and plain http in production', async () => {
    const policy = webhookUrlPolicy({ production: false, allowPrivate: false });
    expect(await policy('http://localhost:9/x')).toMatch(/loopback/);
    expect(await policy('https://169.254.169.254/latest/meta-data')).toMatch(/link-local/);
    expect(await policy('https://[fd00:ec2::254]/')).toMatch(/unique-local/);
    expect(await policy('https://10.1.2.3/')).toMatch(/private/);
    expect(await policy('https://user:pw@example.com/')).toMatch(/credentials/);
    expect(await policy('ftp://example.com/')).toMatch(/https/);
    expect(await webhookUrlPolicy({ production: true, allowPrivate: false })('http://8.8.8.8/')).toMatch(/must use https/);
    expect(await webhookUrlPolicy({ production: false, allowPrivate: false })('https://8.8.8.8/hooks')).toBeUndefined();
  });
});
