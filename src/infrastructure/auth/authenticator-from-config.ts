import type pg from 'pg';
import type { AuditLog } from '../../application/audit/audit-log.js';
import type { Config } from '../config/config.js';
import { apiKeyPepperFrom, developmentDefaultsWarning, jwtSecretFrom } from '../config/config.js';
import { secretHasher } from './api-key-format.js';
import type { ApiKeysLogger, ApiKeysOptions } from './api-keys.js';
import { ApiKeys } from './api-keys.js';
import { BearerAuthenticator } from './bearer-authenticator.js';
import { readJwksFile, readPublicKeyFile } from './key-files.js';
import { JwtVerifier } from './jwt-verifier.js';

/**
 * The JWT verifier the configuration describes: the HS256 secret (configured or, outside
 * production, the development default) and/or one public key or a JWKS file. Reads the key
 * files now, so a wrong path fails at start with a ConfigError naming the setting.
 */
export function jwtVerifierFromConfig(config: Config): JwtVerifier {
  const { secret } = jwtSecretFrom(config);
  return new JwtVerifier(
    {
      secret,
      publicKey: config.AUTH_JWT_PUBLIC_KEY_FILE === undefined ? null : readPublicKeyFile('AUTH_JWT_PUBLIC_KEY_FILE', config.AUTH_JWT_PUBLIC_KEY_FILE),
      jwks: config.AUTH_JWKS_FILE === undefined ? null : readJwksFile('AUTH_JWKS_FILE', config.AUTH_JWKS_FILE),
    },
    { issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE },
  );
}

/** The API key store with the configured pepper (or the development one). */
export function apiKeysFromConfig(
  config: Config,
  pool: pg.Pool,
  audit: AuditLog,
  options: Omit<ApiKeysOptions, 'hasher'> = {},
): ApiKeys {
  return new ApiKeys(pool, audit, { ...options, hasher: secretHasher(apiKeyPepperFrom(config).pepper) });
}

export interface AuthenticatorLogger extends ApiKeysLogger {
  info(object: Record<string, unknown>, message: string): void;
}

/**
 * The service's Authenticator: JWTs per the configuration, API keys from `apiKeys`. Logs
 * the development-default warning (never a secret) and which algorithms are accepted.
 */
export function authenticatorFromConfig(config: Config, apiKeys: ApiKeys, logger: AuthenticatorLogger): BearerAuthenticator {
  const warning = developmentDefaultsWarning(config);
  if (warning !== null) logger.warn({ nodeEnv: config.NODE_ENV }, warning);
  const jwt = jwtVerifierFromConfig(config);
  logger.info({ jwtAlgorithms: jwt.algorithms, issuer: config.AUTH_JWT_ISSUER ?? null, audience: config.AUTH_JWT_AUDIENCE ?? null }, 'authentication configured');
  return new BearerAuthenticator({
    jwt,
    apiKeys: { verify: (token, now) => apiKeys.authenticate(token, now) },
  });
}
