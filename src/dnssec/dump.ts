// A full signed copy of a zone in RFC 1035 master-file form, with a complete NSEC or NSEC3 chain (RFC 4034
// §4, RFC 4035 §2.3, RFC 5155 §7.1; chain.ts): what `tandem dump --signed` prints, for offline checks
// (ldns-verify-zone), and what a signed zone transfer carries to a secondary that serves pre-signed data.
import type { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import { rrLine } from '../dns/zonetext.js';
import type { Zone } from '../zone/types.js';
import type { ZoneSigning } from './types.js';
import { chainIndex, type ChainKind } from './chain.js';

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
 * iterations) and the NSEC3PARAM at the apex, appended after the zone's own records (default: the kind of the
 * zone's own chain, else NSEC). A zone that answers from
 * a chain of that kind (`nsec3-chain`, `nsec-chain`: `signing.chain`) gives its own, with the RRSIGs it keeps;
 * for the others one is made here (chain.ts `chainIndex`) and signed through the signature cache.
 */
export async function signedZoneRecords(zone: Zone, signing: ZoneSigning, opts: { chain?: ChainKind } = {}): Promise<Rr[]> {
  const kind = opts.chain ?? signing.chain?.kind ?? 'nsec';
  const nsec3 = kind === 'nsec3';
  const own = signing.chain?.kind === kind && signing.chain.zone === zone ? signing.chain : undefined;
  // Links not signed yet (a process that answers no queries signs its chain only when asked) are signed in
  // bulk first, on the signer's pool, rather than one by one below.
  if (own) await own.sign();
  const index = own ? own.index : chainIndex(zone, { kind }, signing.negativeTtl).index;
  const linkSigs = (link: RRset) => (own ? own.rrsigs(link) : signing.signRrset(link));
  const nsecAt = new Map(index.nsec.map((l) => [l.name.key, l]));
  const nodes = [...zone.nodes.values()].sort((a, b) => a.name.compare(b.name));
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
    const nsec = nsecAt.get(node.name.key);
    if (nsec) out.push(...records(nsec), ...(await linkSigs(nsec)));
  }
  for (const { rrset } of index.nsec3) out.push(...records(rrset), ...(await linkSigs(rrset)));
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
