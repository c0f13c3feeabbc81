// Response rate limiting (RRL) over UDP, in the manner of BIND's `rate-limit` and Knot's `mod-rrl`: a
// spoofed-source flood must not turn this server into an amplifier, and a random-subdomain flood from one
// network is cut to a trickle, while a real resolver behind a limited prefix still gets every slip-th
// answer as TC=1 and retries over TCP (never limited; RFC 7766).
//
// Accounts: one per client prefix (/24 IPv4, /56 IPv6 by default) x response class x the name the class is
// keyed on (BIND's choices):
//   positive  the question's name and type; an answer synthesized from a wildcard (RFC 4592) counts as the
//             wildcard's parent and the type, as BIND's, so random names under a wildcard share one account:
//             seen from an RRSIG's label count (RFC 4035 §5.3.2) or, since tandem signs each expansion as its
//             own name, asked of the zone (`wildcardParent`) when a name's account is first made
//   nxdomain  the zone (the SOA owner of the authority section), so random names share one account; compact
//             denial's NOERROR + NXNAME (RFC 9824 §3) is an NXDOMAIN here
//   nodata    the question's name, any type
//   referral  the delegation (the NS owner)
//   error     nothing but the prefix (FORMERR, SERVFAIL, REFUSED, NOTIMP, ...)
// Each account is a token bucket (BIND's "credit" scheme): it earns `rate` credits a second, never holds more
// than `rate`, pays one per response, and a response is limited while the balance is negative; the balance
// never falls below -window x rate, so a flood is remembered for `window` seconds after it stops. Classifying
// reads the response's wire bytes, so answers from the response cache and from the full path are accounted
// alike, with one call in udp.ts. Only answers to opcode QUERY are limited (NOTIFY and UPDATE answers are not).
//
// The table is bounded (`table-size` accounts, CLOCK replacement: an account used again since the hand last
// passed gets a second chance), so a flood of spoofed sources reuses old slots instead of growing memory. Each process (each
// cluster worker) holds its own table. Logging is per limited prefix and class: a line when limiting starts,
// a summary while it lasts (at most once a minute) and a line when it stops; never one line per query.
import type { Logger } from 'pino';
import type { BlockList } from 'node:net';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { lookup } from '../zone/lookup.js';
import type { Served } from '../state/manager.js';
import type { Clock } from '../dnssec/types.js';
import { exemptList, RRL_CLASSES, type RrlConfig } from '../config/rrl.js';

export { RRL_CLASSES, type RrlClass } from '../config/rrl.js';
// Indexes into RRL_CLASSES.
const POSITIVE = 0, NXDOMAIN = 1, NODATA = 2, REFERRAL = 3, ERROR = 4;

/** What `classify` found: the class, the two hashes of what the account is keyed on, and where its name is (-1: none). */
export interface Classified {
  cls: number;
  /** Offset of the question's type (just after its name); -1: no question read. */
  qtypeOff: number;
  /** Two 32-bit hashes (FNV-1a and a multiply-xorshift), kept in a typed array so the hot loop never boxes a number. */
  h: Int32Array;
  nameOff: number;
}

export function newClassified(): Classified {
  return { cls: -1, qtypeOff: -1, h: new Int32Array(2), nameOff: -1 };
}

const SEED1 = 0x811c9dc5 | 0, SEED2 = 0x9747b28c | 0;
const P1 = 0x01000193, P2 = 0x5bd1e995;

/** Offset just after the name at `off` as it stands in the message (a pointer ends it), or -1 when malformed. */
function skipName(msg: Uint8Array, off: number): number {
  for (;;) {
    if (off >= msg.length) return -1;
    const l = msg[off];
    if (l === 0) return off + 1;
    if ((l & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if (l > 63) return -1;
    off += 1 + l;
  }
}

function feed(c: Classified, b: number): void {
  const h = c.h;
  h[0] = Math.imul(h[0] ^ b, P1);
  const x = Math.imul(h[1] ^ b, P2);
  h[1] = x ^ (x >>> 15);
}

/** Feeds the name at `off` (compression followed, ASCII case folded: RFC 4343) into the hashes; false when malformed. */
function hashName(msg: Uint8Array, off: number, c: Classified): boolean {
  let h1 = c.h[0], h2 = c.h[1];
  let ok = false;
  for (let hops = 0; hops < 64;) {
    if (off >= msg.length) break;
    const l = msg[off];
    if ((l & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length) break;
      off = ((l & 0x3f) << 8) | msg[off + 1];
      hops++;
      continue;
    }
    if (l > 63 || off + 1 + l > msg.length) break;
    h1 = Math.imul(h1 ^ l, P1);
    h2 = Math.imul(h2 ^ l, P2);
    h2 ^= h2 >>> 15;
    if (l === 0) {
      ok = true;
      break;
    }
    for (let i = off + 1; i <= off + l; i++) {
      let b = msg[i];
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      h1 = Math.imul(h1 ^ b, P1);
      h2 = Math.imul(h2 ^ b, P2);
      h2 ^= h2 >>> 15;
    }
    off += 1 + l;
  }
  c.h[0] = h1;
  c.h[1] = h2;
  return ok;
}

/** Whether the NSEC RDATA at `rd` has the NXNAME bit (type 128: window 0, octet 16, bit 0x80; RFC 9824 §3). */
function hasNxname(msg: Uint8Array, rd: number, end: number): boolean {
  const p = skipName(msg, rd);
  // Windows come in increasing order: type 128 can only be in the first, window 0.
  if (p < 0 || p + 2 > end || msg[p] !== 0) return false;
  return msg[p + 1] >= 17 && p + 2 + 16 < end && (msg[p + 2 + 16] & 0x80) !== 0;
}

/**
 * The class of the response `resp` and the hash of the name (and type) its account is keyed on, written to `c`.
 * False for a message RRL leaves alone: not a response, not to opcode QUERY (RFC 1035 §4.1.1), too short.
 */
export function classify(resp: Uint8Array, c: Classified): boolean {
  const len = resp.length;
  if (len < 12 || (resp[2] & 0xf8) !== 0x80) return false;
  const rcode = resp[3] & 0xf;
  const qd = (resp[4] << 8) | resp[5], an = (resp[6] << 8) | resp[7], ns = (resp[8] << 8) | resp[9];
  c.h[0] = SEED1;
  c.h[1] = SEED2;
  c.nameOff = -1;
  c.qtypeOff = -1;
  c.cls = ERROR;
  if ((rcode !== 0 && rcode !== 3) || qd !== 1) return true;
  const nameEnd = skipName(resp, 12);
  if (nameEnd < 0 || nameEnd + 4 > len) return true;
  let o = nameEnd + 4;
  c.qtypeOff = nameEnd;
  if (rcode === 0 && an > 0) {
    c.cls = POSITIVE;
    // A wildcard answer (RFC 4592) is counted as its wildcard's parent: the RRSIG over the answer at the
    // question name (our writer points its owner at the question) has fewer labels than the name (RFC 4035 §5.3.2).
    let labels = -1;
    for (let i = 0; i < an; i++) {
      const owner = o;
      o = skipName(resp, o);
      if (o < 0 || o + 10 > len) break;
      const type = (resp[o] << 8) | resp[o + 1];
      if (type === RRType.RRSIG && resp[owner] === 0xc0 && resp[owner + 1] === 12 && o + 14 <= len) {
        labels = resp[o + 13];
        break;
      }
      o += 10 + ((resp[o + 8] << 8) | resp[o + 9]);
    }
    keyPositive(resp, c, labels);
    return true;
  }
  for (let i = 0; i < an && o >= 0; i++) {
    o = skipName(resp, o);
    if (o < 0 || o + 10 > len) return true;
    o += 10 + ((resp[o + 8] << 8) | resp[o + 9]);
  }
  let soa = -1, nsOwner = -1, nxname = false;
  for (let i = 0; i < ns; i++) {
    const owner = o;
    o = skipName(resp, o);
    if (o < 0 || o + 10 > len) break;
    const type = (resp[o] << 8) | resp[o + 1];
    const rd = o + 10, end = rd + ((resp[o + 8] << 8) | resp[o + 9]);
    if (end > len) break;
    if (type === RRType.SOA && soa < 0) soa = owner;
    else if (type === RRType.NS && nsOwner < 0) nsOwner = owner;
    else if (type === RRType.NSEC && rcode === 0 && !nxname) nxname = hasNxname(resp, rd, end);
    o = end;
  }
  if (rcode === 3 || nxname) {
    c.cls = NXDOMAIN;
    c.nameOff = soa >= 0 ? soa : 12;
  } else if (nsOwner >= 0 && (resp[2] & 0x04) === 0) {
    c.cls = REFERRAL; // AA=0 and NS in authority (RFC 1034 §4.3.2 step 3b)
    c.nameOff = nsOwner;
  } else {
    c.cls = NODATA;
    c.nameOff = 12;
  }
  hashName(resp, c.nameOff, c);
  return true;
}

/**
 * Keys a positive answer (classified into `c`) on its question name and type, or with `labels` >= 0 on the
 * question name's ancestor of that many labels (a wildcard's parent) and the type.
 */
function keyPositive(resp: Uint8Array, c: Classified, labels: number): void {
  const nameEnd = c.qtypeOff;
  let start = 12;
  if (labels >= 0) {
    let count = 0;
    for (let p = 12; p < nameEnd - 1; p += 1 + resp[p]) count++; // plain labels: skipName stopped at no pointer before nameEnd - 1
    for (let skip = count - labels; skip > 0; skip--) start += 1 + resp[start];
  }
  c.h[0] = SEED1;
  c.h[1] = SEED2;
  c.nameOff = start;
  hashName(resp, start, c);
  feed(c, resp[nameEnd]);
  feed(c, resp[nameEnd + 1]);
}

/** Names (and types) whose wildcard status `wildcardParentIn` remembers per served set. */
const WILDCARD_MEMO = 10_000;

/**
 * For `RrlOptions.wildcardParent`: the label count of the wildcard's parent when the positive answer `resp` was
 * synthesized from a wildcard in the served zone (RFC 4592 §3.3.1), else -1. A lookup (pure, no signing), run
 * only when a positive answer's account is first made, and remembered per name and type (`nameKey`) until the
 * served set changes, so a forged-source flood of one name costs one lookup.
 */
export function wildcardParentIn(served: () => Served): (resp: Uint8Array, nameKey: number) => number {
  let memo = new Map<number, number>();
  let of: Served | undefined;
  return (resp, nameKey) => {
    const set = served();
    if (set !== of || memo.size >= WILDCARD_MEMO) {
      memo = new Map();
      of = set;
    }
    const known = memo.get(nameKey);
    if (known !== undefined) return known;
    let labels = -1;
    try {
      const { name, next } = Name.read(resp, 12);
      const qtype = (resp[next] << 8) | resp[next + 1];
      const zone = set.zones.forQuery(name, qtype);
      const r = zone && lookup(zone, name, qtype);
      const w = r && r.kind === 'answer' ? r.answers[0]?.wildcard : undefined;
      if (w) labels = w.labelCount - 1;
    } catch {
      labels = -1;
    }
    memo.set(nameKey, labels);
    return labels;
  };
}

/**
 * The TC=1 answer a limited response "slips" as: header and question, no records but the OPT (without its
 * options) when the response had one (RFC 6891 §7), so the client retries over TCP (RFC 1035 §4.2.1, RFC 7766).
 */
export function truncated(resp: Uint8Array): Uint8Array {
  const len = resp.length;
  const qd = (resp[4] << 8) | resp[5];
  const records = ((resp[6] << 8) | resp[7]) + ((resp[8] << 8) | resp[9]);
  const ar = (resp[10] << 8) | resp[11];
  let o = 12, opt = -1;
  for (let i = 0; i < qd && o >= 0; i++) {
    o = skipName(resp, o);
    if (o >= 0) o = o + 4 <= len ? o + 4 : -1;
  }
  // A question we cannot walk is not copied (nor looked past).
  const qEnd = o < 0 ? 12 : o;
  for (let i = 0; i < records + ar && o >= 0; i++) {
    const owner = o;
    o = skipName(resp, o);
    if (o < 0 || o + 10 > len) break;
    if (i >= records && resp[owner] === 0 && ((resp[o] << 8) | resp[o + 1]) === RRType.OPT) {
      opt = owner;
      break;
    }
    o += 10 + ((resp[o + 8] << 8) | resp[o + 9]);
  }
  const out = Buffer.alloc(qEnd + (opt >= 0 ? 11 : 0));
  out.set(resp.subarray(0, qEnd));
  out[2] |= 0x02; // TC
  out[5] = qEnd > 12 ? qd & 0xff : 0;
  out[4] = qEnd > 12 ? qd >> 8 : 0;
  out.fill(0, 6, 12);
  if (opt >= 0) {
    out.set(resp.subarray(opt, opt + 9), qEnd); // root owner, type, payload size, extended rcode, version, flags; RDLENGTH 0
    out[11] = 1;
  }
  return out;
}

/** The client's prefix as parsed: IPv4 (one word) or IPv6 (eight groups), masked. */
interface Prefix {
  v6: boolean;
  v4: number;
  g: Uint16Array;
  len: number;
}

function parseV4(s: string, i: number, end: number): number {
  let v = 0, part = 0, digits = 0, dots = 0;
  for (; i < end; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (ch >= 48 && ch <= 57 && digits < 3) {
      part = part * 10 + ch - 48;
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return v * 256 + part;
}

function hexVal(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

/**
 * An IPv6 address (RFC 4291 §2.2 text forms, a `%zone` ignored) into eight groups; false when malformed. Not
 * dns/rdata/ip.ts `parseIPv6`: this one runs per answer, so it allocates nothing and throws nothing.
 */
export function parseV6(s: string, g: Uint16Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  let n = 0, gap = -1, i = 0;
  if (s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let j = i, v = 0;
    for (let h; j < end && (h = hexVal(s.charCodeAt(j))) >= 0 && j - i < 4; j++) v = v * 16 + h;
    if (j < end && s.charCodeAt(j) === 46) {
      const v4 = parseV4(s, i, end);
      if (v4 < 0 || n > 6) return false;
      g[n++] = v4 >>> 16;
      g[n++] = v4 & 0xffff;
      break;
    }
    if (j === i || n >= 8) return false;
    g[n++] = v;
    if (j === end) break;
    if (s.charCodeAt(j) !== 58) return false;
    if (s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return false;
    }
  }
  if (gap >= 0) {
    if (n > 7) return false;
    const tail = n - gap;
    for (let k = tail - 1; k >= 0; k--) g[8 - tail + k] = g[gap + k];
    g.fill(0, gap, 8 - tail);
  } else if (n !== 8) return false;
  return true;
}

/** `address` masked to the configured prefix length, into `p`; false for an address we cannot read. */
function clientPrefix(address: string, v4len: number, v6len: number, p: Prefix): boolean {
  if (!address.includes(':')) {
    const v = parseV4(address, 0, address.length);
    if (v < 0) return false;
    p.v6 = false;
    p.len = v4len;
    p.v4 = v4len === 0 ? 0 : (v & (0xffffffff << (32 - v4len))) >>> 0;
    return true;
  }
  const g = p.g;
  if (!parseV6(address, g)) return false;
  // An IPv4-mapped address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is the IPv4 client it stands for.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    p.v6 = false;
    p.len = v4len;
    const v = ((g[6] << 16) | g[7]) >>> 0;
    p.v4 = v4len === 0 ? 0 : (v & (0xffffffff << (32 - v4len))) >>> 0;
    return true;
  }
  p.v6 = true;
  p.len = v6len;
  for (let k = 0; k < 8; k++) {
    const keep = Math.max(0, Math.min(16, v6len - k * 16));
    g[k] = keep === 0 ? 0 : g[k] & ((0xffff << (16 - keep)) & 0xffff);
  }
  return true;
}

/** The prefix as an operator writes it: `192.0.2.0/24`, `2001:db8:0:100::/56`. */
function prefixText(p: Prefix): string {
  if (!p.v6) return `${p.v4 >>> 24}.${(p.v4 >>> 16) & 0xff}.${(p.v4 >>> 8) & 0xff}.${p.v4 & 0xff}/${p.len}`;
  const groups = Math.min(8, Math.max(1, Math.ceil(p.len / 16)));
  const parts: string[] = [];
  for (let k = 0; k < groups; k++) parts.push(p.g[k].toString(16));
  return `${parts.join(':')}${groups < 8 ? '::' : ''}/${p.len}`;
}

/** murmur3's 32-bit finalizer. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface Bucket {
  key: number;
  balance: number;
  /** Clock second of the last credit. */
  last: number;
  /** Used again since it was made or the hand last passed (CLOCK's reference bit). */
  ref: boolean;
  /** Limited responses so far (every slip-th slips). */
  limited: number;
  /** 0: not checked yet, 1: not exempt, 2: exempt. */
  exempt: number;
  log: LogEntry | undefined;
  /** A synthesized name's account: the key of its wildcard parent's account, which is charged instead (-1: none). */
  alias: number;
}

interface LogEntry {
  client: string;
  cls: number;
  name: string | undefined;
  since: number;
  last: number;
  dropped: number;
  slipped: number;
  reportedAt: number;
  reported: number;
  announced: boolean;
  ended: boolean;
}

/** Per class: responses dropped, slipped (sent as TC=1), and in log-only mode those that would have been limited. */
export interface RrlCounts {
  dropped: Float64Array;
  slipped: Float64Array;
  logOnly: Float64Array;
}

export interface RrlOptions {
  clock: Clock;
  logger: Logger;
  /** The wildcard parent's label count of a synthesized positive answer, else -1 (`wildcardParentIn`); without it, none. */
  wildcardParent?: (resp: Uint8Array, nameKey: number) => number;
}

/** Limited prefix/class pairs tracked for the log; more are summed into one "other prefixes" figure. */
const MAX_LOG_ENTRIES = 1000;
/** Log lines per sweep (start, summary, stop); the rest are summed into one line. */
const MAX_LOG_LINES = 20;
/** Seconds between sweeps (stop detection) and between a limited prefix's summary lines. */
const SWEEP_SECONDS = 5;
const SUMMARY_SECONDS = 60;

export class Rrl {
  readonly counts: RrlCounts = { dropped: new Float64Array(5), slipped: new Float64Array(5), logOnly: new Float64Array(5) };
  private readonly rates: number[];
  private readonly exempt: BlockList | undefined;
  private readonly map = new Map<number, Bucket>();
  private readonly ring: Bucket[] = [];
  private hand = 0;
  private readonly c: Classified = newClassified();
  private readonly p: Prefix = { v6: false, v4: 0, g: new Uint16Array(8), len: 0 };
  private readonly logs = new Map<string, LogEntry>();
  private linesLeft = MAX_LOG_LINES;
  private unannounced = 0;
  private overflow = { dropped: 0, slipped: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly config: RrlConfig, private readonly opts: RrlOptions) {
    const r = config.responsesPerSecond;
    this.rates = [r, config.nxdomainsPerSecond ?? r, config.nodataPerSecond ?? r, config.referralsPerSecond ?? r, config.errorsPerSecond ?? r];
    this.exempt = config.exempt.length > 0 ? exemptList(config.exempt) : undefined;
  }

  /** Accounts in the table. */
  get size(): number {
    return this.map.size;
  }

  /**
   * The response to send to `address` for `resp` (UDP only): `resp` itself, its TC=1 slip, or null (dropped).
   * In log-only mode always `resp`.
   */
  filter(resp: Uint8Array, address: string): Uint8Array | null {
    const c = this.c, p = this.p;
    if (!classify(resp, c)) return resp;
    const rate = this.rates[c.cls];
    if (rate === 0) return resp;
    const cfg = this.config;
    if (!clientPrefix(address, cfg.ipv4Prefix, cfg.ipv6Prefix, p)) return resp;
    const now = this.opts.clock.now();
    let bucket = this.map.get(this.key());
    if (bucket !== undefined && bucket.alias >= 0) {
      bucket.ref = true;
      keyPositive(resp, c, bucket.alias);
      bucket = this.map.get(this.key());
    } else if (bucket === undefined && c.cls === POSITIVE && this.opts.wildcardParent) {
      // A name's first positive answer: synthesized from a wildcard? Then its account is the parent's, and the
      // name keeps only a pointer to it (so later answers skip the lookup).
      const labels = this.opts.wildcardParent(resp, (c.h[0] >>> 0) * 0x200000 + (c.h[1] & 0x1fffff));
      if (labels >= 0) {
        this.insert(this.key(), rate, now).alias = labels;
        keyPositive(resp, c, labels);
        bucket = this.map.get(this.key());
      }
    }
    if (bucket === undefined) bucket = this.insert(this.key(), rate, now);
    else {
      bucket.ref = true;
      if (now > bucket.last) {
        bucket.balance = Math.min(rate, bucket.balance + (now - bucket.last) * rate);
        bucket.last = now;
      }
    }
    if (--bucket.balance >= 0) return resp;
    const floor = -cfg.window * rate;
    if (bucket.balance < floor) bucket.balance = floor;

    // Checked once per account, when it is first limited (not per answer); BlockList matches an IPv4-mapped
    // address against IPv4 prefixes itself.
    if (bucket.exempt === 0) bucket.exempt = this.exempt?.check(address, address.includes(':') ? 'ipv6' : 'ipv4') ? 2 : 1;
    if (bucket.exempt === 2) return resp;
    const slip = cfg.slip > 0 && ++bucket.limited % cfg.slip === 0;
    this.note(bucket, resp, now, slip);
    if (cfg.logOnly) {
      this.counts.logOnly[c.cls]++;
      return resp;
    }
    if (slip) {
      this.counts.slipped[c.cls]++;
      return truncated(resp);
    }
    this.counts.dropped[c.cls]++;
    return null;
  }

  /** The account key of what `classify` and `clientPrefix` found: 53 bits, from the two name hashes, class and prefix. */
  private key(): number {
    const c = this.c, p = this.p;
    let a = c.h[0] ^ Math.imul(c.cls + 1, 0x9e3779b1), b = (c.h[1] + c.cls) | 0;
    if (p.v6) {
      for (let k = 0; k < 8; k += 2) {
        const w = (p.g[k] << 16) | p.g[k + 1];
        a = Math.imul(a ^ w, P1);
        b = Math.imul(b ^ w, P2);
      }
      a ^= 6;
    } else {
      a = Math.imul(a ^ p.v4, P1);
      b = Math.imul(b ^ p.v4, P2);
    }
    return (fmix(a) & 0x1fffff) * 0x100000000 + fmix(b ^ p.len);
  }

  /** A new account for `key`, in a free slot or in the one the CLOCK hand reuses. */
  private insert(key: number, rate: number, now: number): Bucket {
    let b: Bucket;
    if (this.ring.length < this.config.tableSize) {
      b = { key, balance: rate, last: now, ref: false, limited: 0, exempt: 0, log: undefined, alias: -1 };
      this.ring.push(b);
    } else {
      // Second chance for up to 8 accounts used again since the hand passed (a new account starts without
      // one), so a flood of one-off spoofed sources recycles its own slots and an account in use survives it.
      for (let tries = 0; tries < 8 && this.ring[this.hand].ref; tries++) {
        this.ring[this.hand].ref = false;
        this.hand = (this.hand + 1) % this.ring.length;
      }
      b = this.ring[this.hand];
      this.hand = (this.hand + 1) % this.ring.length;
      this.map.delete(b.key);
      b.key = key;
      b.balance = rate;
      b.last = now;
      b.ref = false;
      b.limited = 0;
      b.exempt = 0;
      b.log = undefined;
      b.alias = -1;
    }
    this.map.set(key, b);
    return b;
  }

  /** Counts a limited response in its prefix/class log entry; the first one of an entry is logged (within the line budget). */
  private note(bucket: Bucket, resp: Uint8Array, now: number, slip: boolean): void {
    let e = bucket.log;
    if (e === undefined || e.ended) {
      const cls = this.c.cls;
      const client = prefixText(this.p);
      const k = `${client} ${cls}`;
      e = this.logs.get(k);
      if (e === undefined) {
        if (this.logs.size >= MAX_LOG_ENTRIES) {
          if (slip) this.overflow.slipped++;
          else this.overflow.dropped++;
          return;
        }
        const nameOff = this.c.nameOff;
        let name: string | undefined;
        try {
          name = nameOff >= 0 ? Name.read(resp, nameOff).name.toString() : undefined;
        } catch {
          name = undefined;
        }
        e = { client, cls, name, since: now, last: now, dropped: 0, slipped: 0, reportedAt: now, reported: 0, announced: false, ended: false };
        this.logs.set(k, e);
        if (this.linesLeft > 0) {
          this.linesLeft--;
          e.announced = true;
          this.opts.logger.info(
            { client, class: RRL_CLASSES[cls], name, rate: this.rates[cls], window: this.config.window, slip: this.config.slip, logOnly: this.config.logOnly || undefined },
            this.config.logOnly ? 'rrl: would limit responses (log-only)' : 'rrl: limiting responses',
          );
        } else this.unannounced++;
      }
      bucket.log = e;
    }
    e.last = now;
    if (slip) e.slipped++;
    else e.dropped++;
  }

  /**
   * The periodic log: a prefix/class with no limited response for `window` seconds has stopped (one line with its
   * totals); one still limited gets a summary line at most once a minute; what exceeds the line budget is summed.
   */
  sweep(now: number = this.opts.clock.now()): void {
    const log = this.opts.logger;
    let lines = MAX_LOG_LINES;
    const more = { prefixes: this.unannounced, dropped: this.overflow.dropped, slipped: this.overflow.slipped };
    this.unannounced = 0;
    this.overflow = { dropped: 0, slipped: 0 };
    const logOnly = this.config.logOnly || undefined;
    for (const [k, e] of this.logs) {
      const fields = { client: e.client, class: RRL_CLASSES[e.cls], name: e.name, dropped: e.dropped, slipped: e.slipped, seconds: e.last - e.since, logOnly };
      if (now - e.last > this.config.window) {
        e.ended = true;
        this.logs.delete(k);
        if (lines-- > 0) log.info(fields, 'rrl: limiting stopped');
        else more.prefixes++;
      } else if (now - e.reportedAt >= SUMMARY_SECONDS || !e.announced) {
        if (e.dropped + e.slipped === e.reported) continue;
        if (lines-- > 0) {
          log.info(fields, 'rrl: limiting continues');
          e.reportedAt = now;
          e.reported = e.dropped + e.slipped;
          e.announced = true;
        } else more.prefixes++;
      }
    }
    if (more.prefixes > 0 || more.dropped > 0 || more.slipped > 0) log.info({ ...more, logOnly }, 'rrl: more prefixes limited (log lines summed)');
    this.linesLeft = MAX_LOG_LINES;
  }

  /** Sweeps every few seconds until `stop` (the timer does not keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => this.sweep(), SWEEP_SECONDS * 1000).unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
