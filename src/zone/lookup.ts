// The authoritative lookup within one zone (RFC 1034 §4.3.2), with wildcards (RFC 4592 §3.3.1),
// DNAME (RFC 6672 §3), DS from the parent side (RFC 4035 §3.1.4.1) and ANY (RFC 8482 §4.2).
// Pure: returns a typed result that the signer and the response writer switch on (STYLE habit 1).
import { Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import type { AnswerRRset, LookupResult, Zone, ZoneNode } from './types.js';
import { soaMinimum } from '../dns/soa.js';

/** Most CNAME/DNAME steps followed for one query; real chains are short, loops are cut here. */
export const MAX_CHAIN = 16;

/** RFC 8482 §4.2: HINFO RDATA with CPU "RFC8482" and an empty OS. */
const RFC8482_HINFO = Uint8Array.of(7, 0x52, 0x46, 0x43, 0x38, 0x34, 0x38, 0x32, 0);

type Alias = { kind: 'alias'; target: Name };
type Final = LookupResult | Alias;

/**
 * Looks `qname`/`qtype` up in `zone`. `qname` must be at or below the zone origin (pick the zone with
 * ZoneSet.closestEnclosing). CNAME and DNAME chains are followed while their targets stay in this zone.
 */
export function lookup(zone: Zone, qname: Name, qtype: number): LookupResult {
  if (!qname.isSubdomainOf(zone.origin)) throw new RangeError(`${qname} is not in zone ${zone.origin}`);
  const chain: AnswerRRset[] = [];
  const visited = new Set<string>();
  let name = qname;
  for (let steps = 0; ; steps++) {
    visited.add(name.key);
    const r = resolve(zone, name, qtype, chain);
    if (r.kind === 'alias') {
      // Stop at out-of-zone targets (the resolver continues there), loops and over-long chains;
      // the chain so far is the answer (RFC 1034 §4.3.2 step 3a).
      if (!r.target.isSubdomainOf(zone.origin) || visited.has(r.target.key) || steps + 1 >= MAX_CHAIN) {
        return { kind: 'answer', answers: chain, additional: [] };
      }
      name = r.target;
      continue;
    }
    if (r.kind === 'answer') {
      return { kind: 'answer', answers: [...chain, ...r.answers], additional: additionalFor(zone, r.answers) };
    }
    return r;
  }
}

/** One pass of RFC 1034 §4.3.2 step 3 for `name`; aliases append to `chain` and return the target. */
function resolve(zone: Zone, name: Name, qtype: number, chain: AnswerRRset[]): Final {
  const origin = zone.origin;
  let encloser: ZoneNode | undefined;
  // Walk down from the apex label by label (step 3b: zone cuts; RFC 6672 §3.2: DNAME at an ancestor).
  for (let i = origin.labelCount; i <= name.labelCount; i++) {
    const here = i === name.labelCount ? name : name.suffix(i);
    const node = zone.nodes.get(here.key);
    if (!node) break;
    encloser = node;
    const self = i === name.labelCount;
    if (i > origin.labelCount) {
      const ns = node.rrsets.get(RRType.NS);
      if (ns) {
        // RFC 4035 §3.1.4.1: the DS RRset at a cut is parent-side data, answered authoritatively.
        if (self && qtype === RRType.DS) {
          const ds = node.rrsets.get(RRType.DS);
          if (ds) return { kind: 'answer', answers: [{ rrset: withOwner(ds, name) }], additional: [] };
          return { kind: 'nodata', chain, name, soa: zone.soa, types: typesOf(node) };
        }
        return referral(zone, node, ns, chain);
      }
    }
    if (!self) {
      const dname = node.rrsets.get(RRType.DNAME);
      if (dname) return substitute(zone, name, here, dname, chain);
    }
    if (self) return atNode(zone, name, node, qtype, chain);
  }
  // The name does not exist: `encloser` is the closest encloser (RFC 4592 §3.3.1). Any existing
  // name, an empty non-terminal included, blocks synthesis at and below itself (RFC 4592 §2.2.2).
  const ce = encloser!;
  const source = zone.nodes.get(ce.name.child('*').key);
  if (source) return atNode(zone, name, source, qtype, chain, source.name, ce.name);
  return { kind: 'nxdomain', chain, name, soa: zone.soa, closestEncloser: ce.name };
}

/** RFC 1034 §4.3.2 step 3a at an existing node, or at the source of synthesis when `wildcard` is set. */
function atNode(zone: Zone, name: Name, node: ZoneNode, qtype: number, chain: AnswerRRset[], wildcard?: Name, closestEncloser?: Name): Final {
  const tag = (rrset: RRset): AnswerRRset => (wildcard ? { rrset: withOwner(rrset, name), wildcard } : { rrset: withOwner(rrset, name) });
  const cname = node.rrsets.get(RRType.CNAME);
  if (qtype === RRType.ANY && node.rrsets.size > 0) {
    // An ANY at an alias returns the alias itself (ANY matches CNAME); otherwise RFC 8482 §4.2.
    if (cname) return { kind: 'answer', answers: [tag(cname)], additional: [] };
    const hinfo: RRset = { name, type: RRType.HINFO, class: RRClass.IN, ttl: minTtl(zone, node), rdatas: [RFC8482_HINFO] };
    return { kind: 'answer', answers: [{ rrset: hinfo }], additional: [] };
  }
  if (cname && qtype !== RRType.CNAME) {
    chain.push(tag(cname));
    return { kind: 'alias', target: embeddedName(cname.rdatas[0], 0) };
  }
  const set = node.rrsets.get(qtype);
  if (set) return { kind: 'answer', answers: [tag(set)], additional: [] };
  const r: LookupResult = { kind: 'nodata', chain, name, soa: zone.soa, types: typesOf(node) };
  if (wildcard) { r.wildcard = wildcard; r.closestEncloser = closestEncloser; }
  return r;
}

/** RFC 6672 §3.1: answer the DNAME and a synthesized CNAME, then follow it. */
function substitute(zone: Zone, name: Name, owner: Name, dname: RRset, chain: AnswerRRset[]): Final {
  chain.push({ rrset: withOwner(dname, owner) });
  const target = embeddedName(dname.rdatas[0], 0);
  let next: Name;
  try {
    next = Name.fromLabels([...name.labels.slice(0, name.labelCount - owner.labelCount), ...target.labels]);
  } catch {
    // The substituted name is longer than 255 octets: RFC 6672 §2.2 calls for YXDOMAIN, which the
    // result type cannot express; the name is reported as nonexistent.
    return { kind: 'nxdomain', chain, name, soa: zone.soa, closestEncloser: owner };
  }
  const cname: RRset = { name, type: RRType.CNAME, class: RRClass.IN, ttl: dname.ttl, rdatas: [next.wire()] };
  chain.push({ rrset: cname, synthesized: true });
  return { kind: 'alias', target: next };
}

/** RFC 1034 §4.3.2 step 3b: NS of the cut, DS when present, and addresses of in-zone NS targets. */
function referral(zone: Zone, cut: ZoneNode, ns: RRset, chain: AnswerRRset[]): LookupResult {
  const glue: RRset[] = [];
  const seen = new Set<string>();
  for (const rdata of ns.rdatas) {
    const target = embeddedName(rdata, 0);
    if (!target.isSubdomainOf(zone.origin)) continue;
    addAddresses(zone, target, glue, seen);
  }
  const ds = cut.rrsets.get(RRType.DS);
  const r: LookupResult = { kind: 'referral', chain, cut: cut.name, ns, glue };
  if (ds) r.ds = ds;
  return r;
}

/** A and AAAA of in-zone targets of NS, MX and SRV answers (RFC 1034 §4.3.2 step 6, RFC 2782). */
function additionalFor(zone: Zone, answers: AnswerRRset[]): RRset[] {
  const out: RRset[] = [];
  const seen = new Set<string>();
  for (const { rrset } of answers) {
    const offset = rrset.type === RRType.NS ? 0 : rrset.type === RRType.MX ? 2 : rrset.type === RRType.SRV ? 6 : -1;
    if (offset < 0) continue;
    for (const rdata of rrset.rdatas) {
      let target: Name;
      try { target = embeddedName(rdata, offset); } catch { continue; }
      if (!target.isSubdomainOf(zone.origin)) continue;
      // Addresses below a cut are not authoritative: only NS targets may use them, as glue.
      if (rrset.type !== RRType.NS && belowCut(zone, target)) continue;
      addAddresses(zone, target, out, seen);
    }
  }
  return out;
}

function addAddresses(zone: Zone, target: Name, out: RRset[], seen: Set<string>): void {
  const node = zone.nodes.get(target.key);
  if (!node) return;
  for (const t of [RRType.A, RRType.AAAA]) {
    const set = node.rrsets.get(t);
    const k = `${target.key}/${t}`;
    if (set && !seen.has(k)) { seen.add(k); out.push(set); }
  }
}

/** True when `name` is at or below a delegation point of `zone`. */
function belowCut(zone: Zone, name: Name): boolean {
  for (let i = zone.origin.labelCount + 1; i <= name.labelCount; i++) {
    const node = zone.nodes.get(name.suffix(i).key);
    if (!node) return false;
    if (node.rrsets.has(RRType.NS)) return true;
  }
  return false;
}

function typesOf(node: ZoneNode): number[] {
  return [...node.rrsets.keys()].sort((a, b) => a - b);
}

function minTtl(zone: Zone, node: ZoneNode): number {
  let ttl = Infinity;
  for (const set of node.rrsets.values()) ttl = Math.min(ttl, set.ttl);
  return Number.isFinite(ttl) ? ttl : soaMinimum(zone.soa);
}

/** The RRset under the owner name as the query spelled it (answers keep the query's case). */
function withOwner(set: RRset, owner: Name): RRset {
  return sameSpelling(set.name, owner) ? set : { ...set, name: owner };
}

function sameSpelling(a: Name, b: Name): boolean {
  if (a.labelCount !== b.labelCount) return false;
  for (let i = 0; i < a.labelCount; i++) {
    const x = a.labels[i], y = b.labels[i];
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/** A domain name embedded in RDATA (CNAME/DNAME/NS/PTR at 0, MX at 2, SRV at 6). */
function embeddedName(rdata: Uint8Array, offset: number): Name {
  return Name.read(rdata, offset).name;
}
