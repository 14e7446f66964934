import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `lk_<id>_<secret>`: the id (16 hex characters, 64 random bits) finds the row without
 * scanning; the secret (32 random bytes, base64url, 43 characters) proves possession.
 * Only a hash of the secret is stored. The id contains no `_`, so the secret, whose
 * alphabet does, is simply everything after the second separator.
 */
export const API_KEY_PREFIX = 'lk_';
const ID = /^[0-9a-f]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export const isApiKeyId = (value: string): boolean => ID.test(value);

export interface ApiKeyParts {
  readonly id: string;
  readonly secret: string;
}

export function newApiKey(): ApiKeyParts & { readonly plaintext: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, plaintext: `${API_KEY_PREFIX}${id}_${secret}` };
}

/** The parts of a well-formed key, or null. Says nothing about whether it is valid. */
export function parseApiKey(token: string): ApiKeyParts | null {
  if (!token.startsWith(API_KEY_PREFIX)) return null;
  const rest = token.slice(API_KEY_PREFIX.length);
  const separator = rest.indexOf('_');
  if (separator < 0) return null;
  const id = rest.slice(0, separator);
  const secret = rest.slice(separator + 1);
  return ID.test(id) && SECRET.test(secret) ? { id, secret } : null;
}

/**
 * How secrets are stored. With a pepper: HMAC-SHA256(pepper, secret), so a copy of the
 * table alone verifies nothing. Without: SHA-256(secret), which is enough for 256 random
 * bits (nothing to brute-force); no slow hash is needed, and none is wanted on every
 * request. `pepperId` fingerprints the pepper so that a key hashed under another pepper is
 * recognised as such rather than as a wrong secret.
 */
export interface SecretHasher {
  readonly pepperId: string | null;
  hash(secret: string): Buffer;
}

export function secretHasher(pepper: string | null): SecretHasher {
  if (pepper === null) {
    return { pepperId: null, hash: (secret) => createHash('sha256').update(secret, 'utf8').digest() };
  }
  // A one-way fingerprint of the pepper, so nothing about it can be learnt from the column.
  const pepperId = createHmac('sha256', pepper).update('ledger api key pepper id').digest('hex').slice(0, 16);
  return { pepperId, hash: (secret) => createHmac('sha256', pepper).update(secret, 'utf8').digest() };
}

/** Constant-time comparison of a presented secret's hash with the stored one. */
export function hashesEqual(presented: Buffer, stored: Buffer): boolean {
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
