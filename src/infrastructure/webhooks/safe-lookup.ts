import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { classifyAddress } from './address-classifier.js';

/*
 * The connect-time half of the SSRF guard: a `lookup` for node:net that resolves the name
 * itself and refuses when any address it resolves to is not public. The socket then
 * connects to exactly the address this returned, so a DNS answer that changes between the
 * check and the connect (rebinding) has nothing to slip through. IP literals never reach a
 * lookup (node:net connects to them directly): checkHost covers those.
 */

export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
  readonly code = 'EWEBHOOKFORBIDDEN';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** A lookup that refuses non-public addresses; with `allowPrivate`, the system's own. */
export function safeLookup(allowPrivate: boolean): Lookup {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses;
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname} resolves to no address`), { code: 'ENOTFOUND' }), []);
      if (!allowPrivate) {
        const bad = list.find((a) => classifyAddress(a.address) !== 'public');
        if (bad) return callback(new ForbiddenAddressError(`${hostname} resolves to ${bad.address} (${classifyAddress(bad.address)}), which webhooks may not reach`), []);
      }
      if (options.all) return callback(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/** An IP-literal host checked as the lookup would check a resolved one; a name passes here (the lookup judges it). */
export function literalHostProblem(hostname: string, allowPrivate: boolean): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (allowPrivate || isIP(bare) === 0) return undefined;
  const cls = classifyAddress(bare);
  return cls === 'public' ? undefined : `${bare} is a ${cls.replace('_', '-')} address, which webhooks may not reach`;
}

/** Resolves `hostname` (or takes the literal) and says why it is refused, if it is. For registration. */
export function hostProblem(hostname: string, allowPrivate: boolean): Promise<string | undefined> {
  const literal = literalHostProblem(hostname, allowPrivate);
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (literal !== undefined || isIP(bare) !== 0 || allowPrivate) return Promise.resolve(literal);
  return new Promise((resolve) => {
    safeLookup(false)(bare, { all: true }, (error) => {
      if (!error) return resolve(undefined);
      resolve(error instanceof ForbiddenAddressError ? error.message : `${hostname} does not resolve (${error.code ?? error.message})`);
    });
  });
}
