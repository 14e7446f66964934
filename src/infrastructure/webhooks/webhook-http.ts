import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { literalHostProblem, safeLookup } from './safe-lookup.js';

/*
 * One POST to a merchant's endpoint: through agents whose DNS lookup refuses non-public
 * addresses (unless allowed), with one deadline over connect, request and response, no
 * redirects followed (a 3xx is not a success, and following it would let the endpoint
 * point us anywhere), and at most RESPONSE_KEEP_BYTES of the answer kept for the log.
 */

export const RESPONSE_KEEP_BYTES = 1024;
export const USER_AGENT = 'Ledger-Webhooks/1.0';

export type PostOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly latencyMs: number; readonly body: string }
  | { readonly kind: 'error'; readonly error: string; readonly latencyMs: number };

export interface WebhookPoster {
  post(url: string, body: string, headers: Readonly<Record<string, string>>): Promise<PostOutcome>;
  close(): void;
}

export interface WebhookHttpOptions {
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
  /** Sockets per agent (endpoints are sent to one delivery at a time each). */
  readonly maxSockets: number;
}

export function createWebhookPoster(options: WebhookHttpOptions): WebhookPoster {
  const lookup = safeLookup(options.allowPrivate);
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, lookup, timeout: options.timeoutMs };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  const post = (url: string, body: string, headers: Readonly<Record<string, string>>): Promise<PostOutcome> => {
    const started = performance.now();
    const latency = (): number => Math.round(performance.now() - started);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ kind: 'error', error: 'invalid URL', latencyMs: 0 });
    }
    const refused = literalHostProblem(target.hostname, options.allowPrivate);
    if (refused) return Promise.resolve({ kind: 'error', error: refused, latencyMs: 0 });
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.resolve({ kind: 'error', error: `unsupported scheme ${target.protocol}`, latencyMs: 0 });

    return new Promise<PostOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: PostOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      const request = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          agent: secure ? httpsAgent : httpAgent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body).toString(), 'user-agent': USER_AGENT, ...headers },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          const done = (): void => finish({ kind: 'response', status: response.statusCode ?? 0, latencyMs: latency(), body: Buffer.concat(chunks).toString('utf8') });
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk.subarray(0, RESPONSE_KEEP_BYTES - kept));
            kept += Math.min(chunk.length, RESPONSE_KEEP_BYTES - kept);
            // Enough for the log: the rest is not read (the socket is given up instead).
            if (kept >= RESPONSE_KEEP_BYTES) {
              done();
              response.destroy();
            }
          });
          response.on('end', done);
          // A response cut off mid-body still told us its status.
          response.on('error', done);
          response.on('aborted', done);
        },
      );
      const deadline = setTimeout(() => {
        finish({ kind: 'error', error: `timed out after ${options.timeoutMs} ms`, latencyMs: latency() });
        request.destroy();
      }, options.timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', error: error.code ? `${error.code}: ${error.message}` : error.message, latencyMs: latency() }));
      request.end(body);
    });
  };

  return {
    post,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
