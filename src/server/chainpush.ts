// The primary's side of a worker asking for a whole zone's denial data (front.ts, learned.ts `learnDigest` and
// `learnGaps`): a worker that has just learned from an answer of a chain zone (or a compact one) asks once per zone
// and generation, and gets every link of the zone's signed NSEC3 or NSEC chain with its RRSIGs, digested into flat
// arrays once by the primary so a worker takes them without reading a record (or every gap of a
// compact zone's names), so it answers the zone's fresh names from then on instead of learning them link by link
// through misses, which the primary answers one at a time (the first second of a random-name flood).
//
// Only what the primary would mark learnable in an answer (handle.ts `learnable`, `compactKey`) and only for zones
// of up to CHAIN_PUSH_MAX_LINKS links: a larger zone is learned from answers as before. The digest of a chain is
// made once per chain and signing period and shared by every worker that asks.
import type { RRset } from '../dns/rr.js';
import { SMALL_CHAIN_LINKS, type DenialChain } from '../dnssec/chain.js';
import type { Served } from '../state/manager.js';
import { allGaps, type GapKeys } from './gaps.js';
import { LearnedDenial, wireOrderKey, type ChainDigest, type CompactHint, type DigestLink, type KeptLink } from './learned.js';
import { patchedFrom } from '../zone/patch.js';
import type { Zone } from '../zone/types.js';
import { randomBytes } from 'node:crypto';
import { encodeQuery } from '../dns/message.js';
import { RRType } from '../dns/types.js';
import type { Handler, KeepMore } from './handle.js';
import type { Name } from '../dns/name.js';
import { EDNS_UDP_SIZE } from './limits.js';
import { compactKey, learnable, signedUntil } from './handle.js';

/** Chains of more links than this are not sent whole (a worker holds at most 200,000 links: learned.ts). */
export const CHAIN_PUSH_MAX_LINKS = SMALL_CHAIN_LINKS;

/** What the primary sends for a zone (FrontChain): a chain's records or a compact zone's gaps, valid until `until`. */
export interface ZoneDenial {
  until: number;
  /**
   * Only what changed since the previous generation (`chainChanges`): the owners of the links gone (LearnedDenial.ownerKey),
   * `digest` the links made anew (none: no link changed).
   */
  patch?: { gone: string[] };
  /** Every link of the chain with its RRSIGs (learned.ts ChainDigest). */
  digest?: ChainDigest;
  /** Every fit gap of a compact zone's names (gaps.ts). */
  gaps?: GapKeys;
}

const made = new WeakMap<DenialChain, { until: number; data: Promise<ZoneDenial | undefined> }>();

/** The denial data of the zone keyed `zoneKey` (a Name.key) for a worker, or undefined when it gets none. */
export function zoneDenial(served: Served, zoneKey: string): Promise<ZoneDenial | undefined> | ZoneDenial | undefined {
  const zone = served.zones.byKey(zoneKey);
  const signing = served.signing.get(zoneKey);
  if (!zone || !signing) return undefined;
  const until = signedUntil(signing);
  if (zone.settings.denial === 'compact') {
    if (!compactKey(served, zone, signing)) return undefined;
    const gaps = allGaps(zone);
    return gaps && { until, gaps };
  }
  const chain = signing.chain;
  if (!learnable(served, zone) || !chain || chain.zone !== zone) return undefined;
  const kept = made.get(chain);
  if (kept?.until === until) return kept.data;
  // Counted on the index (links() copies it): a large zone costs nothing here, at each publish or ask.
  if ((chain.kind === 'nsec' ? chain.index.nsec.length : chain.index.nsec3.length) > CHAIN_PUSH_MAX_LINKS) return undefined;
  const data = chainDigest(chain, zoneKey, until);
  made.set(chain, { until, data });
  // A failed digest (the signer failed) is not kept: the next ask tries again. The caller reports the failure.
  data.catch(() => { if (made.get(chain)?.data === data) made.delete(chain); });
  return data;
}

/**
 * Every link of `chain` with its RRSIGs of the period ending `until`, as a digest (learned.ts). A primary signs its
 * chains at load (presign); links without RRSIGs of this period yet (one just began, or the primary does not
 * presign) are signed here first, on the signer's bulk path, and kept by the chain as an answer's would be.
 */
async function chainDigest(chain: DenialChain, zoneKey: string, until: number): Promise<ZoneDenial | undefined> {
  const links = chain.links();
  if (links.some((l) => !chain.isSigned(l))) await chain.sign(links);
  const digest = digestOf(chain, zoneKey, until, links);
  return digest && { until, digest };
}

/** `links` of `chain` (signed for the period ending `until`) as a digest; undefined when none could be read. */
function digestOf(chain: DenialChain, zoneKey: string, until: number, links: readonly RRset[]): ChainDigest | undefined {
  const read: DigestLink[] = [];
  for (const link of links) {
    const sigs = chain.rrsigs(link);
    if (!Array.isArray(sigs) || link.rdatas.length !== 1) continue; // signed for a later period meanwhile: learned from an answer
    read.push({ key: link, rr: { name: link.name, type: link.type, class: link.class, ttl: link.ttl, rdata: link.rdatas[0] }, sigs });
  }
  const params = chain.index.nsec3Params;
  const head = { kind: chain.kind, apexKey: Buffer.from(chain.zone.origin.canonicalWire()).toString('latin1'), salt: params?.salt ?? new Uint8Array(0), iterations: params?.iterations ?? 0, until };
  return LearnedDenial.digest(zoneKey, head, read, keptLinks);
}

/**
 * Links read for a digest, by the chain's RRset (a new version of a chain reuses the RRsets of the links that did
 * not change: dnssec/chain.ts), so the digest of a changed zone reads only its changed links.
 */
const keptLinks = new WeakMap<object, KeptLink>();

/** A zone's denial data as the primary pushes it to every worker unasked (`pushZones`): with an answer to learn its SOA from. */
export interface ZonePush extends ZoneDenial {
  zone: string;
  /** A negative answer of the zone (a name that does not exist) with what a worker keeps of it (front.ts). */
  first: { wire: Uint8Array; until: number; compact?: CompactHint };
}

/** Most links pushed unasked to the workers per generation (a worker holds at most 200,000: learned.ts). */
export const PUSH_MAX_LINKS = 100_000;

/**
 * The denial data of the zones of `served` a worker would ask for and `wants` names (the caller's choice: cluster.ts
 * pushes each zone the first time it is served, afterwards a zone a worker asked for before each time it changed),
 * to push to every worker right after the set is published, so the first seconds of a random-name flood do not go
 * to the primary name by name while each worker asks; up to PUSH_MAX_LINKS links in all. `probe`: a request path
 * that counts nothing (with a response cache of its own: it says what a worker may keep only then), for each zone's
 * first answer (the SOA and, compact, the key and RRSIG fields; `firstAnswer`). `send`: one zone's push, while
 * `current()` is still true (a newer set has pushes of its own).
 */
export async function pushZones(served: Served, probe: Handler, wants: (zoneKey: string) => boolean, current: () => boolean, send: (p: ZonePush) => void): Promise<void> {
  let budget = PUSH_MAX_LINKS;
  for (const zone of served.zones.zones()) {
    // zoneDenial decides which zones get data (the modes and conditions of an answer's `learn`).
    const key = zone.origin.key;
    if (!wants(key)) continue;
    const data = await zoneDenial(served, key);
    if (!current()) return;
    const links = data?.digest?.owners.length ?? data?.gaps?.owners.length ?? 0;
    if (!data || links > budget) continue;
    const first = await firstAnswer(zone.origin, probe);
    if (!current()) return;
    if (!first || first.keep.extra?.learn !== key) continue;
    budget -= links;
    send({ zone: key, ...data, first: { wire: first.wire, until: first.keep.until, compact: first.keep.extra.compact } });
  }
}

/**
 * A negative answer for a fresh name under `origin` that a worker may learn from, with what it may keep; a few tries
 * (a compact zone gives the key only for a name in a gap with no cut, DNAME or wildcard above it: gaps.ts).
 */
async function firstAnswer(origin: Name, probe: Handler): Promise<{ wire: Uint8Array; keep: { until: number; extra?: KeepMore } } | undefined> {
  for (let i = 0; i < 8; i++) {
    const name = origin.child(randomBytes(12).toString('hex'));
    let keep: { until: number; extra?: KeepMore } | undefined;
    const wire = await probe(encodeQuery(name, RRType.A, { udpSize: EDNS_UDP_SIZE, do: true }), 'udp', undefined, undefined, (until, _cell, extra) => { keep = { until, extra }; });
    if (wire && keep?.extra?.learn) return { wire, keep };
  }
  return undefined;
}

/**
 * The zones of `changed` (front.ts changedZones) whose chain a worker may patch instead of dropping what it learned
 * (`chainChanges`), of those `wanted` (the caller's: zones a worker may hold): the zone may be learned before and after,
 * and its chain in `next` is the one of `prev` or was patched from it (dnssec/chain.ts `from`).
 */
export function patchableZones(prev: Served | undefined, next: Served, changed: readonly string[] | undefined, wanted: (zoneKey: string) => boolean): string[] {
  if (!prev || !changed) return [];
  return changed.filter((key) => {
    if (!wanted(key)) return false;
    const was = prev.zones.byKey(key), zone = next.zones.byKey(key);
    const a = prev.signing.get(key)?.chain, b = next.signing.get(key)?.chain;
    if (!was || !zone || !a || !b || a.zone !== was || b.zone !== zone || a.kind !== b.kind) return false;
    return (a === b || b.from === a.id) && learnable(prev, was) && learnable(next, zone);
  });
}

/**
 * What changed in the chain of the zone keyed `zoneKey` (one `patchableZones` named) since the previous generation,
 * for a worker holding links of that one: the owners of the links gone and the links made anew with their RRSIGs
 * (signed first if they are not yet: a primary signs a change's links before serving it, so normally none).
 * Undefined when the zone is no longer what `patchableZones` saw.
 */
export async function chainChanges(served: Served, zoneKey: string): Promise<ZoneDenial | undefined> {
  const zone = served.zones.byKey(zoneKey);
  const signing = served.signing.get(zoneKey);
  const chain = signing?.chain;
  if (!zone || !signing || !chain || chain.zone !== zone) return undefined;
  const until = signedUntil(signing);
  const gone: string[] = [];
  for (const owner of chain.gone) {
    const key = LearnedDenial.ownerKey(chain.kind, owner);
    if (key !== undefined) gone.push(key);
  }
  const fresh = chain.fresh;
  if (fresh.some((l) => !chain.isSigned(l))) await chain.sign(fresh);
  const digest = fresh.length === 0 ? undefined : digestOf(chain, zoneKey, until, fresh);
  // Every new link or none: a link left out would leave a worker the one of the same owner it replaces.
  if ((digest?.owners.length ?? 0) !== fresh.length) return undefined;
  return { until, patch: { gone }, digest };
}

/**
 * A patched zone's push (`chainChanges` with an answer of the zone for its new SOA, as `pushZones` sends), or nothing
 * when it cannot be made: a worker holding the zone then drops it (front.ts).
 */
export async function chainPatchPush(served: Served, zoneKey: string, probe: Handler): Promise<Partial<Omit<ZonePush, 'zone'>>> {
  const data = await chainChanges(served, zoneKey);
  const zone = served.zones.byKey(zoneKey);
  if (!data || !zone) return {};
  const first = await firstAnswer(zone.origin, probe);
  if (!first || first.keep.extra?.learn !== zoneKey) return {};
  return { ...data, first: { wire: first.wire, until: first.keep.until, compact: first.keep.extra.compact } };
}

/**
 * The compact zones of `changed` whose gaps a worker may keep but those around the changed names (and `wanted`: a
 * worker may hold them), with the changed names as order keys (learned.ts orderKey): the zone in `next` was patched
 * from the one in `prev` (zone/patch.ts `patchedFrom`), the ZSK is the same, and no changed name is a wildcard, a cut
 * or a DNAME before or after (what may change which gaps fit: gaps.ts). A gap holding none of those names still
 * holds no name of the zone, under the same cuts, DNAMEs and wildcards.
 */
export function compactCuts(prev: Served | undefined, next: Served, changed: readonly string[] | undefined, wanted: (zoneKey: string) => boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!prev || !changed) return out;
  for (const key of changed) {
    const was = prev.zones.byKey(key), zone = next.zones.byKey(key);
    if (!was || !zone || zone.settings.denial !== 'compact' || !wanted(key)) continue;
    const rec = patchedFrom.get(zone);
    if (!rec || rec.from.deref() !== was) continue;
    const a = compactKey(prev, was, prev.signing.get(key)), b = compactKey(next, zone, next.signing.get(key));
    if (!a || !b || !Buffer.from(a).equals(b)) continue;
    // A cut or a DNAME at the name in either version.
    const shaping = (z: Zone, n: Name): boolean => { const rr = z.nodes.get(n.key)?.rrsets; return rr !== undefined && (rr.has(RRType.NS) || rr.has(RRType.DNAME)); };
    const keys: string[] = [];
    for (const n of rec.names) {
      if (n.equals(zone.origin)) continue; // its SOA: the apex exists before and after, no gap changes
      const k = wireOrderKey(n.canonicalWire());
      // A wildcard, or a name below one (a `*` label anywhere: an empty non-terminal wildcard).
      if (k === undefined || n.labels.some((l) => l.length === 1 && l[0] === 0x2a) || shaping(was, n) || shaping(zone, n)) {
        keys.length = 0;
        break;
      }
      keys.push(k);
    }
    if (keys.length > 0) out[key] = keys;
  }
  return out;
}

/**
 * A compact zone's push after `compactCuts` (the workers dropped the gaps around the changed names and hold the rest):
 * one answer of the zone for its new SOA and RRSIGs (a NODATA at the apex: no gap is looked up for it), nothing when
 * it cannot be made.
 */
export async function compactPatchPush(served: Served, zoneKey: string, probe: Handler): Promise<Partial<Omit<ZonePush, 'zone'>>> {
  const zone = served.zones.byKey(zoneKey);
  const signing = served.signing.get(zoneKey);
  if (!zone || !signing) return {};
  let keep: { until: number } | undefined;
  const wire = await probe(encodeQuery(zone.origin, RRType.NULL, { udpSize: EDNS_UDP_SIZE, do: true }), 'udp', undefined, undefined, (until) => { keep = { until }; });
  if (!wire || !keep) return {};
  return { until: signedUntil(signing), patch: { gone: [] }, first: { wire, until: keep.until } };
}
