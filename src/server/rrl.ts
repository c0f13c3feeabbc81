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
// passed gets a second chance), so a flood of spoofed sources reuses old slots instead of growing memory.
// Each process (each cluster worker) holds its own table; a worker's table has 1/N of each rate (`share`): the N
// workers read one shared socket, so each sees about 1/N of a client's datagrams, and together they allow about
// the configured rate (less when one worker happens to read most of a client's burst; never N times it).
// Logging is per limited prefix and class: a line when limiting starts, a summary while it lasts (at most once a
// minute) and a line when it stops; never one line per query. rrl-classify.ts reads the class and key from the
// answer's bytes; rrl-prefix.ts the client's prefix from its address.
import type { Logger } from 'pino';
import type { BlockList } from 'node:net';
import { Name } from '../dns/name.js';
import { lookup } from '../zone/lookup.js';
import type { Served } from '../state/manager.js';
import type { Clock } from '../dnssec/types.js';
import { exemptList, RRL_CLASSES, type RrlConfig } from '../config/rrl.js';
import { classify, keyPositive, newClassified, P1, P2, POSITIVE, truncated, type Classified } from './rrl-classify.js';
import { clientPrefix, prefixText, type Prefix } from './rrl-prefix.js';

export { RRL_CLASSES, type RrlClass } from '../config/rrl.js';
export { classify, newClassified, truncated, type Classified } from './rrl-classify.js';
export { parseV6 } from './rrl-prefix.js';

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
  /**
   * This table's share of the configured rates (default 1): a cluster worker's is 1/N, since the N workers read one
   * shared socket and each sees about 1/N of any client's datagrams, so together they allow the configured rate.
   */
  share?: number;
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
  /** The rates as configured (for the log). */
  private readonly configured: number[];
  /** Most credits an account holds, per class: its rate, but at least one response where the configured rate allows one. */
  private readonly caps: number[];
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
    const configured = [r, config.nxdomainsPerSecond ?? r, config.nodataPerSecond ?? r, config.referralsPerSecond ?? r, config.errorsPerSecond ?? r];
    this.configured = configured;
    const share = opts.share ?? 1;
    this.rates = configured.map((x) => x * share);
    // A worker's share of a rate under one a second would never let a first response through (a response is limited
    // while the balance is negative after paying one): an account holds at least one.
    this.caps = configured.map((x) => Math.max(x * share, Math.min(1, x)));
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
        this.insert(this.key(), this.caps[c.cls], now).alias = labels;
        keyPositive(resp, c, labels);
        bucket = this.map.get(this.key());
      }
    }
    const cap = this.caps[c.cls];
    if (bucket === undefined) bucket = this.insert(this.key(), cap, now);
    else {
      bucket.ref = true;
      if (now > bucket.last) {
        bucket.balance = Math.min(cap, bucket.balance + (now - bucket.last) * rate);
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
            { client, class: RRL_CLASSES[cls], name, rate: this.configured[cls], window: this.config.window, slip: this.config.slip, logOnly: this.config.logOnly || undefined },
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
