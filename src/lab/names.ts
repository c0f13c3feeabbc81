// Which names the checker asks every provider: one of each kind of answer a validator must get right
// (positive, CNAME, wildcard, NXDOMAIN, NODATA, empty non-terminal, referral), taken from the zone's own
// names (an AXFR, or a walk of a real NSEC chain) or, when neither is possible, made up (a name that cannot
// exist, a type the apex lacks). `--name NAME TYPE` adds the operator's own.
import { decodeTypeBitmap } from '../dns/bitmap.js';
import { Name } from '../dns/name.js';
import type { Message } from '../dns/reader.js';
import type { Rr } from '../dns/rr.js';
import { RRType, typeFromName, typeName } from '../dns/types.js';
import { subtreeSuccessor } from '../dnssec/denial/nsec.js';

export interface NameToCheck {
  name: Name;
  type: number;
  /** Why it is asked: the answer kind it should show, and where the name came from. */
  why: string;
}

/** A name of the zone and the types it holds (from a transfer or an NSEC bitmap). */
export type ZoneNames = Map<string, { name: Name; types: Set<number> }>;

/** Owners and types of transferred records (DNSSEC-only types count: an NSEC3-only owner is not a name). */
export function zoneNames(records: readonly Rr[]): ZoneNames {
  const m: ZoneNames = new Map();
  for (const r of records) {
    if (r.type === RRType.NSEC3 || (r.type === RRType.RRSIG && ((r.rdata[0] << 8) | r.rdata[1]) === RRType.NSEC3)) continue;
    const e = m.get(r.name.key) ?? { name: r.name, types: new Set<number>() };
    e.types.add(r.type);
    m.set(r.name.key, e);
  }
  return m;
}

/** A label no zone is expected to hold, so the names made from it have no data of their own. */
export const PROBE_LABEL = 'tandem-check-none';

const DATA_TYPES = [RRType.A, RRType.AAAA, RRType.TXT, RRType.MX, RRType.SRV, RRType.CAA];
const NODATA_TYPES = [RRType.TXT, RRType.MX, RRType.AAAA, RRType.A, RRType.SRV, RRType.CAA];
const META = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

/** One name per kind of answer, from what the zone holds (apex SOA and NS are always asked; not listed here). */
export function pickNames(zone: Name, names: ZoneNames, source: string): NameToCheck[] {
  const all = [...names.values()].filter((e) => e.name.isSubdomainOf(zone)).sort((a, b) => a.name.compare(b.name));
  const cuts = all.filter((e) => !e.name.equals(zone) && e.types.has(RRType.NS)).map((e) => e.name);
  const belowCut = (n: Name) => cuts.some((c) => n.isSubdomainOf(c) && !n.equals(c));
  const inZone = all.filter((e) => !belowCut(e.name) && !cuts.some((c) => c.equals(e.name)));
  const exists = (n: Name) => names.has(n.key);
  const out: NameToCheck[] = [];
  const add = (name: Name, type: number, kind: string) => out.push({ name, type, why: `${kind} (${source})` });

  const plain = inZone.filter((e) => !e.name.isWildcard() && !e.types.has(RRType.CNAME) && !e.types.has(RRType.DNAME));
  const pos = plain.find((e) => !e.name.equals(zone) && DATA_TYPES.some((t) => e.types.has(t))) ?? plain.find((e) => !e.name.equals(zone) && [...e.types].some((t) => !META.has(t)));
  if (pos) {
    add(pos.name, DATA_TYPES.find((t) => pos.types.has(t)) ?? [...pos.types].find((t) => !META.has(t))!, 'positive');
    const lacking = NODATA_TYPES.find((t) => !pos.types.has(t));
    if (lacking) add(pos.name, lacking, 'NODATA');
  }
  const cname = inZone.find((e) => e.types.has(RRType.CNAME) && !e.name.isWildcard());
  if (cname) add(cname.name, RRType.A, 'CNAME');
  const wild = inZone.find((e) => e.name.isWildcard() && !belowCut(e.name));
  if (wild) {
    const probe = wild.name.parent().child(PROBE_LABEL);
    if (!exists(probe)) {
      const t = wild.types.has(RRType.CNAME) ? RRType.A : DATA_TYPES.find((x) => wild.types.has(x)) ?? [...wild.types].find((x) => !META.has(x)) ?? RRType.A;
      add(probe, t, 'wildcard');
      const lacking = wild.types.has(RRType.CNAME) ? undefined : NODATA_TYPES.find((x) => !wild.types.has(x));
      if (lacking) add(probe, lacking, 'wildcard NODATA');
    }
  }
  // An empty non-terminal: an ancestor of a name that holds no records itself (RFC 4592 §2.2.2).
  for (const e of inZone) {
    let found: Name | undefined;
    for (let n = e.name.parent(); n.labelCount > zone.labelCount; n = n.parent()) if (!exists(n)) { found = n; break; }
    if (found && !belowCut(found)) { add(found, RRType.A, 'empty non-terminal NODATA'); break; }
  }
  // NXDOMAIN: a child of a name without a wildcard below it (the apex unless `*.zone` exists).
  const parent = [zone, ...plain.map((e) => e.name)].find((n) => !exists(n.child('*')) && !exists(n.child(PROBE_LABEL)));
  if (parent) add(parent.child(PROBE_LABEL), RRType.A, 'NXDOMAIN');
  // Referrals: a secure (DS) and an insecure delegation, asked for data and for the DS itself.
  const secure = cuts.find((c) => names.get(c.key)!.types.has(RRType.DS));
  const insecure = cuts.find((c) => !names.get(c.key)!.types.has(RRType.DS));
  for (const c of [secure, insecure]) {
    if (!c) continue;
    const secured = c === secure;
    add(c.child('www'), RRType.A, `referral, ${secured ? 'secure' : 'insecure'}`);
    add(c, RRType.DS, secured ? 'DS at a delegation' : 'no DS at a delegation');
  }
  return out;
}

/** Types tried at the apex for a NODATA answer when the zone cannot be read. */
export const APEX_NODATA_TYPES = [RRType.NAPTR, RRType.SSHFP, RRType.HINFO, RRType.LOC];

/**
 * `--name` values: `NAME TYPE`, `NAME/TYPE` or `NAME` (type A). A name without a final dot is under the zone
 * unless it already ends in the zone's name.
 */
export function parseNameArg(text: string, zone: Name): NameToCheck {
  const m = /^\s*(\S+?)(?:[\s/]+(\S+))?\s*$/.exec(text);
  if (!m) throw new Error(`--name '${text}': expected 'NAME TYPE'`);
  const type = m[2] === undefined ? RRType.A : typeFromName(m[2]);
  if (type === undefined) throw new Error(`--name '${text}': unknown type '${m[2]}'`);
  const raw = m[1];
  let name: Name;
  if (raw.endsWith('.')) name = Name.fromText(raw);
  else {
    const abs = Name.fromText(`${raw}.`);
    name = abs.isSubdomainOf(zone) ? abs : Name.fromText(raw, zone);
  }
  if (!name.isSubdomainOf(zone)) throw new Error(`--name '${text}': ${name} is not in the zone ${zone}`);
  return { name, type, why: `given (--name ${name} ${typeName(type)})` };
}

/** One question to one provider, as the walk asks it; undefined when there is no usable answer. */
export type Asker = (name: Name, type: number) => Promise<Message | undefined>;

function nsecAt(m: Message | undefined, owner: Name): { next: Name; types: Set<number> } | undefined {
  const rr = [...(m?.answer ?? []), ...(m?.authority ?? [])].find((r) => r.type === RRType.NSEC && r.name.equals(owner));
  if (!rr) return undefined;
  try {
    const { name, next } = Name.read(rr.rdata, 0);
    return { next: name, types: new Set(decodeTypeBitmap(rr.rdata.subarray(next))) };
  } catch {
    return undefined;
  }
}

/**
 * The zone's names from its NSEC chain (RFC 4034 §4.1.1: each NSEC names the next owner), when the provider
 * serves a real chain: a signer that makes NSEC records per answer (white lies, RFC 4470; compact denial,
 * RFC 9824) names `\000.<owner>` as the next name, which is no name of the zone, so the walk stops there.
 * At a delegation the NSEC is asked for with a name just past the cut (its covering NSEC is the cut's).
 * Bounded by `max` questions; undefined when no chain was found.
 */
export async function walkNsec(zone: Name, askOne: Asker, max = 200): Promise<ZoneNames | undefined> {
  const names: ZoneNames = new Map();
  let cur = zone;
  for (let step = 0; step < max; step++) {
    let found = nsecAt(await askOne(cur, RRType.NSEC), cur);
    const past = cur.equals(zone) ? undefined : subtreeSuccessor(cur);
    if (!found && past) found = nsecAt(await askOne(past, RRType.A), cur);
    if (!found || found.types.has(RRType.NXNAME)) break;
    names.set(cur.key, { name: cur, types: found.types });
    const first = found.next.labels[0];
    if (first && first.length >= 1 && first[0] === 0) return undefined; // synthesized next name: no chain to walk
    if (found.next.equals(zone) || !found.next.isSubdomainOf(zone)) return names;
    cur = found.next;
  }
  return names.size > 1 ? names : undefined;
}
