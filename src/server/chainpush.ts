// The primary's side of a worker asking for a whole zone's denial data (front.ts, learned.ts `learnChain` and
// `learnGaps`): a worker that has just learned from an answer of a chain zone (or a compact one) asks once per zone
// and generation, and gets every link of the zone's signed NSEC3 or NSEC chain with its RRSIGs (or every gap of a
// compact zone's names), so it answers the zone's fresh names from then on instead of learning them link by link
// through misses, which the primary answers one at a time (the first second of a random-name flood).
//
// Only what the primary would mark learnable in an answer (handle.ts `learnable`, `compactKey`) and only for zones
// of up to CHAIN_PUSH_MAX_LINKS links: a larger zone is learned from answers as before. The records of a chain are
// made once per chain and signing period and shared by every worker that asks.
import type { Rr } from '../dns/rr.js';
import type { DenialChain } from '../dnssec/chain.js';
import type { Served } from '../state/manager.js';
import { allGaps, type Gap } from './gaps.js';
import { compactKey, learnable, signedUntil } from './handle.js';

/** Chains of more links than this are not sent whole (a worker holds at most 100,000 links: learned.ts). */
export const CHAIN_PUSH_MAX_LINKS = 50_000;

/** What the primary sends for a zone (FrontChain): a chain's records or a compact zone's gaps, valid until `until`. */
export interface ZoneDenial {
  until: number;
  /** Every link of the chain with its RRSIGs, uncompressed, each link followed by its RRSIGs. */
  records?: Uint8Array;
  gaps?: Gap[];
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
  if (chain.links().length > CHAIN_PUSH_MAX_LINKS) return undefined;
  const data = chainRecords(chain, until);
  made.set(chain, { until, data });
  return data;
}

/**
 * Every link of `chain` with its RRSIGs of the period ending `until`. A primary signs its chains at load (presign);
 * links without RRSIGs of this period yet (one just began, or the primary does not presign) are signed here first,
 * on the signer's bulk path, and kept by the chain as an answer's would be.
 */
async function chainRecords(chain: DenialChain, until: number): Promise<ZoneDenial | undefined> {
  const links = chain.links();
  if (links.some((l) => !chain.isSigned(l))) await chain.sign(links);
  const parts: Uint8Array[] = [];
  for (const link of links) {
    const sigs = chain.rrsigs(link);
    if (!Array.isArray(sigs)) continue; // signed for a later period meanwhile: the worker learns it from an answer
    for (const rdata of link.rdatas) parts.push(record({ name: link.name, type: link.type, class: link.class, ttl: link.ttl, rdata }));
    for (const s of sigs) parts.push(record(s));
  }
  return { until, records: Buffer.concat(parts) };
}

/** One record, uncompressed: owner, TYPE, CLASS, TTL, RDLENGTH, RDATA (RFC 1035 §4.1.3). */
function record(rr: Rr): Uint8Array {
  const owner = rr.name.wire();
  const out = Buffer.allocUnsafe(owner.length + 10 + rr.rdata.length);
  out.set(owner, 0);
  let o = owner.length;
  o = out.writeUInt16BE(rr.type, o);
  o = out.writeUInt16BE(rr.class, o);
  o = out.writeUInt32BE(rr.ttl >>> 0, o);
  o = out.writeUInt16BE(rr.rdata.length, o);
  out.set(rr.rdata, o);
  return out;
}

