// Response cache in front of the request path (STYLE habit 8: the per-query path is lookups and buffer
// copies). A well-formed query in the common shape (one question, no answer/authority records, at most an
// OPT) is keyed on its question (name lower-cased: RFC 1035 §2.3.3, RFC 4343), the EDNS bits that change
// the answer (DO: RFC 3225; CO: RFC 9824 §5.1) and the size limit the answer was built for (the UDP
// payload size class, or TCP). The stored bytes are the encoded response; a hit copies them and patches
// what differs between clients: the ID, RD and CD (RFC 1035 §4.1.1, RFC 4035 §3.2.2 copy them from the
// query) and the question name's case (same length, so every compression pointer stays valid; answer
// owners and compact-denial owners point into the question, so they follow its case, as on the full path).
//
// A TSIG-signed query (RFC 8945) is never keyed: its TSIG is a record other than the one OPT allowed here, and its
// answer carries a MAC over that one request, so it is made (and signed) afresh every time.
//
// Invalidation: an entry belongs to one served set (the manager swaps `served()` as one object, so its
// identity is the generation), and carries an expiry: signed answers never outlive the point where the
// signer starts making signatures of a new window (ZoneSigningImpl.refreshAt).

/** Where a cacheable query's question ends and what the cache key is. */
export interface CacheKey {
  key: string;
  /** Offset just after the question name (the name is msg[12 .. nameEnd)). */
  nameEnd: number;
}

const TYPE_OPT = 41;

/**
 * The cache key of a query in the simple shape, or undefined when the query must take the full path
 * (anything unusual: a response, another opcode, several questions, compression in the question, a
 * non-ASCII name byte, records other than one OPT, a malformed or non-version-0 OPT). Never looser than
 * `parseQuery`: a message keyed here is one the full path accepts with exactly these key fields.
 */
export function cacheKey(msg: Uint8Array, limit: (udpSize: number | undefined) => number): CacheKey | undefined {
  const len = msg.length;
  if (len < 17) return undefined;
  // QR=0, OPCODE=QUERY (RFC 1035 §4.1.1); one question, no answer or authority records, at most one more.
  if ((msg[2] & 0xf8) !== 0) return undefined;
  if (msg[4] !== 0 || msg[5] !== 1 || msg[6] !== 0 || msg[7] !== 0 || msg[8] !== 0 || msg[9] !== 0 || msg[10] !== 0) return undefined;
  const arcount = msg[11];
  if (arcount > 1) return undefined;
  const nameEnd = questionNameEnd(msg);
  if (nameEnd < 0) return undefined;
  const qEnd = nameEnd + 4;
  if (qEnd > len) return undefined;
  let flags = 0;
  let udpSize: number | undefined;
  if (arcount === 1) {
    // OPT (RFC 6891 §6.1.2): root owner, type 41, class = payload size, TTL = ext-rcode, version, flags.
    const p = qEnd;
    if (p + 11 > len || msg[p] !== 0 || ((msg[p + 1] << 8) | msg[p + 2]) !== TYPE_OPT) return undefined;
    if (msg[p + 6] !== 0) return undefined; // version 0 only (others are BADVERS, RFC 6891 §6.1.3)
    const size = (msg[p + 3] << 8) | msg[p + 4];
    udpSize = size < 512 ? 512 : size;
    flags = 1 | (msg[p + 7] & 0xc0); // 1: OPT present; DO = 0x80, CO = 0x40 of the high flags octet
    const rdlen = (msg[p + 9] << 8) | msg[p + 10];
    const end = p + 11 + rdlen;
    if (end > len) return undefined;
    // Options must lie whole inside the RDATA, as parseQuery requires; their content does not change the answer.
    let q = p + 11;
    while (q < end) {
      if (q + 4 > end) return undefined;
      q += 4 + ((msg[q + 2] << 8) | msg[q + 3]);
      if (q > end) return undefined;
    }
  }
  const size = limit(udpSize);
  const key = String.fromCharCode(flags, size >> 8, size & 0xff) + questionText(msg, nameEnd);
  return { key, nameEnd };
}

/**
 * Where the question's name ends (just after its root label), for a name of plain ASCII labels (so lower-casing is
 * exactly RFC 4343's) within the message; -1 for anything else (compression, a non-ASCII octet, too long).
 */
export function questionNameEnd(msg: Uint8Array): number {
  const len = msg.length;
  let o = 12;
  let total = 1;
  for (;;) {
    if (o >= len) return -1;
    const l = msg[o];
    if (l === 0) return o + 1;
    if (l > 63) return -1;
    total += l + 1;
    if (total > 255 || o + 1 + l >= len) return -1;
    for (let i = o + 1; i <= o + l; i++) if (msg[i] >= 0x80) return -1;
    o += 1 + l;
  }
}

/** The question (name lower-cased, type, class) as latin1: the part of a cache key every query and its answer share. */
export function questionText(msg: Uint8Array, nameEnd: number): string {
  return Buffer.from(msg.buffer, msg.byteOffset + 12, nameEnd + 4 - 12).toString('latin1').toLowerCase();
}

interface Entry {
  key: string;
  wire: Uint8Array;
  /** Epoch seconds from which the entry is not served. */
  expiresAt: number;
  /** The caller's number for the answer (its query-counter cell, metrics/queries.ts); -1: none. */
  cell: number;
}

export interface ResponseCacheOptions {
  /** Most entries kept (default 50 000); the oldest is dropped first. */
  max?: number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  stores: number;
}

export class ResponseCache {
  private readonly max: number;
  private map = new Map<string, Entry>();
  // Insertion order as a ring of entries (an entry dropped early stays here until its turn and is then
  // skipped). Not `map.keys().next()`: after many deletes that walks every deleted slot V8 keeps in the
  // table until its next rehash, which made a store cost thousands of steps under a stream of new names.
  private ring: (Entry | undefined)[] = [];
  private head = 0;
  private count = 0;
  private generation: object | undefined;
  readonly stats: ResponseCacheStats = { hits: 0, misses: 0, stores: 0 };
  /** The `cell` stored with the answer the last hit returned (so a hit is counted without parsing the query). */
  lastCell = -1;
  /** The expiry (epoch seconds) of the answer the last hit returned. */
  lastExpiresAt = 0;

  constructor(opts: ResponseCacheOptions = {}) {
    this.max = Math.max(1, opts.max ?? 50_000);
  }

  get size(): number {
    return this.map.size;
  }

  /** Drops everything when the served set is not the one the entries were made from. */
  private sync(generation: object): void {
    if (generation !== this.generation) {
      this.generation = generation;
      this.clear();
    }
  }

  /**
   * The response for `query` (keyed by `k`) from the served set `generation` at `now`, patched for this
   * query; undefined on a miss.
   */
  get(generation: object, k: CacheKey, query: Uint8Array, now: number): Uint8Array | undefined {
    this.sync(generation);
    const e = this.map.get(k.key);
    if (!e) {
      this.stats.misses++;
      return undefined;
    }
    if (now >= e.expiresAt) {
      this.map.delete(k.key);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.lastCell = e.cell;
    this.lastExpiresAt = e.expiresAt;
    const out = Buffer.allocUnsafe(e.wire.length);
    out.set(e.wire);
    out[0] = query[0]; // ID
    out[1] = query[1];
    out[2] = (out[2] & 0xfe) | (query[2] & 0x01); // RD
    out[3] = (out[3] & 0xef) | (query[3] & 0x10); // CD
    out.set(query.subarray(12, k.nameEnd), 12); // the question name in the client's case
    return out;
  }

  /** Stores an encoded response made from `generation`; kept until `expiresAt` (epoch seconds). `cell`: see Entry. */
  set(generation: object, k: CacheKey, wire: Uint8Array, now: number, expiresAt: number, cell = -1): void {
    if (expiresAt <= now) return;
    this.sync(generation);
    this.stats.stores++;
    const old = this.map.get(k.key);
    if (old) {
      // A new answer for a key still held keeps its place in the order.
      old.wire = wire;
      old.expiresAt = expiresAt;
      old.cell = cell;
      return;
    }
    if (this.count === this.max) {
      const oldest = this.ring[this.head]!;
      if (this.map.get(oldest.key) === oldest) this.map.delete(oldest.key);
      this.head = (this.head + 1) % this.max;
      this.count--;
    }
    const e: Entry = { key: k.key, wire, expiresAt, cell };
    this.ring[(this.head + this.count) % this.max] = e;
    this.count++;
    this.map.set(k.key, e);
  }

  clear(): void {
    this.map = new Map();
    this.ring = [];
    this.head = 0;
    this.count = 0;
  }
}
