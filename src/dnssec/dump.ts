// A full signed copy of a zone in RFC 1035 master-file form, with a precomputed NSEC chain (RFC 4034 §4,
// RFC 4035 §2.3): what `tandem dump --signed` prints, for offline checks (ldns-verify-zone) and for handing the
// zone to a secondary that serves pre-signed data.
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { encodeTypeBitmap } from '../dns/rdata.js';
import { rrLine } from '../dns/zonetext.js';
import type { Zone, ZoneNode } from '../zone/types.js';
import type { ZoneSigning } from './types.js';
import { nsec3Hash, nsec3Rrset, nsec3Types, toBig } from './denial/nsec3.js';
import { nameIndex } from './denial/nsec.js';

/** True when `name` is at or below a delegation point of the zone (not the apex). */
function cutAbove(zone: Zone, name: Name): Name | undefined {
  for (let n = name; n.labelCount > zone.origin.labelCount; n = n.parent()) {
    const node = zone.nodes.get(n.key);
    if (node?.rrsets.has(RRType.NS)) return n;
  }
  return undefined;
}

function records(set: RRset): Rr[] {
  return set.rdatas.map((rdata) => ({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, rdata }));
}

/**
 * Every record of the signed zone, in canonical name order, SOA first, with a complete NSEC chain, or with
 * `chain: 'nsec3'` a complete NSEC3 chain (RFC 5155 §7.1, RFC 9276 parameters: SHA-1, no salt, no extra
 * iterations, no opt-out) and the NSEC3PARAM at the apex, appended after the zone's own records.
 */
export async function signedZoneRecords(zone: Zone, signing: ZoneSigning, opts: { chain?: 'nsec' | 'nsec3' } = {}): Promise<Rr[]> {
  const nsec3 = opts.chain === 'nsec3';
  const nodes = [...zone.nodes.values()].sort((a, b) => a.name.compare(b.name));
  // NSEC chain members: authoritative names with data, and delegation points (RFC 4035 §2.3). ENTs and
  // occluded names (glue below a cut) have no NSEC.
  const chain: ZoneNode[] = nodes.filter((n) => {
    if (n.rrsets.size === 0) return false;
    const cut = cutAbove(zone, n.name);
    return !cut || cut.equals(n.name);
  });
  const out: Rr[] = [];
  for (const node of nodes) {
    const cut = cutAbove(zone, node.name);
    const sets = [...node.rrsets.values()]
      .filter((s) => nsec3 || s.type !== RRType.NSEC3PARAM)
      .sort((a, b) => (a.type === RRType.SOA ? -1 : b.type === RRType.SOA ? 1 : a.type - b.type));
    for (const set of sets) {
      out.push(...records(set));
      // Delegation NS and glue are not signed (RFC 4035 §2.2); DS at the cut is.
      const authoritative = !cut || (cut.equals(node.name) && set.type === RRType.DS);
      if (authoritative) out.push(...(await signing.signRrset(set)));
    }
    const i = nsec3 ? -1 : chain.indexOf(node);
    if (i >= 0) {
      const next = chain[(i + 1) % chain.length].name;
      const types = [...node.rrsets.keys()].filter((t) => t !== RRType.NSEC3PARAM);
      const nsec: RRset = {
        name: node.name, type: RRType.NSEC, class: RRClass.IN, ttl: signing.negativeTtl,
        rdatas: [concat(next.wire(), encodeTypeBitmap([...types, RRType.RRSIG, RRType.NSEC]))],
      };
      out.push(...records(nsec), ...(await signing.signRrset(nsec)));
    }
  }
  if (nsec3) {
    // Every authoritative name, ENTs and delegations included, glue not (RFC 5155 §7.1), by hash order.
    const hashes = nameIndex(zone).names.map((name) => ({ name, h: toBig(nsec3Hash(name)) })).sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
    for (let i = 0; i < hashes.length; i++) {
      const set = nsec3Rrset(zone, hashes[i].h, hashes[(i + 1) % hashes.length].h, nsec3Types(zone, hashes[i].name), signing.negativeTtl);
      out.push(...records(set), ...(await signing.signRrset(set)));
    }
  }
  return out;
}

export async function dumpSignedZone(zone: Zone, signing: ZoneSigning): Promise<string> {
  const rrs = await signedZoneRecords(zone, signing);
  return `; signed zone ${zone.origin.toString()} from ${zone.source}\n$ORIGIN ${zone.origin.toString()}\n` + rrs.map((rr) => rrLine(rr)).join('\n') + '\n';
}

export async function dumpZone(zone: Zone): Promise<string> {
  const nodes = [...zone.nodes.values()].sort((a, b) => a.name.compare(b.name));
  const lines: string[] = [];
  for (const node of nodes) {
    const sets = [...node.rrsets.values()].sort((a, b) => (a.type === RRType.SOA ? -1 : b.type === RRType.SOA ? 1 : a.type - b.type));
    for (const set of sets) for (const rr of records(set)) lines.push(rrLine(rr));
  }
  return `; zone ${zone.origin.toString()} from ${zone.source}\n$ORIGIN ${zone.origin.toString()}\n` + lines.join('\n') + '\n';
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
