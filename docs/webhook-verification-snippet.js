import { createHmac, timingSafeEqual } from 'node:crypto';

// True when `rawBody` (the request's exact bytes) carries a valid Ledger-Signature for `secret` (the whole `whsec_…`).
export function verifyLedgerSignature(rawBody, header, secret, { toleranceSeconds = 300, now = Date.now() / 1000 } = {}) {
  const parts = String(header ?? '').split(',').map((part) => part.trim().split('='));
  const t = Number(parts.find(([key]) => key === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(now - t) > toleranceSeconds) return false; // stale or replayed
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  // During a secret rotation there is one v1= per live secret: any match will do.
  return parts.some(([key, value]) => key === 'v1' && /^[0-9a-f]{64}$/.test(value ?? '')
    && timingSafeEqual(Buffer.from(value, 'hex'), expected));
}
// Express: app.post('/hooks', express.raw({ type: 'application/json' }), (req, res) =>
//   verifyLedgerSignature(req.body, req.get('Ledger-Signature'), process.env.LEDGER_WEBHOOK_SECRET)
//     ? (handle(JSON.parse(req.body)), res.sendStatus(200)) : res.sendStatus(400));
