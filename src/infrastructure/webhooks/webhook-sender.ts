import { randomUUID } from 'node:crypto';
import type { Clock } from '../../application/ports/clock.js';
import { WakeSignal, sleep } from '../../application/support/timing.js';
import { DISABLE_ENDPOINT_AFTER_MS, afterFailure } from '../../application/webhooks/retry-schedule.js';
import { liveSecrets } from '../../application/webhooks/webhook-endpoints.js';
import type { ProjectionLogger } from '../../projections/logger.js';
import { describeError, silentLogger } from '../../projections/logger.js';
import type { AttemptRecord, ClaimedDelivery, WebhookDeliveryQueue } from '../postgres/webhooks/webhook-delivery-queue.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';
import type { PostOutcome, WebhookPoster } from './webhook-http.js';

/*
 * The sender (README, "Webhooks"): runs in every instance. It claims due deliveries (each
 * endpoint's oldest pending one only, so an endpoint hears its events in log order; see
 * webhook-delivery-queue.ts), up to `concurrency` in flight across endpoints, signs and
 * posts each, and records the attempt: 2xx → succeeded; anything else, a timeout or a
 * refused connection → the retry schedule (retry-schedule.ts) or, past 3 days, failed.
 * Every time comes from the Clock, so tests step a clock instead of waiting.
 */

export interface WebhookSenderOptions {
  /** Deliveries in flight at once, across endpoints. */
  readonly concurrency: number;
  /** The POST's deadline; a claim lasts this plus LEASE_MARGIN_MS. */
  readonly timeoutMs: number;
  /** Longest pause between looks when nothing was due (a fan-out in this process wakes it sooner). */
  readonly pollMs?: number;
  readonly logger?: ProjectionLogger;
  readonly random?: () => number;
  /**
   * After a success, claim the endpoint's next delivery in the same statement and send it
   * at once (default true). Tests that step through rounds turn it off.
   */
  readonly chain?: boolean;
}

/** Deliveries one slot sends back to back before it goes back through the claim (fairness across endpoints). */
const MAX_CHAIN = 100;

/** Covers the time between the POST's end and the recording of its outcome. */
export const LEASE_MARGIN_MS = 5_000;
const ERROR_BACKOFF_MS = 1_000;

export type SendResult = { readonly deliveryId: string; readonly status: AttemptRecord['status']; readonly recorded: boolean };

export class WebhookSender {
  private readonly wakeSignal = new WakeSignal();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly logger: ProjectionLogger;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: { readonly queue: WebhookDeliveryQueue; readonly poster: WebhookPoster; readonly clock: Clock },
    private readonly options: WebhookSenderOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    this.wakeSignal.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    this.loop = undefined;
    this.controller = undefined;
  }

  /** Look for due deliveries now. */
  wake(): void {
    this.wakeSignal.wake();
  }

  /** Claims what is due now (up to the concurrency) and sends it all; resolves when recorded. For tests. */
  async runOnce(): Promise<SendResult[]> {
    const claimed = await this.claim(this.options.concurrency);
    return (await Promise.all(claimed.map((d) => this.sendChain(d)))).flat();
  }

  /** Sends one delivery now, whatever its status (POST …/deliveries/:id/retry); undefined if another sender holds it. */
  async resend(endpointId: string, deliveryId: string): Promise<SendResult | undefined> {
    const now = this.deps.clock.now();
    const token = randomUUID();
    const claimed = await this.deps.queue.claimOne(endpointId, deliveryId, now, token, this.leaseUntil(now));
    return claimed ? this.send({ ...claimed, token }) : undefined;
  }

  private leaseUntil(now: Date): Date {
    return new Date(now.getTime() + this.options.timeoutMs + LEASE_MARGIN_MS);
  }

  private async claim(limit: number): Promise<(ClaimedDelivery & { token: string })[]> {
    const now = this.deps.clock.now();
    const token = randomUUID();
    const claimed = await this.deps.queue.claimDue(now, limit, token, this.leaseUntil(now));
    return claimed.map((d) => ({ ...d, token }));
  }

  /** Sends `first`, then whatever the recording chains after it (the same endpoint's next ones), up to MAX_CHAIN. */
  private async sendChain(first: ClaimedDelivery & { readonly token: string }): Promise<SendResult[]> {
    const results: SendResult[] = [];
    let current: (ClaimedDelivery & { readonly token: string }) | undefined = first;
    while (current) {
      // Stopping: finish this one, claim nothing more (a claim would only wait out its lease).
      const chain = this.options.chain !== false && results.length + 1 < MAX_CHAIN && this.controller?.signal.aborted !== true;
      const { result, next } = await this.sendOne(current, chain);
      results.push(result);
      current = next ? { ...next, token: current.token } : undefined;
    }
    return results;
  }

  private async send(d: ClaimedDelivery & { readonly token: string }): Promise<SendResult> {
    return (await this.sendOne(d, false)).result;
  }

  private async sendOne(d: ClaimedDelivery & { readonly token: string }, chain: boolean): Promise<{ result: SendResult; next: ClaimedDelivery | undefined }> {
    const signedAt = this.deps.clock.now();
    const secrets = liveSecrets(d, signedAt);
    const timestamp = Math.floor(signedAt.getTime() / 1000);
    const outcome = await this.deps.poster.post(d.url, d.payload, { [SIGNATURE_HEADER]: signatureHeader(secrets, timestamp, d.payload) });
    const at = this.deps.clock.now();
    const status = this.nextStatus(d, outcome, at);
    const { recorded, next } = await this.deps.queue.record({
      deliveryId: d.id,
      leaseToken: d.token,
      at,
      statusCode: outcome.kind === 'response' ? outcome.status : null,
      latencyMs: outcome.latencyMs,
      error: outcome.kind === 'error' ? outcome.error : isSuccess(outcome) ? null : `HTTP ${outcome.status}`,
      responseBody: outcome.kind === 'response' ? outcome.body : null,
      status: status.status,
      nextAttemptAt: status.nextAttemptAt,
      disableIfFailingSince: new Date(at.getTime() - DISABLE_ENDPOINT_AFTER_MS),
      disableReason: `every delivery failed for ${DISABLE_ENDPOINT_AFTER_MS / 86_400_000} days`,
      chainUntil: chain ? this.leaseUntil(at) : undefined,
    });
    if (!recorded) this.logger.warn({ delivery: d.id }, 'webhooks: a claim lapsed before its outcome was recorded; another sender took the delivery');
    return { result: { deliveryId: d.id, status: status.status, recorded }, next };
  }

  private nextStatus(d: ClaimedDelivery, outcome: PostOutcome, at: Date): Pick<AttemptRecord, 'status' | 'nextAttemptAt'> {
    if (isSuccess(outcome)) return { status: 'succeeded', nextAttemptAt: null };
    // A manual re-send of a finished delivery does not reopen it.
    if (d.status !== 'pending') return { status: d.status, nextAttemptAt: null };
    const next = afterFailure(d.attempts + 1, d.firstAttemptAt ?? at, at, this.options.random);
    return next.kind === 'retry' ? { status: 'pending', nextAttemptAt: next.at } : { status: 'failed', nextAttemptAt: null };
  }

  private async run(signal: AbortSignal): Promise<void> {
    const pollMs = this.options.pollMs ?? 500;
    while (!signal.aborted) {
      const generation = this.wakeSignal.generation;
      let claimed: (ClaimedDelivery & { token: string })[] = [];
      try {
        claimed = await this.claim(this.options.concurrency - this.inFlight.size);
      } catch (error) {
        this.logger.error({ err: describeError(error) }, 'webhooks: could not claim deliveries');
        await sleep(ERROR_BACKOFF_MS, signal);
        continue;
      }
      for (const d of claimed) {
        const sending: Promise<unknown> = this.sendChain(d)
          .catch((error: unknown) => this.logger.error({ err: describeError(error), delivery: d.id }, 'webhooks: could not record an attempt; the claim lapses and it is sent again'))
          .finally(() => {
            this.inFlight.delete(sending);
            // A finished delivery may have unblocked its endpoint's next one.
            this.wakeSignal.wake();
          });
        this.inFlight.add(sending);
      }
      if (claimed.length === 0 || this.inFlight.size >= this.options.concurrency) await this.wakeSignal.wait(generation, pollMs, signal);
    }
  }
}

const isSuccess = (outcome: PostOutcome): boolean => outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
