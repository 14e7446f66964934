const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 48-bit millisecond time then 80 bits from `entropy`, as 26 Crockford base32 characters (ULID layout). */
export function encodeTimeOrdered(timeMs: number, entropy: Uint8Array): string {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0 || timeMs >= 2 ** 48) throw new RangeError(`time out of range: ${timeMs}`);
  if (entropy.length < 10) throw new RangeError('need 10 bytes of entropy');
  let out = '';
  let t = timeMs;
  for (let i = 9; i >= 0; i--) {
    out = (ALPHABET[t % 32] as string) + out;
    t = Math.floor(t / 32);
  }
  // 80 bits = 16 characters of 5 bits.
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | (entropy[i] as number);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31] as string;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}
