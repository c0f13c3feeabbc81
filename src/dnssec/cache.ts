// Signature cache: an LRU bounded by entry count, keyed by a hash of the signing key and the RFC 4034
// §3.1.8.1 signed data. The signed data already holds the signer (zone), key tag, window, type, labels,
// original TTL, canonical owner and canonical RRset, so a zone change invalidates exactly the RRsets that
// changed, and a new window period is a new key. Concurrent misses for one key share one in-flight
// signature (singleflight). Entries carry their own expiry on the injected clock.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface SignatureCacheOptions {
  /** Maximum number of cached signatures (default 100 000; about 200 bytes each). */
  max?: number;
}

export interface SignatureCacheStats {
  hits: number;
  misses: number;
  /** Misses that joined a signature already being made. */
  joined: number;
}

interface Entry {
  value: Uint8Array;
  /** Epoch seconds after which the entry is not served. */
  expiresAt: number;
}

/** Cache key: SHA-256 over the signer's DNSKEY RDATA and the signed data (base64, 44 characters). */
export function signatureCacheKey(dnskey: Uint8Array, tbs: Uint8Array): string {
  const h = createHash('sha256');
  h.update(Uint8Array.of(dnskey.length >> 8, dnskey.length & 0xff));
  h.update(dnskey);
  h.update(tbs);
  return h.digest('base64');
}

export class SignatureCache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  readonly stats: SignatureCacheStats = { hits: 0, misses: 0, joined: 0 };

  constructor(opts: SignatureCacheOptions = {}) {
    this.lru = new LRUCache<string, Entry>({ max: opts.max ?? 100_000 });
  }

  /** How many signatures it holds at most. */
  get capacity(): number {
    return this.lru.max;
  }

  get size(): number {
    return this.lru.size;
  }

  /** A cached value that has not expired at `now`, else undefined (an expired one is dropped). */
  peek(key: string, now: number): Uint8Array | undefined {
    const e = this.lru.get(key);
    if (!e) return undefined;
    if (now >= e.expiresAt) {
      this.lru.delete(key);
      return undefined;
    }
    return e.value;
  }

  /**
   * The cached value for `key`, or the result of `make()` (stored until `expiresAt`). While one `make()`
   * runs, other callers for the same key wait for it. A rejected `make()` is not cached.
   */
  getOrCreate(key: string, now: number, expiresAt: number, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.peek(key, now);
    if (hit) {
      this.stats.hits++;
      return Promise.resolve(hit);
    }
    const running = this.inflight.get(key);
    if (running) {
      this.stats.joined++;
      return running;
    }
    this.stats.misses++;
    // make() runs in a later microtask, so the promise is registered before it can settle.
    const p = Promise.resolve()
      .then(make)
      .then((value) => {
        if (expiresAt > now) this.lru.set(key, { value, expiresAt });
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  clear(): void {
    this.lru.clear();
  }
}
