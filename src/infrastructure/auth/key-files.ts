import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { ConfigError } from '../config/config.js';

/**
 * Reading the key material named in the configuration. Errors name the setting and the
 * file, never the content: a private key pasted into the wrong variable must not end up in
 * a log.
 */

/** Asymmetric algorithms we accept; each key type gets exactly one (no algorithm confusion). */
export type AsymmetricAlgorithm = 'RS256' | 'ES256';
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = ['RS256', 'ES256'];

const MIN_RSA_BITS = 2_048;

export interface AsymmetricKey {
  readonly key: KeyObject;
  readonly algorithm: AsymmetricAlgorithm;
}

function readSetting(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** RS256 for an RSA key of at least 2048 bits, ES256 for a P-256 key; anything else is refused. */
export function algorithmFor(setting: string, key: KeyObject): AsymmetricAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) throw new ConfigError(`${setting}: RSA keys need at least ${MIN_RSA_BITS} bits`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  throw new ConfigError(`${setting}: only RSA (RS256) and P-256 (ES256) keys are supported`);
}

/** A PEM public key (SPKI, or an X.509 certificate) from a file. */
export function readPublicKeyFile(setting: string, path: string): AsymmetricKey {
  const pem = readSetting(setting, path);
  if (/PRIVATE KEY/.test(pem)) throw new ConfigError(`${setting}: ${path} holds a private key; the service needs only the public key`);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError(`${setting}: ${path} is not a PEM public key`);
  }
  return { key, algorithm: algorithmFor(setting, key) };
}

/** A PEM private key (PKCS#8, or PKCS#1 / SEC1) from a file, for minting only. */
export function readPrivateKeyFile(setting: string, path: string): AsymmetricKey {
  const pem = readSetting(setting, path);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError(`${setting}: ${path} is not a PEM private key (an encrypted key is not supported)`);
  }
  return { key, algorithm: algorithmFor(setting, key) };
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/**
 * A JWKS file (`{ "keys": [...] }`) of public RSA or EC keys. Private members (and
 * symmetric `oct` keys) are refused: the file is meant to be public, and a secret in it
 * would be a secret nobody is guarding.
 */
export function readJwksFile(setting: string, path: string): JSONWebKeySet {
  const text = readSetting(setting, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${setting}: ${path} is not JSON`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`${setting}: ${path} has no "keys" array`);
  for (const [i, k] of keys.entries()) {
    if (typeof k !== 'object' || k === null) throw new ConfigError(`${setting}: key ${i} in ${path} is not an object`);
    const jwk = k as Record<string, unknown>;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') throw new ConfigError(`${setting}: key ${i} in ${path}: only RSA and EC keys are supported`);
    if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) throw new ConfigError(`${setting}: key ${i} in ${path} is private; publish only public keys`);
  }
  return parsed as JSONWebKeySet;
}
