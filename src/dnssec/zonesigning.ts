// A zone's signing material as the answer layer uses it (ZoneSigning in types.ts): picks the key (RFC 4035
// §2.1, RFC 7344 §4.1), the window (window.ts) and the RRSIG fields, builds the signed data in rrsig.ts,
// and caches the signature (cache.ts).
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import type { Zone } from '../zone/types.js';
import { atOrBelowCut, isCut } from './denial/nsec.js';
import { signatureCacheKey, type SignatureCache } from './cache.js';
import { rrsigFromSignedData, signedData, type RrsigFields } from './rrsig.js';
import type { Clock, SignatureWindow, SignGate, Signer, ZoneSigning } from './types.js';
import { DEFAULT_VALIDITY, periodStart, windowEnd, windowFor, type WindowOptions } from './window.js';

export class SigningError extends Error {}

/** RRsets signed by the KSK: the apex DNSKEY RRset (RFC 4035 §2.1) and CDS/CDNSKEY (RFC 7344 §4.1). */
const KSK_TYPES: ReadonlySet<number> = new Set([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

export interface ZoneSigningOptions {
  zone: Name;
  ksk: Signer;
  zsk: Signer;
  clock: Clock;
  /** RRSIG validity in seconds (default 14 days). */
  validity?: number;
  window?: WindowOptions;
  cache: SignatureCache;
  /** min(SOA TTL, SOA MINIMUM) (RFC 9077), for the denial layer. */
  negativeTtl: number;
  /**
   * Most zone RRsets whose RRSIG records are kept ready per window period (default 50 000), see
   * `signRrset`; 0 turns that off.
   */
  answered?: number;
  /** Told of every signature made (not those served from the cache), for the metrics. */
  observer?: SigningObserver;
}

/** What a signing process counts (metrics/registry.ts): each signature made, how long it took, failures. */
export interface SigningObserver {
  /** `background`: made ahead of queries (presign, transfers) rather than for an answer. */
  signed(seconds: number, background: boolean): void;
  failed(background: boolean): void;
}

export interface SignItem {
  rrset: RRset;
  wildcard?: Name;
  ksk?: boolean;
}

export interface PresignResult {
  signed: number;
  failed: { rrset: RRset; error: Error }[];
}

export interface ZoneSigningImpl extends ZoneSigning {
  readonly ksk: Signer;
  readonly zsk: Signer;
  readonly validity: number;
  /** The window signatures made now get. */
  currentWindow(): SignatureWindow;
  /**
   * Epoch seconds at which signatures made now stop being current (the window's period ends and
   * `signRrset` starts making new ones); a response cache must not keep answers holding them longer.
   */
  refreshAt(): number;
  /**
   * Signs RRsets ahead of queries (at zone load) to fill the cache, yielding to the event loop every
   * `batch` RRsets; `onProgress(done, total)` after each batch.
   */
  presign(items: Iterable<RRset | SignItem>, onProgress?: (done: number, total: number) => void, opts?: { batch?: number; signal?: AbortSignal }): Promise<PresignResult>;
  /** `presign` that also hands each RRset's RRSIG records to `onSigned` (the denial chain keeps them, chain.ts). */
  signMany(items: Iterable<RRset | SignItem>, opts?: SignManyOptions): Promise<PresignResult>;
}

export interface SignManyOptions {
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  onSigned?: (rrset: RRset, rrsigs: Rr[]) => void;
  /** Keep the signatures out of the signature cache (the caller keeps them: `onSigned`). */
  uncached?: boolean;
  /** Asked before each batch: RRsets signed meanwhile by someone else (an answer) are left out. */
  skip?: (rrset: RRset) => boolean;
}

export function createZoneSigning(opts: ZoneSigningOptions): ZoneSigningImpl {
  const { zone, ksk, zsk, clock, cache, negativeTtl } = opts;
  const validity = opts.validity ?? DEFAULT_VALIDITY;
  const winOpts = opts.window ?? {};
  windowFor(0, validity, winOpts); // validates the settings now rather than at the first query

  function fieldsFor(rrset: RRset, signer: Signer, labels: number, window: SignatureWindow): RrsigFields {
    return {
      typeCovered: rrset.type,
      algorithm: signer.algorithm,
      labels,
      originalTtl: rrset.ttl, // RFC 4034 §3.1.4: the TTL as it appears in the zone
      expiration: window.expiration,
      inception: window.inception,
      keyTag: signer.keyTag,
      signerName: zone, // RFC 4035 §2.2: the signer's name is the zone apex
    };
  }

  function labelsFor(rrset: RRset, wildcard: Name | undefined): number {
    if (!wildcard) return rrset.name.rrsigLabels;
    // RFC 4592 §2.1.1 / RFC 4034 §3.1.3: the wildcard's labels minus the `*`; the owner must lie below
    // the wildcard's parent (the closest encloser), which is what the signed owner `*.<encloser>` assumes.
    const encloser = wildcard.parent();
    if (!wildcard.isWildcard() || !wildcard.isSubdomainOf(zone) || !rrset.name.isSubdomainOf(encloser) || rrset.name.labelCount <= encloser.labelCount)
      throw new SigningError(`${rrset.name.key} is not synthesized from ${wildcard.key}`);
    return wildcard.rrsigLabels;
  }

  /** A signer's bulk path when it has one (NodeSigner.signInPool), else its `sign`. */
  const bulk = (signer: Signer): ((tbs: Uint8Array) => Promise<Uint8Array>) => {
    const pool = (signer as { signInPool?: (tbs: Uint8Array) => Promise<Uint8Array> }).signInPool;
    return typeof pool === 'function' ? pool.bind(signer) : signer.sign.bind(signer);
  };
  const bulkKsk = bulk(ksk);
  const bulkZsk = bulk(zsk);
  const observer = opts.observer;
  /** `make(tbs)`, timed for the observer when there is one (the cost is paid per signature made, never per cache hit). */
  const timed = (make: (tbs: Uint8Array) => Promise<Uint8Array>, tbs: Uint8Array, background: boolean): Promise<Uint8Array> => {
    if (!observer) return make(tbs);
    const t0 = performance.now();
    return make(tbs).then(
      (sig) => { observer.signed((performance.now() - t0) / 1000, background); return sig; },
      (err: unknown) => { observer.failed(background); throw err; },
    );
  };

  // The window of the current period: the same all period long (window.ts), so computed once per period.
  let period: { from: number; until: number; window: SignatureWindow } | undefined;
  function periodAt(now: number): { from: number; until: number; window: SignatureWindow } {
    if (!period || now < period.from || now >= period.until) {
      period = { from: periodStart(now, validity, winOpts), until: windowEnd(now, validity, winOpts), window: windowFor(now, validity, winOpts) };
      answered = { map: new WeakMap(), size: 0 };
    }
    return period;
  }

  // The RRSIG records answers got for zone RRsets this period, by RRset object (zones are immutable, a
  // change makes new RRsets): a repeat costs a map lookup instead of the signed data and its cache key.
  // Bounded per period; filled from the query path only, so presigning does not fill it.
  const answeredMax = opts.answered ?? 50_000;
  let answered: { map: WeakMap<RRset, { ksk: boolean; rrs: Rr[] }>; size: number } | undefined;

  /**
   * `once`: the RRset is specific to this answer (RFC 9824 §3.1 NXNAME NSEC), so the signature goes
   * neither to nor through the cache. Without `wildcard` or `once`, the RRset is taken to be a zone
   * RRset that is not changed afterwards (answered above).
   */
  function signRrset(rrset: RRset, o: { wildcard?: Name; ksk?: boolean; once?: boolean; gate?: SignGate } = {}): Promise<Rr[]> {
    const now = clock.now();
    const p = periodAt(now);
    if (o.wildcard || o.once || answeredMax === 0) return signWith(rrset, o, false, now, p);
    const memo = answered!;
    const ksk = o.ksk === true;
    const hit = memo.map.get(rrset);
    if (hit && hit.ksk === ksk) return Promise.resolve(hit.rrs);
    return signWith(rrset, o, false, now, p).then((rrs) => {
      if (answered === memo && memo.size < answeredMax) {
        if (!memo.map.has(rrset)) memo.size++;
        memo.map.set(rrset, { ksk, rrs: Object.freeze(rrs) as Rr[] });
      }
      return rrs;
    });
  }

  async function signWith(rrset: RRset, o: { wildcard?: Name; ksk?: boolean; once?: boolean; uncached?: boolean; gate?: SignGate }, background: boolean, now: number, p: { until: number; window: SignatureWindow }): Promise<Rr[]> {
    if (rrset.type === RRType.RRSIG) throw new SigningError('RRSIG RRsets are not signed (RFC 4035 §2.2)');
    if (!rrset.name.isSubdomainOf(zone)) throw new SigningError(`${rrset.name.key} is not in zone ${zone.key}`);
    if (rrset.rdatas.length === 0) throw new SigningError(`empty RRset ${rrset.name.key} type ${rrset.type}`);
    const signer = o.ksk || KSK_TYPES.has(rrset.type) ? ksk : zsk;
    const fields = fieldsFor(rrset, signer, labelsFor(rrset, o.wildcard), p.window);
    const tbs = signedData(rrset, fields);
    let sig: Uint8Array;
    const make = background ? (signer === ksk ? bulkKsk : bulkZsk) : signer.sign.bind(signer);
    // A fresh signature goes through the query's gate (its signing budget), a cached one never waits.
    const gate = o.gate;
    const fresh = gate ? () => gate.run(() => timed(make, tbs, background)) : () => timed(make, tbs, background);
    if (o.once || o.uncached) sig = await fresh();
    else {
      const key = signatureCacheKey(signer.dnskey, tbs);
      // Served until the window's period ends; by then windowFor gives a new window, hence new keys.
      sig = await cache.getOrCreate(key, now, p.until, fresh);
    }
    return [{ name: rrset.name, type: RRType.RRSIG, class: rrset.class, ttl: rrset.ttl, rdata: rrsigFromSignedData(fields, tbs, sig) }];
  }

  async function signMany(items: Iterable<RRset | SignItem>, po: SignManyOptions = {}): Promise<PresignResult> {
    const list = [...items].map((i): SignItem => ('rrset' in i ? i : { rrset: i }));
    const batch = po.batch ?? 256;
    const result: PresignResult = { signed: 0, failed: [] };
    for (let i = 0; i < list.length; i += batch) {
      if (po.signal?.aborted) break;
      const part = po.skip ? list.slice(i, i + batch).filter((it) => !po.skip!(it.rrset)) : list.slice(i, i + batch);
      const now = clock.now();
      const p = periodAt(now);
      const settled = await Promise.allSettled(part.map((it) => signWith(it.rrset, { wildcard: it.wildcard, ksk: it.ksk, uncached: po.uncached }, true, now, p)));
      settled.forEach((s, j) => {
        if (s.status === 'fulfilled') {
          result.signed++;
          po.onSigned?.(part[j].rrset, s.value);
        } else result.failed.push({ rrset: part[j].rrset, error: s.reason instanceof Error ? s.reason : new Error(String(s.reason)) });
      });
      po.onProgress?.(Math.min(i + batch, list.length), list.length);
      await new Promise<void>((resolve) => setImmediate(resolve)); // let queries run between batches
    }
    return result;
  }

  const presign = (items: Iterable<RRset | SignItem>, onProgress?: (done: number, total: number) => void, po: { batch?: number; signal?: AbortSignal } = {}): Promise<PresignResult> =>
    signMany(items, { ...po, onProgress });

  return {
    zone, ksk, zsk, validity, negativeTtl,
    signRrset,
    presign,
    signMany,
    currentWindow: () => ({ ...periodAt(clock.now()).window }),
    refreshAt: () => periodAt(clock.now()).until,
  };
}

/**
 * The RRsets of a zone that answers carry RRSIGs for (RFC 4035 §2.2): every authoritative RRset, the
 * served apex NS, DS at delegation points, and the SOA with its negative-answer TTL (RFC 2308 §5); not
 * the NS RRset of a cut nor glue below it. What `presign` gets at zone load (STYLE habit 8).
 */
export function authoritativeRrsets(zone: Zone): RRset[] {
  const out: RRset[] = [];
  for (const node of zone.nodes.values()) {
    if (isCut(zone, node.name)) {
      const ds = node.rrsets.get(RRType.DS);
      if (ds) out.push(ds);
      continue;
    }
    if (atOrBelowCut(zone, node.name)) continue;
    const apex = node.name.equals(zone.origin);
    for (const rrset of node.rrsets.values()) if (!(apex && rrset.type === RRType.NS)) out.push(rrset);
  }
  out.push(zone.apexNs);
  if (zone.negativeSoa !== zone.soa) out.push(zone.negativeSoa);
  return out;
}
