// The implicit NOTIFY list (RFC 1996 §3.6): the hosts of the zone's apex NS RRset, except the primary named
// in the SOA MNAME and our own nameservers (zone.nameservers), at port 53. Addresses come from the zone's own
// data when the name is in the zone (glue), else from the system resolver, bounded in time.
import { promises as dns } from 'node:dns';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { formatRdata } from '../dns/rdata.js';
import type { ZoneVersion } from '../state/zone-version.js';

export interface ApexTarget {
  name: string;
  host: string;
  port: number;
}

/** The NS names to notify (RFC 1996 §3.6): apex NS minus SOA MNAME minus our own nameservers. */
export function apexNsNames(v: ZoneVersion): Name[] {
  const mname = Name.read(v.zone.soa.rdatas[0], 0).name;
  const ours = v.zone.settings.nameservers;
  const out: Name[] = [];
  for (const r of v.zone.apexNs.rdatas) {
    const n = Name.read(r, 0).name;
    if (n.equals(mname) || ours.some((o) => o.equals(n)) || out.some((o) => o.equals(n))) continue;
    out.push(n);
  }
  return out;
}

/** Addresses of `names`: the zone's own A/AAAA records for in-zone names, else a bounded system lookup. */
export async function resolveTargets(v: ZoneVersion, names: Name[], timeoutMs = 3000): Promise<{ targets: ApexTarget[]; unresolved: string[] }> {
  const targets: ApexTarget[] = [];
  const unresolved: string[] = [];
  for (const n of names) {
    let addrs: string[] = [];
    if (n.isSubdomainOf(v.origin)) {
      const node = v.zone.nodes.get(n.key);
      for (const t of [RRType.A, RRType.AAAA]) for (const r of node?.rrsets.get(t)?.rdatas ?? []) addrs.push(formatRdata(t, r));
    } else {
      const host = n.toString().replace(/\.$/, '');
      const lookup = Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      const res = await Promise.race([lookup, timer]);
      if (res !== 'timeout') for (const x of res) if (x.status === 'fulfilled') addrs = addrs.concat(x.value);
    }
    if (addrs.length === 0) unresolved.push(n.toString());
    for (const host of addrs) targets.push({ name: n.toString(), host, port: 53 });
  }
  return { targets, unresolved };
}
