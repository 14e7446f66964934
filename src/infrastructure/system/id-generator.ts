import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IdGenerator } from '../../application/ports/id-generator.js';
import { encodeTimeOrdered } from './crockford.js';

// RFC 9562 name-based UUIDs need a namespace; this one is ours and must never change,
// or retried commands would stop recognising their earlier writes.
const NAMESPACE = Buffer.from('6f0b6c1e8c2a4f7e9d3b5a1c2e4f6a8b', 'hex');

export class SystemIdGenerator implements IdGenerator {
  next(prefix: string): string {
    return prefix + encodeTimeOrdered(Date.now(), randomBytes(10));
  }

  deterministic(prefix: string, seed: string, at: Date): string {
    const entropy = createHash('sha256').update(seed).digest().subarray(0, 10);
    return prefix + encodeTimeOrdered(at.getTime(), entropy);
  }

  uuid(): string {
    return randomUUID();
  }

  /** UUID version 5 (SHA-1, name-based). */
  uuidFrom(seed: string): string {
    const hash = createHash('sha1').update(NAMESPACE).update(seed, 'utf8').digest();
    const b = Buffer.from(hash.subarray(0, 16));
    b[6] = ((b[6] as number) & 0x0f) | 0x50;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
