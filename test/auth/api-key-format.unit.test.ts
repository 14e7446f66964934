import { describe, expect, it } from 'vitest';
import { ApiKeyCache } from '../../src/infrastructure/auth/api-key-cache.js';
import { hashesEqual, newApiKey, parseApiKey, secretHasher } from '../../src/infrastructure/auth/api-key-format.js';

describe('API key format', () => {
  it('round-trips lk_<id>_<secret>, including secrets that contain _', () => {
    for (let i = 0; i < 200; i++) {
      const key = newApiKey();
      expect(key.plaintext).toMatch(/^lk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(parseApiKey(key.plaintext)).toEqual({ id: key.id, secret: key.secret });
    }
  });

  it('parses nothing that is not exactly a key', () => {
    const { plaintext } = newApiKey();
    for (const bad of ['', 'lk_', 'lk_abc_def', plaintext.slice(0, -1), `${plaintext}x`, plaintext.replace('lk_', 'LK_'), `lk_${'g'.repeat(16)}_${'a'.repeat(43)}`, `lk_${'a'.repeat(16)}_${'a'.repeat(42)}=`]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it('hashes with or without a pepper, and the two never agree', () => {
    const plain = secretHasher(null);
    const peppered = secretHasher('pepper-1');
    const other = secretHasher('pepper-2');
    expect(plain.pepperId).toBeNull();
    expect(peppered.pepperId).toMatch(/^[0-9a-f]{16}$/);
    expect(peppered.pepperId).not.toBe(other.pepperId);
    expect(peppered.pepperId).not.toContain('pepper');
    expect(hashesEqual(peppered.hash('s'), peppered.hash('s'))).toBe(true);
    expect(hashesEqual(peppered.hash('s'), plain.hash('s'))).toBe(false);
    expect(hashesEqual(peppered.hash('s'), other.hash('s'))).toBe(false);
    expect(hashesEqual(peppered.hash('s'), Buffer.alloc(5))).toBe(false);
  });
});

describe('ApiKeyCache', () => {
  it('expires entries ttl after loading, however often they are read', () => {
    const cache = new ApiKeyCache<string>(1_000, 10);
    cache.set('a', 'A', 0);
    expect(cache.get('a', 500)).toBe('A');
    expect(cache.get('a', 999)).toBe('A');
    expect(cache.get('a', 1_000)).toBeUndefined();
  });

  it('treats a clock that went backwards as expired', () => {
    const cache = new ApiKeyCache<string>(1_000, 10);
    cache.set('a', 'A', 5_000);
    expect(cache.get('a', 4_000)).toBeUndefined();
  });

  it('evicts the least recently used beyond its bound', () => {
    const cache = new ApiKeyCache<string>(10_000, 2);
    cache.set('a', 'A', 0);
    cache.set('b', 'B', 0);
    cache.get('a', 1);
    cache.set('c', 'C', 2);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 3)).toBeUndefined();
    expect(cache.get('a', 3)).toBe('A');
    expect(cache.get('c', 3)).toBe('C');
  });
});
