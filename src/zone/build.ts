// Builds the immutable in-memory zone from parsed records: validates the data against the rules a
// zone must keep (RFC 1034, RFC 1035 §5.2, RFC 2181, RFC 4035 §2.4, RFC 4592 §4, RFC 6672 §2.4),
// groups records into RRsets, creates empty non-terminal nodes and fixes the served apex NS RRset.
import { Name } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType, isMetaType, typeName } from '../dns/types.js';
import type { Zone, ZoneNode, ZoneSettings } from './types.js';
import { negativeSoa } from '../dns/soa.js';

/** A rule the zone data breaks; `owner` is relative to the origin, `reason` ends with the rule's RFC section. */
export class ZoneDataError extends Error {
  constructor(readonly owner: string, readonly type: string, readonly reason: string) {
    super(`${owner} ${type}: ${reason}`);
    this.name = 'ZoneDataError';
  }
}

export interface ZoneInput {
  origin: Name;
  /** Where the records came from (file path), kept for messages. */
  source: string;
  settings: ZoneSettings;
  records: Rr[];
  /** RRsets the server adds at the apex (DNSKEY, CDS, CDNSKEY, NSEC3PARAM); they replace zone data of the same type. */
  apexRrsets?: RRset[];
}

export interface ZoneCheck {
  /** Every rule broken (per-record checks first, then per-owner ones); empty when the zone can be built. */
  errors: ZoneDataError[];
  /** Things accepted but worth telling the operator (e.g. RFC 2181 §5.2 TTL mismatch). */
  warnings: string[];
}

const MAX_TTL = 2147483647; // RFC 2181 §8

/** Validates and builds the zone; throws the first ZoneDataError (use checkZone to see all). */
export function buildZone(input: ZoneInput): Zone {
  return buildZoneWithWarnings(input).zone;
}

/** As buildZone, also returning warnings about data that was accepted with a fix-up. */
export function buildZoneWithWarnings(input: ZoneInput): { zone: Zone; warnings: string[] } {
  const r = analyse(input);
  if (r.errors.length > 0) throw r.errors[0];
  return { zone: r.zone!, warnings: r.warnings };
}

/** Runs every check without throwing, so a loader can report all problems of a zone at once. */
export function checkZone(input: ZoneInput): ZoneCheck {
  const { errors, warnings } = analyse(input);
  return { errors, warnings };
}

// ---------------------------------------------------------------------------------------------

/** A key for duplicate detection: the RDATA bytes with embedded names of the well-known types case-folded. */
function rdataDedupKey(type: number, rdata: Uint8Array): string {
  // Names inside RDATA compare case-insensitively (RFC 4343 §3), so `NS A.example.` duplicates `NS a.example.`.
  // Length octets are at most 63 and so are never changed by ASCII folding; folding whole-name RDATA is safe.
  let from = -1;
  let to = rdata.length;
  switch (type) {
    case RRType.NS: case RRType.CNAME: case RRType.DNAME: case RRType.PTR: from = 0; break;
    case RRType.MX: from = 2; break;
    case RRType.SRV: from = 6; break;
    case RRType.SOA: from = 0; to = rdata.length - 20; break;
  }
  let s = '';
  for (let i = 0; i < rdata.length; i++) {
    let b = rdata[i];
    if (i >= from && from >= 0 && i < to && b >= 0x41 && b <= 0x5a) b += 0x20;
    s += b.toString(16).padStart(2, '0');
  }
  return s;
}

interface Builder {
  name: Name;
  sets: Map<number, { type: number; ttl: number; ttls: Set<number>; rdatas: Uint8Array[]; keys: Set<string> }>;
}

function analyse(input: ZoneInput): { errors: ZoneDataError[]; warnings: string[]; zone?: Zone } {
  const { origin, settings } = input;
  const errors: ZoneDataError[] = [];
  const warnings: string[] = [];
  const rel = (n: Name) => n.relativeTo(origin);
  const fail = (owner: Name, type: number, reason: string) => errors.push(new ZoneDataError(rel(owner), typeName(type), reason));

  // 1. Per-record checks and grouping into RRsets.
  const owners = new Map<string, Builder>();
  for (const rr of input.records) {
    if (rr.class !== RRClass.IN) { fail(rr.name, rr.type, `class ${rr.class} is not IN; only IN data is served (RFC 1035 §3.2.4)`); continue; }
    if (!rr.name.isSubdomainOf(origin)) { fail(rr.name, rr.type, `owner is outside the zone ${origin} (RFC 1034 §4.2)`); continue; }
    if (!Number.isInteger(rr.ttl) || rr.ttl < 0 || rr.ttl > MAX_TTL) { fail(rr.name, rr.type, `TTL ${rr.ttl} outside 0..${MAX_TTL} (RFC 2181 §8)`); continue; }
    if (isMetaType(rr.type)) { fail(rr.name, rr.type, `meta type cannot be stored in a zone (RFC 6895 §3.1)`); continue; }
    let b = owners.get(rr.name.key);
    if (!b) { b = { name: rr.name, sets: new Map() }; owners.set(rr.name.key, b); }
    let set = b.sets.get(rr.type);
    if (!set) { set = { type: rr.type, ttl: rr.ttl, ttls: new Set(), rdatas: [], keys: new Set() }; b.sets.set(rr.type, set); }
    const key = rdataDedupKey(rr.type, rr.rdata);
    if (set.keys.has(key)) { fail(rr.name, rr.type, `duplicate record (RFC 2181 §5)`); continue; }
    set.keys.add(key);
    set.rdatas.push(rr.rdata);
    set.ttls.add(rr.ttl);
    set.ttl = Math.min(set.ttl, rr.ttl);
  }
  for (const b of owners.values()) {
    for (const set of b.sets.values()) {
      if (set.ttls.size > 1) {
        warnings.push(`${rel(b.name)} ${typeName(set.type)}: records of one RRset have different TTLs (${[...set.ttls].sort((x, y) => x - y).join(', ')}); using ${set.ttl} (RFC 2181 §5.2)`);
      }
    }
  }

  // 2. Server-provided apex RRsets replace data of the same type.
  const apexKey = origin.key;
  if (!owners.has(apexKey)) owners.set(apexKey, { name: origin, sets: new Map() });
  const apex = owners.get(apexKey)!;
  for (const set of input.apexRrsets ?? []) {
    if (!set.name.equals(origin)) { fail(set.name, set.type, `server-provided RRset must be at the apex`); continue; }
    apex.sets.set(set.type, { type: set.type, ttl: set.ttl, ttls: new Set([set.ttl]), rdatas: [...set.rdatas], keys: new Set() });
  }

  // 3. Per-owner rules.
  const cuts: Name[] = []; // delegation points (NS below the apex)
  const dnames: Name[] = [];
  for (const b of owners.values()) {
    const atApex = b.name.equals(origin);
    const types = [...b.sets.keys()];
    const cname = b.sets.get(RRType.CNAME);
    if (cname) {
      if (atApex) fail(b.name, RRType.CNAME, `CNAME at the zone apex (RFC 1034 §3.6.2)`);
      if (cname.rdatas.length > 1) fail(b.name, RRType.CNAME, `more than one CNAME record at a name (RFC 2181 §10.1)`);
      // RFC 2181 §10.1 with RFC 4035 §2.5: only DNSSEC records may share the owner of a CNAME.
      const others = types.filter((t) => t !== RRType.CNAME && t !== RRType.RRSIG && t !== RRType.NSEC);
      if (others.length > 0) fail(b.name, RRType.CNAME, `CNAME beside ${others.map(typeName).join(', ')} (RFC 1034 §3.6.2; RFC 2181 §10.1)`);
    }
    const dname = b.sets.get(RRType.DNAME);
    if (dname) {
      if (atApex) fail(b.name, RRType.DNAME, `DNAME at the zone apex is not supported (RFC 6672 §2.3 allows it; tandem does not)`);
      if (dname.rdatas.length > 1) fail(b.name, RRType.DNAME, `more than one DNAME record at a name (RFC 6672 §2.4)`);
      dnames.push(b.name);
    }
    const soa = b.sets.get(RRType.SOA);
    if (soa && !atApex) fail(b.name, RRType.SOA, `SOA below the zone apex (RFC 1035 §5.2)`);
    if (soa && atApex && soa.rdatas.length > 1) fail(b.name, RRType.SOA, `more than one SOA record (RFC 1035 §5.2; RFC 2181 §6.1)`);
    if (b.sets.has(RRType.DS)) {
      if (atApex) fail(b.name, RRType.DS, `DS at the zone apex belongs in the parent zone (RFC 4035 §2.4)`);
      else if (!b.sets.has(RRType.NS)) fail(b.name, RRType.DS, `DS only at a delegation point, with NS (RFC 4035 §2.4)`);
    }
    if (b.name.isWildcard()) {
      if (b.sets.has(RRType.NS)) fail(b.name, RRType.NS, `NS at a wildcard owner (RFC 4592 §4.2)`);
      if (b.sets.has(RRType.DS)) fail(b.name, RRType.DS, `DS at a wildcard owner (RFC 4592 §4.6)`);
    }
    if (!atApex && b.sets.has(RRType.NS)) cuts.push(b.name);
  }
  if (!apex.sets.has(RRType.SOA)) fail(origin, RRType.SOA, `missing SOA at the zone apex (RFC 1035 §5.2)`);
  const dataNs = apex.sets.get(RRType.NS);
  if (!dataNs && settings.nameservers.length === 0) {
    fail(origin, RRType.NS, `no apex NS records and no nameservers in the zone settings (RFC 1035 §5.2)`);
  }

  // 4. Occlusion: below a zone cut only glue (A/AAAA) may exist; at the cut only NS, DS and glue
  //    (RFC 1034 §4.2.1); nothing may exist below a DNAME (RFC 6672 §2.4).
  const cutKeys = new Set(cuts.map((c) => c.key));
  const dnameKeys = new Set(dnames.map((d) => d.key));
  for (const b of owners.values()) {
    const n = b.name;
    for (let i = origin.labelCount + 1; i <= n.labelCount; i++) {
      const anc = n.suffix(i);
      const isSelf = i === n.labelCount;
      if (cutKeys.has(anc.key)) {
        const allowed: number[] = isSelf ? [RRType.NS, RRType.DS, RRType.A, RRType.AAAA] : [RRType.A, RRType.AAAA];
        for (const t of b.sets.keys()) {
          if (!allowed.includes(t)) {
            fail(n, t, isSelf
              ? `occluded: data at the delegation point ${rel(anc)} other than NS, DS and glue (RFC 1034 §4.2.1)`
              : `occluded: below the delegation point ${rel(anc)} only glue (A/AAAA) may exist (RFC 1034 §4.2.1)`);
          }
        }
        break;
      }
      if (!isSelf && dnameKeys.has(anc.key)) {
        for (const t of b.sets.keys()) fail(n, t, `occluded: data below the DNAME at ${rel(anc)} (RFC 6672 §2.4)`);
        break;
      }
    }
  }

  if (errors.length > 0) return { errors, warnings };

  // 5. The served apex NS RRset (ZoneSettings.nameservers / multiProvider).
  let apexNs: RRset;
  if (settings.nameservers.length > 0) {
    const rdatas: Uint8Array[] = [];
    const seen = new Set<string>();
    const add = (rdata: Uint8Array) => {
      const k = rdataDedupKey(RRType.NS, rdata);
      if (!seen.has(k)) { seen.add(k); rdatas.push(rdata); }
    };
    for (const ns of settings.nameservers) add(ns.wire());
    if (settings.multiProvider && dataNs) for (const r of dataNs.rdatas) add(r);
    apexNs = { name: origin, type: RRType.NS, class: RRClass.IN, ttl: settings.nsTtl, rdatas };
  } else {
    apexNs = { name: apex.name, type: RRType.NS, class: RRClass.IN, ttl: dataNs!.ttl, rdatas: dataNs!.rdatas };
  }

  // 6. Nodes, including every empty non-terminal between the apex and each owner.
  const nodes = new Map<string, ZoneNode>();
  const node = (name: Name): ZoneNode => {
    let nd = nodes.get(name.key);
    if (!nd) { nd = { name, rrsets: new Map(), children: 0 }; nodes.set(name.key, nd); }
    return nd;
  };
  for (const b of owners.values()) {
    const nd = node(b.name);
    for (const set of b.sets.values()) {
      const rrset: RRset = { name: b.name, type: set.type, class: RRClass.IN, ttl: set.ttl, rdatas: set.rdatas };
      nd.rrsets.set(set.type, rrset);
    }
    for (let i = b.name.labelCount - 1; i >= origin.labelCount; i--) node(b.name.suffix(i));
  }
  node(origin).rrsets.set(RRType.NS, apexNs);
  for (const nd of nodes.values()) {
    if (nd.name.labelCount > origin.labelCount) nodes.get(nd.name.parent().key)!.children++;
  }
  for (const nd of nodes.values()) {
    for (const set of nd.rrsets.values()) { Object.freeze(set.rdatas); Object.freeze(set); }
    Object.freeze(nd);
  }

  const soa = nodes.get(apexKey)!.rrsets.get(RRType.SOA)!;
  const zone: Zone = Object.freeze({
    origin,
    source: input.source,
    settings: Object.freeze({ ...settings }),
    soa,
    negativeSoa: negativeSoa(soa),
    apexNs,
    nodes,
    recordCount: input.records.length,
  });
  return { errors, warnings, zone };
}
