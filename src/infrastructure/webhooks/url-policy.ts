import type { UrlPolicy } from '../../application/webhooks/webhook-endpoints.js';
import { hostProblem } from './safe-lookup.js';

/*
 * The registration-time half of the SSRF guard (the connect-time half is safe-lookup.ts):
 * https only in production (http too elsewhere, for local receivers), no credentials in
 * the URL, and a host that resolves to public addresses only, unless
 * WEBHOOK_ALLOW_PRIVATE_URLS=true (refused in production by the config).
 */

export const MAX_URL_LENGTH = 2048;

export function webhookUrlPolicy(options: { readonly production: boolean; readonly allowPrivate: boolean }): UrlPolicy {
  return async (text) => {
    if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'is not a valid absolute URL';
    }
    const schemes = options.production ? ['https:'] : ['https:', 'http:'];
    if (!schemes.includes(url.protocol)) return options.production ? 'must use https' : 'must use https (or http outside production)';
    if (url.username !== '' || url.password !== '') return 'must not carry credentials';
    if (url.hash !== '') return 'must not have a fragment';
    return hostProblem(url.hostname, options.allowPrivate);
  };
}
