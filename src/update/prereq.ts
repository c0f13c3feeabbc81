// RFC 2136 §3.2: the prerequisites of an UPDATE, decided against the zone as it is served (what a client that
// queried the zone saw: the SOA with its served serial, the signer's DNSKEY/CDS/CDNSKEY, the served apex NS).
// Pure: the zone in, the first failing RCODE out (§3.2.5: in the order given, value sets after the others).
import { canonicalRdata, rdataEquals } from '../dns/rdata.js';
import { Rcode, RRType, typeName } from '../dns/types.js';
import type { Zone } from '../zone/types.js';
import type { Prerequisite } from './message.js';

export interface PrerequisiteFailure {
  rcode: number;
  reason: string;
}

/** The RDATAs served at `name` with `type`, or undefined when there is no such RRset. */
function rrset(zone: Zone, p: { name: Prerequisite['name']; type: number }): Uint8Array[] | undefined {
  return zone.nodes.get(p.name.key)?.rrsets.get(p.type)?.rdatas;
}

/** A name is in use when it owns at least one RR; an empty non-terminal owns none (RFC 2136 §2.4.4). */
function inUse(zone: Zone, name: Prerequisite['name']): boolean {
  const node = zone.nodes.get(name.key);
  return node !== undefined && node.rrsets.size > 0;
}

/** Two RDATA lists as sets, names compared case-insensitively (RFC 2136 §3.2.3; canonical form, RFC 4034 §6.2). */
function sameSet(type: number, a: Uint8Array[], b: Uint8Array[]): boolean {
  const ca = a.map((r) => canonicalRdata(type, r));
  const cb = b.map((r) => canonicalRdata(type, r));
  const uniq = (l: Uint8Array[]) => l.filter((x, i) => l.findIndex((y) => rdataEquals(x, y)) === i);
  const ua = uniq(ca), ub = uniq(cb);
  return ua.length === ub.length && ua.every((x) => ub.some((y) => rdataEquals(x, y)));
}

export function checkPrerequisites(zone: Zone, prerequisites: readonly Prerequisite[]): PrerequisiteFailure | undefined {
  const at = (p: Prerequisite) => `${p.name}${p.type === RRType.ANY ? '' : ` ${typeName(p.type)}`}`;
  for (const p of prerequisites) {
    if (p.kind === 'in-use') {
      // §2.4.4 / §2.4.1
      if (p.type === RRType.ANY) { if (!inUse(zone, p.name)) return { rcode: Rcode.NXDOMAIN, reason: `prerequisite: ${at(p)} is not in use` }; }
      else if (!rrset(zone, p)) return { rcode: Rcode.NXRRSET, reason: `prerequisite: no ${at(p)} RRset` };
    } else if (p.kind === 'not-in-use') {
      // §2.4.5 / §2.4.3
      if (p.type === RRType.ANY) { if (inUse(zone, p.name)) return { rcode: Rcode.YXDOMAIN, reason: `prerequisite: ${at(p)} is in use` }; }
      else if (rrset(zone, p)) return { rcode: Rcode.YXRRSET, reason: `prerequisite: ${at(p)} RRset exists` };
    }
  }
  // §2.4.2: value-dependent RRset exists, compared as a whole.
  for (const p of prerequisites) {
    if (p.kind !== 'value') continue;
    const served = rrset(zone, p);
    if (!served || !sameSet(p.type, served, p.rdatas)) return { rcode: Rcode.NXRRSET, reason: `prerequisite: ${at(p)} RRset is not exactly the one given` };
  }
  return undefined;
}
