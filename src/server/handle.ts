// The request path as one straight line: (response cache) -> parse -> zone -> lookup -> (sign) -> wire
// (STYLE "request path"). The cache (respcache.ts) answers repeated questions with a copy of the bytes
// this path made, so a hit costs no parsing, no lookup and no crypto.
import type { Logger } from 'pino';
import { encodeResponse, ede, parseQuery, type Query, type Response } from '../dns/message.js';
import { EdeCode, Rcode, RRClass, RRType } from '../dns/types.js';
import { Name } from '../dns/name.js';
import { lookup } from '../zone/lookup.js';
import { toSections, type Sections } from '../zone/sections.js';
import { signAnswer } from '../dnssec/answer.js';
import { presignedAnswer, wantsPresigned } from '../dnssec/presigned.js';
import type { Zone } from '../zone/types.js';
import type { Served } from '../state/manager.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import type { ZoneSigningImpl } from '../dnssec/zonesigning.js';
import { cacheKey, ResponseCache, type CacheKey } from './respcache.js';
import { EDNS_UDP_SIZE, sizeLimit, type Transport } from './limits.js';
import { Keyring, type TsigSigner } from '../dns/tsig.js';
import { tsigCheck } from './tsig.js';
import type { QueryCounters } from '../metrics/queries.js';
import { OverBudget, type SigningBudget } from './budget.js';
import type { CompactHint } from './learned.js';
import { gapsFor } from './gaps.js';

export { EDNS_UDP_SIZE, type Transport } from './limits.js';
export type { Peer, Reply, ControlHandler } from '../transfer/service.js';
import { isControl, type ControlHandler, type Peer, type Reply } from '../transfer/service.js';
import { Opcode } from '../dns/types.js';

export interface Handler {
  /**
   * The answer (null: none). `peer`: the client's address (zone transfers and NOTIFY check it). An answer of
   * several messages (AXFR/IXFR over TCP) goes to `more`, one message at a time, and the call resolves null.
   */
  (msg: Uint8Array, transport: Transport, peer?: Peer, more?: (msg: Uint8Array) => Promise<void> | void, keep?: Keep): Promise<Uint8Array | null>;
  /** The cached answer, synchronously, or undefined (then call the handler). For the UDP hot path. `peer`: for the debug log. */
  cached(msg: Uint8Array, transport: Transport, peer?: Peer): Uint8Array | undefined;
}

export interface HandlerOptions {
  clock?: Clock;
  /** The response cache; `false` turns it off. Default: a new one with 50 000 entries. */
  cache?: ResponseCache | false;
  /** AXFR/IXFR, NOTIFY and UPDATE go here (transfer/service.ts, or the cluster's forwarder); without it they are REFUSED/NOTIMP. */
  control?: ControlHandler;
  /** TSIG keys (RFC 8945) signed queries may use; default none (a signed query then gets BADKEY). */
  tsig?: Keyring;
  /** Counts every answer by zone, type, rcode and transport (metrics/queries.ts), cached ones too. */
  queries?: QueryCounters;
  /** Fresh signatures wait in this bounded queue (budget.ts); without it they are made at once, unbounded. */
  budget?: SigningBudget;
}

/**
 * Told, before the handler resolves, that its answer may be cached (by a caller with a cache of its own: the
 * cluster's workers, server/front.ts) until `until` (epoch seconds), counted in the query-counter cell `cell`.
 * `extra`: what else a cluster worker may take from the answer.
 */
export type Keep = (until: number, cell: number, extra?: KeepMore) => void;

/** With an answer a caller keeps (front.ts), for a cluster worker. */
export interface KeepMore {
  /**
   * The answer denies from the precomputed NSEC or NSEC3 chain of the zone of this Name.key, which encloses no other
   * zone we serve: its chain records hold for other names too (server/learned.ts); or it is a compact denial with
   * `compact`.
   */
  learn?: string;
  /** The answer was synthesized from a wildcard (RFC 4592) whose parent has this many labels (for the caller's RRL, rrl.ts). */
  wild?: number;
  /** A compact denial (RFC 9824) in a gap of the zone `learn` names, and what a worker needs to make the next ones there (learned.ts). */
  compact?: CompactHint;
}

const NO_PEER: Peer = { address: '', port: 0 };

const udpLimit = (udpSize: number | undefined) => sizeLimit('udp', udpSize);
const tcpLimit = (udpSize: number | undefined) => sizeLimit('tcp', udpSize);

export function createHandler(served: () => Served, logger: Logger, opts: HandlerOptions = {}): Handler {
  const clock = opts.clock ?? systemClock;
  const cache = opts.cache === false ? undefined : opts.cache ?? new ResponseCache();
  const keyring = opts.tsig ?? new Keyring([]);
  const queries = opts.queries;
  const budget = opts.budget;
  const gates = budget && { udp: { budget, transport: 'udp' as const }, tcp: { budget, transport: 'tcp' as const } };
  // A pre-signed zone that lacks an RRSIG or a proof is reported once per loaded version, not per query.
  const reported = new WeakSet<Zone>();
  const report = (lack: Lacking) => {
    if (reported.has(lack.zone)) return;
    reported.add(lack.zone);
    logger.warn({ zone: lack.zone.origin.toString(), missing: lack.missing.slice(0, 5) }, 'pre-signed zone lacks DNSSEC records for an answer; answering with what it has');
  };

  // A miss in `cached` is followed in the same tick by the handler for the same message (udp.ts): it
  // takes over the key instead of computing it and missing again. Kept for that tick only.
  let missed: { msg: Uint8Array; transport: Transport; set: Served; k: CacheKey | undefined } | undefined;
  const cached = (msg: Uint8Array, transport: Transport, peer?: Peer): Uint8Array | undefined => {
    budget?.read();
    if (!cache) return undefined;
    const set = served();
    const k = cacheKey(msg, transport === 'tcp' ? tcpLimit : udpLimit);
    const hit = k && cache.get(set, k, msg, clock.now());
    if (hit) {
      if (queries && cache.lastCell >= 0) queries.add(cache.lastCell, transport);
      if (logger.isLevelEnabled('debug')) logHit(msg, transport, hit, peer);
      return hit;
    }
    if (missed === undefined) queueMicrotask(forget);
    missed = { msg, transport, set, k };
    return undefined;
  };
  const forget = () => { missed = undefined; };
  // Debug logging stays one line per query (README), cached or not.
  const logHit = (msg: Uint8Array, transport: Transport, resp: Uint8Array, peer: Peer | undefined) => {
    const { name, next } = Name.read(msg, 12);
    const rcode = resp[3] & 0xf;
    logger.debug({ client: client(peer), qname: name.toString(), qtype: (msg[next] << 8) | msg[next + 1], transport, rcode, an: (resp[6] << 8) | resp[7], ns: (resp[8] << 8) | resp[9], cached: true }, 'query');
  };

  /** A control answer as the transports take it: a stream goes to `more` (or, without one, only its first message). */
  const deliver = async (r: Reply, more?: (msg: Uint8Array) => Promise<void> | void): Promise<Uint8Array | null> => {
    if (r === null || r instanceof Uint8Array) return r;
    for await (const m of r) {
      if (!more) return m;
      await more(m);
    }
    return null;
  };

  const handle = async (msg: Uint8Array, transport: Transport, peer?: Peer, more?: (msg: Uint8Array) => Promise<void> | void, keep?: Keep): Promise<Uint8Array | null> => {
    const now = clock.now();
    let set: Served, k: CacheKey | undefined;
    const m = missed;
    if (m && m.msg === msg && m.transport === transport && m.set === served()) {
      missed = undefined;
      set = m.set;
      k = m.k;
    } else {
      set = served();
      k = cache && cacheKey(msg, transport === 'tcp' ? tcpLimit : udpLimit);
      const hit = k && cache?.get(set, k, msg, now);
      if (hit) {
        if (queries && cache!.lastCell >= 0) queries.add(cache!.lastCell, transport);
        if (logger.isLevelEnabled('debug')) logHit(msg, transport, hit, peer);
        keep?.(cache!.lastExpiresAt, cache!.lastCell);
        return hit;
      }
    }

    const parsed = parseQuery(msg);
    if (!parsed.ok && parsed.action === 'drop') {
      if (queries) queries.dropped++;
      return null;
    }
    // Zone transfers, NOTIFY and UPDATE leave the request path for the zone manager's process, which checks their TSIG
    // itself (transfer/service.ts); never cached.
    if (parsed.ok && opts.control && isControl(parsed.query)) return deliver(await opts.control(msg, parsed.query, transport, peer ?? NO_PEER), more);
    // RFC 8945 §5.2: a signed query is checked first (server/tsig.ts answers a failure); its answer is signed and
    // never cached (a signed query has no cache key: respcache.ts).
    const tsig = (parsed.ok ? parsed.query.tsig : parsed.tsig) === undefined ? undefined : tsigCheck(msg, keyring, now, { transport, logger });
    if (tsig?.kind === 'reject') {
      queries?.count(undefined, parsed.ok ? parsed.query.type : parsed.question?.type ?? 0, tsig.rcode, transport);
      return tsig.response;
    }
    const signer = tsig?.kind === 'ok' ? tsig.signer : undefined;
    if (!parsed.ok) {
      const wire = encodeResponse(
        {
          id: parsed.id, opcode: parsed.opcode, aa: false, rd: parsed.rd, cd: parsed.cd, rcode: parsed.rcode,
          question: parsed.question, answer: [], authority: [], additional: [],
          edns: parsed.edns || parsed.rcode === Rcode.BADVERS ? { udpSize: EDNS_UDP_SIZE, do: parsed.edns?.do ?? false, co: false, options: [] } : undefined,
        },
        transport === 'tcp' ? 65535 : 512, signer?.overhead,
      );
      queries?.count(undefined, parsed.question?.type ?? 0, parsed.rcode, transport);
      return signer ? signer.sign(wire, now) : wire;
    }
    const query = parsed.query;
    const limit = sizeLimit(transport, query.edns?.udpSize);
    let resp: Response;
    let until = Infinity;
    let failed = false;
    let zoneKey: string | undefined;
    let extra: KeepMore | undefined;
    try {
      let lacking: Lacking | undefined;
      const gate = gates?.[transport];
      let r: Awaited<ReturnType<typeof respond>>;
      try {
        r = await respond(query, set, now, gate, keep !== undefined);
      } catch (err) {
        if (!(err instanceof OverBudget)) throw err;
        if (transport === 'udp') return overBudget(query, signer, now);
        // TCP is never refused, but it may have joined a refused UDP query's signature (cache.ts singleflight).
        r = await respond(query, set, now, gate, keep !== undefined);
      }
      ({ response: resp, until, lacking, zoneKey, extra } = r);
      if (lacking) report(lacking);
    } catch (err) {
      // Fail closed (STYLE habit 13): never an unsigned or half-built answer.
      logger.error({ err, qname: query.name.toString(), qtype: query.type }, 'answer failed, SERVFAIL');
      resp = base(query, Rcode.SERVFAIL);
      failed = true;
    }
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ client: client(peer), qname: query.name.toString(), qtype: query.type, transport, rcode: resp.rcode, an: resp.answer.length, ns: resp.authority.length }, 'query');
    }
    const wire = encodeResponse(resp, limit, signer?.overhead);
    const cell = queries ? queries.count(zoneKey, query.type, resp.rcode, transport) : -1;
    if (k && cache && !signer && !failed && resp.rcode !== Rcode.SERVFAIL) {
      cache.set(set, k, wire, now, until, cell);
      keep?.(until, cell, extra);
    }
    return signer ? signer.sign(wire, now) : wire;
  };
  /**
   * A UDP query the signing budget turned away (budget.ts): TC=1 with no records (RFC 1035 §4.2.1, RFC 7766 §5:
   * the client retries over TCP) or no answer; never cached.
   */
  const overBudget = (query: Query, signer: TsigSigner | undefined, now: number): Uint8Array | null => {
    budget!.refused();
    if (budget!.overflow === 'drop') return null;
    const resp = base(query, Rcode.NOERROR);
    resp.tc = true;
    queries?.count(undefined, query.type, resp.rcode, 'udp');
    const wire = encodeResponse(resp, sizeLimit('udp', query.edns?.udpSize), signer?.overhead);
    return signer ? signer.sign(wire, now) : wire;
  };
  return Object.assign(handle, { cached });
}

/**
 * How long an answer signed by `signing` may be served from the cache: while its served set is current
 * (the cache checks that) and its signatures' window is current. A signer without `refreshAt` (a test
 * double) gets no caching of signed answers.
 */
export function signedUntil(signing: object): number {
  const refreshAt = (signing as Partial<ZoneSigningImpl>).refreshAt;
  return typeof refreshAt === 'function' ? refreshAt.call(signing) : 0;
}

function base(query: Query, rcode: number, options: { code: number; data: Uint8Array }[] = []): Response {
  return {
    id: query.id, opcode: query.opcode, aa: false, rd: query.rd, cd: query.cd, rcode,
    question: { name: query.name, type: query.type, class: query.class },
    answer: [], authority: [], additional: [],
    // RFC 6891 §7: OPT only when the query had one; RFC 3225 / RFC 6840 §5.6: DO copied; RFC 9824 §5.1: CO echoed.
    edns: query.edns ? { udpSize: EDNS_UDP_SIZE, do: query.edns.do, co: query.edns.co, options } : undefined,
  };
}

/**
 * The zone of `failing` that encloses `name` more closely than the served zone `zone` does, if any: a walk up the
 * name's labels (during start-up every zone not loaded yet is failing, thousands of them on a large server).
 */
function failingFor(failing: ReadonlyMap<string, Name>, name: Name, zone: { origin: Name } | undefined): Name | undefined {
  const above = zone ? zone.origin.labelCount : -1;
  for (let i = name.labelCount; i > above; i--) {
    const f = failing.get(i === name.labelCount ? name.key : name.suffix(i).key);
    if (f) return f;
  }
  return undefined;
}

/** The client as the debug log shows it (BIND's `address#port`). */
function client(peer: Peer | undefined): string | undefined {
  return peer && `${peer.address}#${peer.port}`;
}

/** The answer to one well-formed query. */
export async function answer(query: Query, served: Served, now: number = systemClock.now()): Promise<Response> {
  return (await respond(query, served, now)).response;
}

/** DNSSEC records a pre-signed zone lacked for an answer (dnssec/presigned.ts). */
interface Lacking {
  zone: Zone;
  missing: string[];
}

/**
 * The answer and until when it may be cached (epoch seconds; unsigned answers: Infinity; answers of a
 * pre-signed zone: the earliest expiration of their RRSIGs); `zoneKey`: the zone that answered (or failed), for the counters.
 */
async function respond(query: Query, served: Served, now: number, budget?: { budget: SigningBudget; transport: Transport }, hints = false): Promise<{ response: Response; until: number; lacking?: Lacking; zoneKey?: string; extra?: KeepMore }> {
  const plain = (response: Response) => ({ response, until: Infinity });
  if (query.opcode !== Opcode.QUERY) return plain(base(query, Rcode.NOTIMP));
  if (query.class !== RRClass.IN) return plain(base(query, Rcode.REFUSED));
  // RFC 9824 §3.5: an explicit query for the NXNAME meta-type is FORMERR, with EDE 30.
  if (query.type === RRType.NXNAME) return plain(base(query, Rcode.FORMERR, [ede(EdeCode.INVALID_QUERY_TYPE, 'NXNAME is a meta-type')]));
  if (query.type === RRType.AXFR || query.type === RRType.IXFR) return plain(base(query, Rcode.REFUSED));
  if (query.type === RRType.OPT || query.type === RRType.TKEY || query.type === RRType.TSIG || query.type === RRType.MAILA || query.type === RRType.MAILB) {
    return plain(base(query, Rcode.FORMERR));
  }
  // RFC 4035 §3.1.4.1: a DS query for a served child apex goes to the parent zone when we serve that too.
  const zone = served.zones.forQuery(query.name, query.type);
  // A secondary zone we cannot serve (not transferred yet, expired) below or instead of the zone found: SERVFAIL.
  const failing = served.failing?.size ? failingFor(served.failing, query.name, zone) : undefined;
  if (failing) return { response: base(query, Rcode.SERVFAIL), until: Infinity, zoneKey: failing.key };
  if (!zone) return plain(base(query, Rcode.REFUSED));
  const result = lookup(zone, query.name, query.type);
  const signing = served.signing.get(zone.origin.key);
  let sections: Sections, until = Infinity, lacking: Lacking | undefined, learn: string | undefined, compact: CompactHint | undefined;
  const dnssecOk = query.edns?.do ?? false;
  if (wantsPresigned(zone, query.type, dnssecOk)) {
    const p = presignedAnswer(zone, result, { name: query.name, type: query.type, dnssecOk, now });
    ({ sections, until } = p);
    if (p.missing.length > 0) lacking = { zone, missing: p.missing };
  } else if (signing && query.edns?.do) {
    sections = await signAnswer(zone, signing, result, { name: query.name, type: query.type, co: query.edns.co, gate: budget?.budget.gate(budget.transport) });
    until = signedUntil(signing);
    // What a cluster worker may learn from this answer (learned.ts): only for a caller that keeps answers.
    if (!hints || sections.answer.length > 0) { /* nothing to learn */ } else if (learnable(served, zone)) learn = zone.origin.key;
    else if (result.kind === 'nxdomain' && result.chain.length === 0 && zone.settings.denial === 'compact' && !query.name.isWildcard()) {
      compact = compactHint(served, zone, signing, result.name);
      if (compact) learn = zone.origin.key;
    }
  } else sections = toSections(zone, result);
  const response = base(query, sections.rcode);
  response.aa = sections.aa;
  response.answer = sections.answer;
  response.authority = sections.authority;
  if (result.kind === 'referral') {
    // RFC 9471 §3: in-domain glue (addresses at or below the cut) must fit, or the response is truncated;
    // other addresses stay optional.
    const cut = result.cut;
    response.requiredAdditional = sections.additional.filter((rr) => rr.name.isSubdomainOf(cut));
    response.additional = sections.additional.filter((rr) => !rr.name.isSubdomainOf(cut));
  } else response.additional = sections.additional;
  const w = result.kind === 'answer' ? result.answers[0]?.wildcard : undefined;
  return { response, until, lacking, zoneKey: zone.origin.key, extra: hints && (learn || w) ? { learn, wild: w && w.labelCount - 1, compact } : undefined };
}

/** Per served set: the Name.keys of every name above a zone we serve or fail to serve (the parents of each origin). */
const enclosing = new WeakMap<Served, Set<string>>();

/**
 * Whether the denial records of `zone`'s answers hold beyond the name asked (server/learned.ts): a precomputed
 * NSEC chain (RFC 4034 §4), or NSEC3 chain without Opt-Out (RFC 5155 §6: an Opt-Out span may hide unsigned delegations) in a zone with no
 * zone of ours below it (a child zone served without a delegation in its parent is outside the parent's chain).
 */
export function learnable(served: Served, zone: Zone): boolean {
  const denial = zone.settings.denial;
  if (denial !== 'nsec-chain' && (denial !== 'nsec3-chain' || zone.settings.nsec3OptOut)) return false;
  return !hasZoneBelow(served, zone);
}

/** Whether a zone we serve (or fail to serve) lies below `zone`. */
function hasZoneBelow(served: Served, zone: Zone): boolean {
  let above = enclosing.get(served);
  if (!above) {
    above = new Set();
    const add = (n: Name) => { for (let p = n; !p.isRoot();) { p = p.parent(); above!.add(p.key); } };
    for (const z of served.zones.zones()) add(z.origin);
    for (const n of served.failing?.values() ?? []) add(n);
    enclosing.set(served, above);
  }
  return above.has(zone.origin.key);
}

/**
 * Compact zones up to this many names give workers their gaps (the sorted name index is rebuilt after each change,
 * at the first miss: O(n log n) of the primary's time, so not for the largest zones).
 */
export const COMPACT_HINT_MAX_NAMES = 100_000;

/**
 * For a compact denial (RFC 9824) of `name`: the gap of the zone's names around it, when every name in that gap is
 * denied the same way, and the ZSK, for a worker to answer the gap's names itself (learned.ts). Every name in the
 * gap (prev, next) does not exist (empty non-terminals are ancestors of `next`: the worker checks); a cut, DNAME or
 * wildcard that could apply to one of them is at or above `prev` (canonical order puts a name's subtree right after
 * it; the worker leaves names with a label sorting before `*` to us), so those are looked for there.
 */
function compactHint(served: Served, zone: Zone, signing: unknown, name: Name): CompactHint | undefined {
  const key = compactKey(served, zone, signing);
  const gaps = key && gapsFor(zone, name);
  return gaps && { gaps, key };
}

/**
 * The ZSK (PKCS #8) a worker signs `zone`'s compact denials with, when it may (a zone of up to COMPACT_HINT_MAX_NAMES
 * names with no zone of ours below it, signed by a key that can be handed over); else undefined.
 */
export function compactKey(served: Served, zone: Zone, signing: unknown): Uint8Array | undefined {
  const zsk = (signing as Partial<ZoneSigningImpl> | undefined)?.zsk as { pkcs8?: () => Uint8Array } | undefined;
  if (typeof zsk?.pkcs8 !== 'function' || zone.nodes.size > COMPACT_HINT_MAX_NAMES || hasZoneBelow(served, zone)) return undefined;
  return zsk.pkcs8();
}
