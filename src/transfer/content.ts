// What a zone transfer carries (issue 11), per receiver, because receivers differ:
// - unsigned: the zone data, every apex NS record (the served set and those in the data), and DNSKEYs:
//   our ZSK (and KSK when asked) plus every imported key. This is what a secondary multi-signer
//   (Cloudflare, NS1, another tandem) needs: it signs with its own keys and merges our ZSK (RFC 8901 §2.1.2).
//   No RRSIG, NSEC/NSEC3, NSEC3PARAM, CDS or CDNSKEY.
// - signed: the zone as served to validators, every RRset with its RRSIGs and a complete NSEC or NSEC3
//   chain (dnssec/dump.ts), for secondaries that serve pre-signed data (Knot, NSD, BIND, Cloudflare).
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { rdataEquals } from '../dns/rdata.js';
import { signedZoneRecords } from '../dnssec/dump.js';
import { transferChain } from '../dnssec/denial/index.js';
import type { ZoneVersion } from '../state/manager.js';
import type { ZoneNode } from '../zone/types.js';

/** Types an unsigned transfer leaves out: the signer's records, which the receiver makes itself. */
const SIGNER_TYPES: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.CDS, RRType.CDNSKEY]);

export interface UnsignedOptions {
  includeKsk: boolean;
}

function rrs(set: RRset): Rr[] {
  return set.rdatas.map((rdata) => ({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, rdata }));
}

/** The apex RRsets an unsigned transfer carries in place of the served DNSKEY and NS RRsets. */
function unsignedApex(v: ZoneVersion, opts: UnsignedOptions): { ns: RRset; dnskey?: RRset } {
  const origin = v.zone.origin;
  const served = v.zone.apexNs;
  const nsRdatas = [...served.rdatas];
  for (const r of v.records) {
    if (r.type === RRType.NS && r.name.equals(origin) && !nsRdatas.some((x) => rdataEquals(x, r.rdata))) nsRdatas.push(r.rdata);
  }
  const ns: RRset = { ...served, rdatas: nsRdatas };
  if (!v.keys) {
    // An unsigned zone serves no DNSKEY; other providers' keys (multi-signer data) still travel.
    return v.imported.length ? { ns, dnskey: { name: origin, type: RRType.DNSKEY, class: RRClass.IN, ttl: v.config.dnssec.dnskeyTtl, rdatas: [...v.imported] } } : { ns };
  }
  // Keys published without signing (a rollover's new or old key) travel too: the other provider must publish
  // our next ZSK before it signs (RFC 8901 §6).
  const extra = v.keys.published.filter((k) => k !== v.keys!.zsk && k !== v.keys!.ksk && (opts.includeKsk || k.flags !== 257));
  const keys = [v.keys.zsk.dnskey, ...(opts.includeKsk ? [v.keys.ksk.dnskey] : []), ...extra.map((k) => k.dnskey), ...v.imported];
  return { ns, dnskey: { name: origin, type: RRType.DNSKEY, class: RRClass.IN, ttl: v.config.dnssec.dnskeyTtl, rdatas: keys } };
}

/** The RRsets of one node as an unsigned transfer carries them (not the SOA). */
function unsignedSets(node: ZoneNode, apex: ReturnType<typeof unsignedApex> | undefined): RRset[] {
  const out: RRset[] = [];
  for (const set of node.rrsets.values()) {
    if (set.type === RRType.SOA || SIGNER_TYPES.has(set.type)) continue;
    if (apex && (set.type === RRType.NS || set.type === RRType.DNSKEY)) continue;
    out.push(set);
  }
  if (apex) {
    out.unshift(apex.ns);
    if (apex.dnskey) out.push(apex.dnskey);
  }
  return out;
}

/** The SOA as transferred (the served one, with the served serial). */
export function soaRecord(v: ZoneVersion): Rr {
  return rrs(v.zone.soa)[0];
}

/** Every RRset of an unsigned transfer but the SOA, node by node. */
export function* unsignedRrsets(v: ZoneVersion, opts: UnsignedOptions): Generator<RRset> {
  const apex = unsignedApex(v, opts);
  const origin = v.zone.origin;
  yield* unsignedSets(v.zone.nodes.get(origin.key)!, apex);
  for (const node of v.zone.nodes.values()) {
    if (node.name.equals(origin)) continue;
    yield* unsignedSets(node, undefined);
  }
}

/** The records of an unsigned transfer, SOA first (the closing SOA is the sender's business). */
export function* unsignedRecords(v: ZoneVersion, opts: UnsignedOptions): Generator<Rr> {
  yield soaRecord(v);
  for (const set of unsignedRrsets(v, opts)) yield* rrs(set);
}

/**
 * The records of a signed transfer, SOA first; NSEC3 chain when the zone uses NSEC3, else NSEC. A zone with
 * `nsec3-chain` / `nsec-chain` hands over the chain it answers from, RRSIGs included (dump.ts).
 */
export async function signedRecords(v: ZoneVersion): Promise<Rr[]> {
  if (!v.signing) throw new Error(`zone ${v.origin.toString()} is not signed: it cannot be transferred signed`);
  return signedZoneRecords(v.zone, v.signing, { chain: transferChain(v.config.dnssec.denial) });
}

export interface Diff {
  deleted: Rr[];
  added: Rr[];
}

/** RRset key for diffs. */
const setKey = (name: Name, type: number) => `${name.key}|${type}`;

/** The records deleted and added from one unsigned transfer to the next (no SOA: IXFR frames carry those). */
export function diffUnsigned(prev: ZoneVersion, next: ZoneVersion, opts: UnsignedOptions): Diff {
  const before = new Map<string, RRset>();
  for (const set of unsignedRrsets(prev, opts)) before.set(setKey(set.name, set.type), set);
  const diff: Diff = { deleted: [], added: [] };
  for (const set of unsignedRrsets(next, opts)) {
    const k = setKey(set.name, set.type);
    const old = before.get(k);
    before.delete(k);
    diffSet(old, set, diff);
  }
  for (const old of before.values()) diff.deleted.push(...rrs(old));
  return diff;
}

/** The difference between two lists of records (signed transfers), SOAs left out. */
export function diffRecords(prev: readonly Rr[], next: readonly Rr[]): Diff {
  const group = (list: readonly Rr[]) => {
    const m = new Map<string, RRset>();
    for (const r of list) {
      if (r.type === RRType.SOA) continue;
      // RRSIGs are grouped by the type they cover, so a re-signed RRset differs only in its own signatures.
      const k = `${setKey(r.name, r.type)}|${r.type === RRType.RRSIG ? (r.rdata[0] << 8) | r.rdata[1] : ''}`;
      const s = m.get(k);
      if (s) s.rdatas.push(r.rdata);
      else m.set(k, { name: r.name, type: r.type, class: r.class, ttl: r.ttl, rdatas: [r.rdata] });
    }
    return m;
  };
  const before = group(prev);
  const diff: Diff = { deleted: [], added: [] };
  for (const [k, set] of group(next)) {
    diffSet(before.get(k), set, diff);
    before.delete(k);
  }
  for (const old of before.values()) diff.deleted.push(...rrs(old));
  return diff;
}

/** Adds to `diff` what changed between two versions of one RRset (a TTL change replaces every record). */
function diffSet(old: RRset | undefined, set: RRset, diff: Diff): void {
  if (!old) {
    diff.added.push(...rrs(set));
    return;
  }
  if (old.ttl !== set.ttl) {
    diff.deleted.push(...rrs(old));
    diff.added.push(...rrs(set));
    return;
  }
  for (const r of old.rdatas) if (!set.rdatas.some((x) => rdataEquals(x, r))) diff.deleted.push({ name: old.name, type: old.type, class: old.class, ttl: old.ttl, rdata: r });
  for (const r of set.rdatas) if (!old.rdatas.some((x) => rdataEquals(x, r))) diff.added.push({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, rdata: r });
}
