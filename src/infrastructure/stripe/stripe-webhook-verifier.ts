import Stripe from 'stripe';

/*
 * Stripe's webhook signature check (Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of
 * "t.body">), done by the SDK's constructEvent over the raw bytes, as Stripe requires: a
 * body parsed and re-serialised would not verify. Several secrets are tried in order, so an
 * endpoint's secret can be rolled (Stripe signs with the old and the new one for a while).
 */

export type WebhookVerification =
  | { readonly ok: true; readonly event: VerifiedStripeEvent; readonly json: string }
  /** `stale`: the signature matched but its timestamp is older than the tolerance (a replay, or a clock far off). */
  | { readonly ok: false; readonly reason: 'missing_signature' | 'signature_mismatch' | 'stale' | 'not_an_event'; readonly message: string };

export interface VerifiedStripeEvent {
  readonly id: string;
  readonly type: string;
  /** Unix seconds, Stripe's. */
  readonly created: number;
  /** `data.object.id`, when the object has one. */
  readonly objectId: string | null;
}

/** Stripe's event ids; anything else is not an event, however well signed. */
const EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;
const EVENT_TYPE = /^[a-z0-9_.]{1,100}$/;

export class StripeWebhookVerifier {
  constructor(
    private readonly secrets: readonly string[],
    private readonly toleranceSeconds: number,
  ) {
    if (secrets.length === 0) throw new Error('StripeWebhookVerifier needs at least one secret');
  }

  verify(rawBody: Buffer, signatureHeader: string | undefined): WebhookVerification {
    if (signatureHeader === undefined || signatureHeader.trim() === '') {
      return { ok: false, reason: 'missing_signature', message: 'The Stripe-Signature header is missing.' };
    }
    let stale = false;
    for (const secret of this.secrets) {
      let parsed: unknown;
      try {
        parsed = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, this.toleranceSeconds);
      } catch (error) {
        if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
          // The SDK checks the signature first: "outside the tolerance" means this secret signed it.
          if (error.message.startsWith('Timestamp outside the tolerance zone')) stale = true;
          continue;
        }
        // Verified but not JSON (constructEvent parses after checking): signed garbage is still garbage.
        return { ok: false, reason: 'not_an_event', message: 'The signed body is not JSON.' };
      }
      const event = eventOf(parsed);
      if (!event) return { ok: false, reason: 'not_an_event', message: 'The signed body is not a Stripe event (id evt_…, type, created).' };
      return { ok: true, event, json: rawBody.toString('utf8') };
    }
    return stale
      ? { ok: false, reason: 'stale', message: `The signature's timestamp is more than ${this.toleranceSeconds} s old.` }
      : { ok: false, reason: 'signature_mismatch', message: 'The Stripe-Signature does not match the body with any configured secret.' };
  }
}

function eventOf(value: unknown): VerifiedStripeEvent | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { id, type, created, data } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !EVENT_ID.test(id)) return undefined;
  if (typeof type !== 'string' || !EVENT_TYPE.test(type)) return undefined;
  if (typeof created !== 'number' || !Number.isSafeInteger(created) || created < 0) return undefined;
  const object = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).object : undefined;
  const objectId = typeof object === 'object' && object !== null ? (object as Record<string, unknown>).id : undefined;
  return { id, type, created, objectId: typeof objectId === 'string' ? objectId.slice(0, 255) : null };
}
