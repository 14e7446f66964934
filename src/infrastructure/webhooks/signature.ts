import { createHmac, randomBytes } from 'node:crypto';

/*
 * `Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with
 * the whole secret string (`whsec_` included, so a receiver never has to decode it). During
 * a rotation every live secret signs: one `v1=` each, newest first; a receiver accepts the
 * message if any matches its secret (docs/webhook-verification-snippet.js).
 */

export const SIGNATURE_HEADER = 'Ledger-Signature';
export const SECRET_PREFIX = 'whsec_';

export const newSigningSecret = (): string => `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;

export const signPayload = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  if (secrets.length === 0) throw new Error('an endpoint always has a signing secret');
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${signPayload(s, timestamp, body)}`)].join(',');
}
