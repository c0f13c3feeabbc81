// The request path of a cluster worker (server/cluster.ts), which holds no zone: a question it has answered
// before is answered from its own response cache (respcache.ts), in the same tick; every other message
// (a first question, a TSIG-signed one, a transfer, NOTIFY, UPDATE) goes to the primary, which holds every
// zone once for all workers and answers with the full request path (handle.ts). The primary says with each
// answer whether and until when it may be cached, and in which query-counter cell it counts.
//
// Invalidation: the primary numbers its served sets (a generation); it tells every worker each new number
// (after an admin change, and acknowledged, before the API answers), and an answer is cached only when it
// was made from the generation the worker holds now. A new generation drops the whole cache, as a new
// served set does in a single process.
import type { Logger } from 'pino';
import { Name } from '../dns/name.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import type { QueryCounters } from '../metrics/queries.js';
import type { Handler, KeepMore, Peer } from './handle.js';
import { sizeLimit, type Transport } from './limits.js';
import { cacheKey, questionNameEnd, questionText, ResponseCache, type CacheKey } from './respcache.js';
import { LearnedDenial, writeHead, writeOpt, type CompactHint, type ToSign } from './learned.js';
import { OverBudget, type SigningBudget } from './budget.js';
import { zoneDenial, type ZoneDenial, type ZonePush } from './chainpush.js';
import type { Served } from '../state/manager.js';

/** Worker -> primary: a message to answer. */
export interface FrontQuery {
  tandem: 'query';
  id: number;
  msg: Uint8Array;
  transport: Transport;
  peer: Peer;
}

/** Primary -> worker: one message of a longer answer (AXFR/IXFR over TCP), before the last. */
export interface FrontMore {
  tandem: 'answer-more';
  id: number;
  wire: Uint8Array;
}

/**
 * Primary -> worker: the answer (null: none), made from generation `gen`; `keep`: it may be cached until
 * `until` (epoch seconds), and counts in the cell `rest` of zone `zone` (QueryCounters.split).
 */
export interface FrontAnswer {
  tandem: 'answer';
  id: number;
  wire: Uint8Array | null;
  gen: number;
  keep?: { until: number; zone: string | undefined; rest: number } & KeepMore;
}

/** Worker -> primary: send the whole denial data of the zone keyed `zone` (chainpush.ts), once per zone and generation. */
export interface FrontChainAsk {
  tandem: 'chain-ask';
  zone: string;
}

/**
 * Primary -> worker: the denial data of `zone` as of generation `gen` (none when the zone gets none), asked for or
 * pushed unasked with an answer of the zone to learn its SOA from first (`first`, chainpush.ts pushZones).
 */
export interface FrontChain extends Partial<ZoneDenial> {
  tandem: 'chain';
  zone: string;
  gen: number;
  first?: ZonePush['first'];
}

export interface Front {
  handler: Handler;
  /**
   * For the worker's RRL (rrl.ts `wildcardParent`): the label count of the wildcard's parent when the positive
   * answer `resp` was synthesized from a wildcard, as the primary said with the answer; else -1.
   */
  wildcardParent(resp: Uint8Array): number;
  /**
   * The primary serves generation `gen` now: cached answers of an older one are dropped, and what was learned of the
   * zones in `changed` (Name.keys; undefined: every zone) when `gen` is the next generation (changedZones), except
   * that of the zones in `patched` (chainpush.ts patchableZones; compact zones with the changed names in `cuts`,
   * compactCuts), whose changes the primary sends next (a FrontChain with `patch`): those are held until then.
   */
  generation(gen: number, changed?: readonly string[], patched?: readonly string[], cuts?: Readonly<Record<string, readonly string[]>>): void;
  receive(m: FrontMore | FrontAnswer | FrontChain): void;
}

export interface FrontOptions {
  clock?: Clock;
  cache?: ResponseCache;
  /** NSEC3 chains learned from the primary's answers (learned.ts); default a new one; `false`: none. */
  learned?: LearnedDenial | false;
  queries?: QueryCounters;
  /** The signing budget compact denials signed here go through (budget.ts); none: signed at once. */
  budget?: SigningBudget;
  /**
   * Asks the primary for the whole denial data of a zone (a FrontChainAsk) after a first answer to learn from;
   * the primary answers through `receive` with a FrontChain. Without it, zones are learned from answers only.
   */
  askZone?: (m: FrontChainAsk) => void;
}

/** How long a UDP question waits for the primary's answer before it is dropped (the client retries). */
const UDP_WAIT_MS = 10_000;
/**
 * UDP questions waiting for the primary, at most, per worker: beyond that a datagram is dropped, as a full
 * socket buffer drops it (the client retries, RFC 1035 §4.2.1), so a flood of new names cannot queue without
 * bound between the processes.
 */
export const MAX_UDP_WAITING = 1024;

interface Open {
  resolve(wire: Uint8Array | null): void;
  more?: (msg: Uint8Array) => Promise<void> | void;
  /** The messages passed to `more` so far, in order: the answer resolves after them. */
  chain: Promise<void>;
  key: ReturnType<typeof cacheKey>;
  timer?: NodeJS.Timeout;
  /** Counted in `udpWaiting`. */
  udp?: boolean;
}

const udpLimit = (udpSize: number | undefined) => sizeLimit('udp', udpSize);

/**
 * A UDP query the signing budget turned away: TC=1 and no records (RFC 1035 §4.2.1, RFC 7766 §5), as handle.ts
 * answers it: ID, RD, CD and the question copied, the OPT with DO and CO echoed when the query had one.
 */
function truncated(msg: Uint8Array, k: CacheKey): Uint8Array {
  const flags = k.key.charCodeAt(0);
  const opt = (flags & 1) !== 0;
  const qEnd = k.nameEnd + 4;
  const out = Buffer.alloc(qEnd + (opt ? 11 : 0));
  writeHead(out, msg, qEnd, { tc: true, rcode: 0, ns: 0, opt });
  if (opt) writeOpt(out, qEnd, flags);
  return out;
}
const tcpLimit = (udpSize: number | undefined) => sizeLimit('tcp', udpSize);

export function createFront(send: (q: FrontQuery) => void, logger: Logger, opts: FrontOptions = {}): Front {
  const clock = opts.clock ?? systemClock;
  const cache = opts.cache ?? new ResponseCache();
  const queries = opts.queries;
  const learned = opts.learned === false ? undefined : opts.learned ?? new LearnedDenial();
  const budget = opts.budget;
  // The cache keys its entries on an object per served set: one object per generation.
  let gen = 0;
  let genObj: object = { gen };
  let next = 0;
  const open = new Map<number, Open>();
  let udpWaiting = 0;
  // Questions (lower-cased name, type, class) answered from a wildcard, with its parent's label count; per generation.
  let wildcards = new Map<string, number>();
  // Zones whose whole denial data was asked for or pushed in this generation: 'asked' until the primary's reply
  // came, then until when the data holds (0: the primary sent none), after which it is asked for again.
  let asked = new Map<string, 'asked' | number>();

  // Debug logging stays one line per query (README), here in the worker that received it, cached or not.
  const log = (msg: Uint8Array, transport: Transport, resp: Uint8Array | null, peer: Peer | undefined, isCached: boolean) => {
    let qname: string | undefined, qtype: number | undefined;
    try {
      const { name, next: at } = Name.read(msg, 12);
      qname = name.toString();
      qtype = (msg[at] << 8) | msg[at + 1];
    } catch { /* not a question we could read: logged without it */ }
    const count = (o: number) => (resp && resp.length >= 12 ? (resp[o] << 8) | resp[o + 1] : 0);
    logger.debug({ client: peer && `${peer.address}#${peer.port}`, qname, qtype, transport, rcode: resp && resp.length >= 4 ? resp[3] & 0xf : undefined, an: count(6), ns: count(8), cached: isCached }, 'query');
  };

  // A miss in `cached` is followed in the same tick by the handler for the same message (udp.ts): it takes
  // over the key (and a compact denial to sign) instead of looking again (and counting a second miss), as handle.ts does.
  let missed: { msg: Uint8Array; transport: Transport; k: ReturnType<typeof cacheKey>; sign?: ToSign } | undefined;
  const forget = () => { missed = undefined; };
  const count = (msg: Uint8Array, k: CacheKey, zoneKey: string | undefined, wire: Uint8Array, transport: Transport) => {
    if (queries) queries.add(queries.cell(zoneKey, (msg[k.nameEnd] << 8) | msg[k.nameEnd + 1], wire[3] & 0xf), transport);
  };
  const cached = (msg: Uint8Array, transport: Transport, peer?: Peer): Uint8Array | undefined => {
    if (transport === 'udp') budget?.read();
    const k = cacheKey(msg, transport === 'tcp' ? tcpLimit : udpLimit);
    const now = clock.now();
    const hit = k && cache.get(genObj, k, msg, now);
    if (!hit) {
      // A name that does not exist, proven by what was learned from earlier answers (learned.ts): answered now, or
      // (a compact denial) signed by `handle` through the signing budget.
      const made = k && learned?.answer(msg, k, (k.key.charCodeAt(1) << 8) | k.key.charCodeAt(2), now);
      if (made && 'wire' in made) {
        count(msg, k, made.zoneKey, made.wire, transport);
        if (logger.isLevelEnabled('debug')) log(msg, transport, made.wire, peer, true);
        return made.wire;
      }
      if (missed === undefined) queueMicrotask(forget);
      missed = { msg, transport, k, sign: made || undefined };
      return undefined;
    }
    if (queries && cache.lastCell >= 0) queries.add(cache.lastCell, transport);
    if (logger.isLevelEnabled('debug')) log(msg, transport, hit, peer, true);
    return hit;
  };

  /** Signs a learned compact denial, through the budget when there is one (budget.ts: TC=1 or nothing past it). */
  const signLearned = async (msg: Uint8Array, k: CacheKey, t: ToSign, transport: Transport, peer: Peer | undefined): Promise<Uint8Array | null | undefined> => {
    let wire: Uint8Array | undefined;
    if (!budget) wire = t.sign();
    else {
      try {
        wire = await budget.gate(transport).run(() => Promise.resolve(t.sign()));
      } catch (err) {
        if (!(err instanceof OverBudget)) throw err;
        budget.refused();
        if (budget.overflow === 'drop') return null;
        const tc = truncated(msg, k);
        count(msg, k, undefined, tc, transport);
        return tc;
      }
    }
    if (!wire) return undefined;
    count(msg, k, t.zoneKey, wire, transport);
    if (logger.isLevelEnabled('debug')) log(msg, transport, wire, peer, true);
    return wire;
  };

  const handle = async (msg: Uint8Array, transport: Transport, peer?: Peer, more?: (msg: Uint8Array) => Promise<void> | void): Promise<Uint8Array | null> => {
    let key: ReturnType<typeof cacheKey>, sign: ToSign | undefined;
    const m = missed;
    if (m && m.msg === msg && m.transport === transport) {
      missed = undefined;
      key = m.k;
      sign = m.sign;
    } else {
      const hit = cached(msg, transport, peer);
      if (hit) return hit;
      key = missed!.k;
      sign = missed!.sign;
      missed = undefined;
    }
    if (sign && key) {
      const signed = await signLearned(msg, key, sign, transport, peer);
      if (signed !== undefined) return signed;
    }
    if (transport === 'udp' && udpWaiting >= MAX_UDP_WAITING) {
      if (queries) queries.dropped++;
      return null;
    }
    return new Promise((resolve) => {
      const id = ++next;
      const o: Open = { resolve: logger.isLevelEnabled('debug') ? (wire) => { log(msg, transport, wire, peer, false); resolve(wire); } : resolve, more: transport === 'tcp' ? more : undefined, chain: Promise.resolve(), key };
      if (transport === 'udp') {
        udpWaiting++;
        o.udp = true;
        o.timer = setTimeout(() => {
          open.delete(id);
          udpWaiting--;
          resolve(null);
        }, UDP_WAIT_MS);
      }
      open.set(id, o);
      send({ tandem: 'query', id, msg, transport, peer: { address: peer?.address ?? '', port: peer?.port ?? 0 } });
    });
  };

  const generation = (g: number, changed?: readonly string[], patched?: readonly string[], cuts?: Readonly<Record<string, readonly string[]>>) => {
    if (g <= gen) return;
    // What changed is known from one generation to the next; across a skipped one, everything may have.
    const only = g === gen + 1 ? changed : undefined;
    gen = g;
    genObj = { gen };
    cache.clear();
    wildcards = new Map();
    if (only) {
      // A zone whose whole data is on its way (of the previous generation: it will not be taken) is not patched. A
      // zone dropped here (a held one whose patch never came too) is asked for again after its next answer.
      const before = learned?.heldZones() ?? [];
      const held = learned?.drop(only, patched?.filter((z) => asked.get(z) !== 'asked') ?? [], cuts) ?? [];
      for (const z of [...only, ...before]) if (!held.includes(z)) asked.delete(z);
    } else {
      learned?.clear();
      asked = new Map();
    }
  };
  return {
    handler: Object.assign(handle, { cached }),
    wildcardParent(resp) {
      // An answer's question is the query's (RFC 1035 §4.1.2): keyed as the query was.
      if (wildcards.size === 0) return -1;
      const end = questionNameEnd(resp);
      return end < 0 || end + 4 > resp.length ? -1 : wildcards.get(questionText(resp, end)) ?? -1;
    },
    generation,
    receive(m) {
      if (m.tandem === 'chain') {
        // Data of an older generation is stale; of a newer one, the generation's own answers will ask again.
        if (!learned || m.gen !== gen) return;
        if (m.patch) {
          // What changed since the previous generation, for a zone held since (`generation`); nothing else is taken.
          if (!learned.isHeld(m.zone)) return;
          if (m.first) learned.learn(m.first.wire, m.zone, m.first.until, m.first.compact);
          learned.patch(m.zone, m.patch.gone, m.digest);
          return;
        }
        // Anything else for a held zone replaces what was held: the whole chain, or nothing (the patch could not be
        // made: asked for again after the next answer to learn from).
        if (learned.isHeld(m.zone)) {
          learned.drop([m.zone]);
          if (m.until === undefined) return void asked.delete(m.zone);
        }
        asked.set(m.zone, m.until ?? 0);
        if (m.until === undefined) return;
        if (m.first) learned.learn(m.first.wire, m.zone, m.first.until, m.first.compact);
        if (m.digest) learned.learnDigest(m.digest, m.zone);
        else if (m.gaps) learned.learnGaps(m.zone, m.gaps, m.until);
        return;
      }
      const o = open.get(m.id);
      if (!o) return;
      if (m.tandem === 'answer-more') {
        const wire = m.wire;
        o.chain = o.chain.then(() => o.more?.(wire));
        return;
      }
      open.delete(m.id);
      clearTimeout(o.timer);
      if (o.udp) udpWaiting--;
      const keep = m.keep;
      // Answers come after the generation they were made from (one ordered channel); a worker that started
      // later learns the number here. Only an answer of the generation served now may be kept.
      generation(m.gen);
      if (keep && o.key && m.gen === gen) {
        const cell = queries && keep.rest >= 0 ? queries.rejoin(keep.zone, keep.rest) : -1;
        cache.set(genObj, o.key, m.wire!, clock.now(), keep.until, cell);
        // While the whole data of the zone is on its way, the answers queued before it teach nothing it will not bring.
        if (keep.learn && learned && asked.get(keep.learn) !== 'asked') {
          learned.learn(m.wire!, keep.learn, keep.until, keep.compact);
          const held = asked.get(keep.learn);
          if (opts.askZone && (held === undefined || (held !== 'asked' && held > 0 && held <= clock.now()))) {
            asked.set(keep.learn, 'asked');
            opts.askZone({ tandem: 'chain-ask', zone: keep.learn });
          }
        }
        if (keep.wild !== undefined) {
          if (wildcards.size >= 10_000) wildcards = new Map();
          wildcards.set(o.key.key.slice(3), keep.wild); // the question part of the cache key (questionText)
        }
      }
      o.chain.then(() => o.resolve(m.wire), (err: unknown) => {
        logger.debug({ err }, 'answer stream ended early');
        o.resolve(null);
      });
    },
  };
}

/**
 * The primary's side: answers a worker's message with the full request path (`handler`), from the
 * generation served now; the answer goes back with that generation and, when it may be cached, until when
 * and its counter cell (as `queries` numbers it, split for the worker's own counters).
 */
export function answerFront(m: FrontQuery, handler: Handler, generation: () => number, queries: QueryCounters | undefined, logger: Logger, reply: (x: FrontMore | FrontAnswer) => void): void {
  const gen = generation(); // the handler reads the served set synchronously, before its first await
  let keep: FrontAnswer['keep'];
  const more = m.transport === 'tcp' ? (wire: Uint8Array) => reply({ tandem: 'answer-more', id: m.id, wire }) : undefined;
  handler(m.msg, m.transport, m.peer, more, (until, cell, extra) => {
    // A cell of -1 (no counters) counts nowhere in the worker either.
    const split = queries && cell >= 0 ? queries.split(cell) : { zone: undefined, rest: -1 };
    keep = { until, zone: split.zone, rest: split.rest, ...extra };
  }).then(
    (wire) => reply({ tandem: 'answer', id: m.id, wire, gen, keep }),
    (err: unknown) => {
      logger.error({ err }, 'answer for a worker failed');
      reply({ tandem: 'answer', id: m.id, wire: null, gen });
    },
  );
}

/** The primary's side of a FrontChainAsk: the zone's denial data from the set served now (chainpush.ts), with its generation. */
export function answerChainAsk(m: FrontChainAsk, served: Served, generation: () => number, logger: Logger, reply: (x: FrontChain) => void): void {
  const gen = generation(); // the set `served` is (read before anything awaits)
  Promise.resolve(zoneDenial(served, m.zone)).then(
    (data) => reply({ tandem: 'chain', zone: m.zone, gen, ...data }),
    (err: unknown) => {
      logger.error({ err, zone: m.zone }, 'denial data for a worker failed');
      reply({ tandem: 'chain', zone: m.zone, gen });
    },
  );
}

/** Most zones `changedZones` names; past it, every zone counts as changed. */
const CHANGED_MAX = 1000;

/**
 * The zones whose learned denial data (learned.ts) no longer holds in `next` after `prev` (Name.keys): each zone of
 * another version or other signing material; for a zone that came or went, or a name that started or stopped
 * failing, that zone and every zone of ours above it (a zone below another changes what may be learned of that
 * one: handle.ts `learnable`). Undefined (every zone) on the first set, or past CHANGED_MAX zones.
 */
export function changedZones(prev: Served | undefined, next: Served): string[] | undefined {
  if (!prev) return undefined;
  const out = new Set<string>();
  const moved = (n: Name) => {
    for (let p = n; ; p = p.parent()) {
      if (prev.zones.byKey(p.key) || next.zones.byKey(p.key)) out.add(p.key);
      if (p.isRoot()) break;
    }
  };
  for (const z of next.zones.zones()) {
    const key = z.origin.key;
    const was = prev.zones.byKey(key);
    if (!was) moved(z.origin);
    else if (was !== z || prev.signing.get(key) !== next.signing.get(key)) out.add(key);
    if (out.size > CHANGED_MAX) return undefined;
  }
  for (const z of prev.zones.zones()) if (!next.zones.byKey(z.origin.key)) moved(z.origin);
  for (const [k, n] of next.failing ?? []) if (!prev.failing?.has(k)) moved(n);
  for (const [k, n] of prev.failing ?? []) if (!next.failing?.has(k)) moved(n);
  return out.size > CHANGED_MAX ? undefined : [...out];
}
