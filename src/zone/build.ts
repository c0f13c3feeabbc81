// Builds the immutable in-memory zone from parsed records: validates the data against the rules a
// zone must keep (RFC 1034, RFC 1035 §5.2, RFC 2181, RFC 4035 §2.4, RFC 4592 §4, RFC 6672 §2.4),
// groups records into RRsets, creates empty non-terminal nodes and fixes the served apex NS RRset.
import { Name, parentKey } from '../dns/name.js';
import type { Rr, RRset } from '../dns/rr.js';
import { RRClass, RRType, isMetaType, typeName } from '../dns/types.js';
import type { RRsetsByType, Zone, ZoneNode, ZoneSettings } from './types.js';
import { negativeSoa } from '../dns/soa.js';
import { indexPresigned, nsec3OwnerHash } from './presigned.js';

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
  /**
   * The records are pre-signed and served as given (issue 11): RRSIG and NSEC3 records are indexed beside the
   * tree (Zone.presigned, zone/presigned.ts) instead of becoming RRsets of nodes, and NSEC may sit at a cut.
   */
  presigned?: boolean;
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

/**
 * Things kept by type in an array: a node has a handful of RRsets, and a Map per node would cost about
 * 190 bytes more, which a zone of a million names cannot afford (issue 6). Insertion order, like a Map.
 */
export class TypeTable<T extends { type: number }> {
  constructor(private items: T[] = []) {}

  get size(): number {
    return this.items.length;
  }

  get(type: number): T | undefined {
    for (const x of this.items) if (x.type === type) return x;
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  /** Adds or replaces (keeping the position, as Map.set does) the entry of item.type. */
  set(item: T): void {
    const i = this.items.findIndex((x) => x.type === item.type);
    if (i >= 0) this.items[i] = item;
    else if (this.items.length === 0) this.items = [item]; // exact size: push would reserve 17 slots
    else this.items.push(item);
  }

  /** Removes the entry of `type` (a patch, zone/patch.ts; the array stays exact-size). */
  delete(type: number): void {
    this.items = this.items.filter((x) => x.type !== type);
  }

  keys(): number[] {
    return this.items.map((x) => x.type);
  }

  /** Drops the spare capacity that push leaves (a zone keeps a million of these; most hold one RRset and need none). */
  trim(): void {
    if (this.items.length > 1) this.items = this.items.slice();
  }

  values(): readonly T[] {
    return this.items;
  }
}

/**
 * A node while the zone is built: the same object becomes the ZoneNode, and its RRsets the zone's RRsets,
 * so building a large zone leaves no garbage between the objects it keeps (issue 6: memory).
 */
interface Builder {
  name: Name;
  rrsets: TypeTable<RRset>;
  children: number;
}

/** What an RRset of two or more records needs while it is gathered. */
interface Gathering {
  /** rdataDedupKey of each record. */
  keys: Set<string>;
  /** Every TTL seen, when they differ (RFC 2181 §5.2 warning). */
  ttls?: number[];
}

/**
 * The rules of one owner's RRsets among themselves (RFC 1034 §3.6.2, RFC 2181 §10.1, RFC 6672 §2.4, RFC 1035
 * §5.2, RFC 4035 §2.4, RFC 4592 §4): what a whole build checks per owner, and what a patch (patch.ts) checks for
 * the owners it changes.
 */
export function checkOwner(b: { name: Name; rrsets: RRsetsByType }, origin: Name, fail: (owner: Name, type: number, reason: string) => void): void {
  const atApex = b.name.equals(origin);
  const types = [...b.rrsets.keys()];
  const cname = b.rrsets.get(RRType.CNAME);
  if (cname) {
    if (atApex) fail(b.name, RRType.CNAME, `CNAME at the zone apex (RFC 1034 §3.6.2)`);
    if (cname.rdatas.length > 1) fail(b.name, RRType.CNAME, `more than one CNAME record at a name (RFC 2181 §10.1)`);
    // RFC 2181 §10.1 with RFC 4035 §2.5: only DNSSEC records may share the owner of a CNAME.
    const others = types.filter((t) => t !== RRType.CNAME && t !== RRType.RRSIG && t !== RRType.NSEC);
    if (others.length > 0) fail(b.name, RRType.CNAME, `CNAME beside ${others.map(typeName).join(', ')} (RFC 1034 §3.6.2; RFC 2181 §10.1)`);
  }
  const dname = b.rrsets.get(RRType.DNAME);
  if (dname) {
    if (atApex) fail(b.name, RRType.DNAME, `DNAME at the zone apex is not supported (RFC 6672 §2.3 allows it; tandem does not)`);
    if (dname.rdatas.length > 1) fail(b.name, RRType.DNAME, `more than one DNAME record at a name (RFC 6672 §2.4)`);
  }
  const soa = b.rrsets.get(RRType.SOA);
  if (soa && !atApex) fail(b.name, RRType.SOA, `SOA below the zone apex (RFC 1035 §5.2)`);
  if (soa && atApex && soa.rdatas.length > 1) fail(b.name, RRType.SOA, `more than one SOA record (RFC 1035 §5.2; RFC 2181 §6.1)`);
  if (b.rrsets.has(RRType.DS)) {
    if (atApex) fail(b.name, RRType.DS, `DS at the zone apex belongs in the parent zone (RFC 4035 §2.4)`);
    else if (!b.rrsets.has(RRType.NS)) fail(b.name, RRType.DS, `DS only at a delegation point, with NS (RFC 4035 §2.4)`);
  }
  if (b.name.isWildcard()) {
    if (b.rrsets.has(RRType.NS)) fail(b.name, RRType.NS, `NS at a wildcard owner (RFC 4592 §4.2)`);
    if (b.rrsets.has(RRType.DS)) fail(b.name, RRType.DS, `DS at a wildcard owner (RFC 4592 §4.6)`);
  }
}

function analyse(input: ZoneInput): { errors: ZoneDataError[]; warnings: string[]; zone?: Zone } {
  const { origin, settings } = input;
  const errors: ZoneDataError[] = [];
  const warnings: string[] = [];
  const rel = (n: Name) => n.relativeTo(origin);
  const fail = (owner: Name, type: number, reason: string) => errors.push(new ZoneDataError(rel(owner), typeName(type), reason));

  // 1. Per-record checks and grouping into RRsets (a pre-signed zone's RRSIG and NSEC3 records aside).
  const owners = new Map<string, Builder>();
  const gathering = new Map<RRset, Gathering>();
  const rrsigs: Rr[] = [];
  const nsec3s: Rr[] = [];
  for (const rr of input.records) {
    if (rr.class !== RRClass.IN) { fail(rr.name, rr.type, `class ${rr.class} is not IN; only IN data is served (RFC 1035 §3.2.4)`); continue; }
    if (!rr.name.isSubdomainOf(origin)) { fail(rr.name, rr.type, `owner is outside the zone ${origin} (RFC 1034 §4.2)`); continue; }
    if (!Number.isInteger(rr.ttl) || rr.ttl < 0 || rr.ttl > MAX_TTL) { fail(rr.name, rr.type, `TTL ${rr.ttl} outside 0..${MAX_TTL} (RFC 2181 §8)`); continue; }
    if (isMetaType(rr.type)) { fail(rr.name, rr.type, `meta type cannot be stored in a zone (RFC 6895 §3.1)`); continue; }
    if (input.presigned && rr.type === RRType.RRSIG) { rrsigs.push(rr); continue; }
    if (input.presigned && rr.type === RRType.NSEC3) {
      if (!nsec3OwnerHash(rr.name, origin)) fail(rr.name, rr.type, `an NSEC3 owner is one base32hex label (the hash) directly below the apex (RFC 5155 §3)`);
      else nsec3s.push(rr);
      continue;
    }
    let b = owners.get(rr.name.key);
    if (!b) { b = { name: rr.name, rrsets: new TypeTable(), children: 0 }; owners.set(rr.name.key, b); }
    const set = b.rrsets.get(rr.type);
    if (!set) { b.rrsets.set({ name: b.name, type: rr.type, class: RRClass.IN, ttl: rr.ttl, rdatas: [rr.rdata] }); continue; }
    let g = gathering.get(set);
    if (!g) { g = { keys: new Set(set.rdatas.map((r) => rdataDedupKey(set.type, r))) }; gathering.set(set, g); }
    const key = rdataDedupKey(rr.type, rr.rdata);
    if (g.keys.has(key)) { fail(rr.name, rr.type, `duplicate record (RFC 2181 §5)`); continue; }
    g.keys.add(key);
    set.rdatas.push(rr.rdata);
    if (rr.ttl !== set.ttl || g.ttls) {
      g.ttls ??= [set.ttl];
      if (!g.ttls.includes(rr.ttl)) g.ttls.push(rr.ttl);
      set.ttl = Math.min(set.ttl, rr.ttl);
    }
  }
  for (const [set, g] of gathering) {
    if (g.ttls && g.ttls.length > 1) {
      warnings.push(`${rel(set.name)} ${typeName(set.type)}: records of one RRset have different TTLs (${[...g.ttls].sort((x, y) => x - y).join(', ')}); using ${set.ttl} (RFC 2181 §5.2)`);
    }
  }

  // 2. Server-provided apex RRsets replace data of the same type.
  const apexKey = origin.key;
  if (!owners.has(apexKey)) owners.set(apexKey, { name: origin, rrsets: new TypeTable(), children: 0 });
  const apex = owners.get(apexKey)!;
  for (const set of input.apexRrsets ?? []) {
    if (!set.name.equals(origin)) { fail(set.name, set.type, `server-provided RRset must be at the apex`); continue; }
    apex.rrsets.set({ name: apex.name, type: set.type, class: RRClass.IN, ttl: set.ttl, rdatas: [...set.rdatas] });
  }

  // 3. Per-owner rules.
  const cuts: Name[] = []; // delegation points (NS below the apex)
  const dnames: Name[] = [];
  for (const b of owners.values()) {
    checkOwner(b, origin, fail);
    if (b.rrsets.has(RRType.DNAME)) dnames.push(b.name);
    if (!b.name.equals(origin) && b.rrsets.has(RRType.NS)) cuts.push(b.name);
  }
  if (!apex.rrsets.has(RRType.SOA)) fail(origin, RRType.SOA, `missing SOA at the zone apex (RFC 1035 §5.2)`);
  const dataNs = apex.rrsets.get(RRType.NS);
  if (!dataNs && settings.nameservers.length === 0) {
    fail(origin, RRType.NS, `no apex NS records and no nameservers in the zone settings (RFC 1035 §5.2)`);
  }

  // 4. Occlusion: below a zone cut only glue (A/AAAA) may exist; at the cut only NS, DS and glue
  //    (RFC 1034 §4.2.1); nothing may exist below a DNAME (RFC 6672 §2.4).
  const cutKeys = new Set(cuts.map((c) => c.key));
  const dnameKeys = new Set(dnames.map((d) => d.key));
  if (cutKeys.size + dnameKeys.size > 0) {
    for (const b of owners.values()) {
      const n = b.name;
      // Ancestor keys from the owner up to (not including) the apex, walked top-down so the highest cut wins.
      const up: string[] = [];
      for (let k = n.key; k !== origin.key; k = parentKey(k)) up.push(k);
      for (let j = up.length - 1; j >= 0; j--) {
        const isSelf = j === 0;
        if (cutKeys.has(up[j])) {
          const anc = rel(n.suffix(n.labelCount - j));
          // RFC 4035 §2.3: the NSEC at a cut is the parent's (a pre-signed zone has one there).
          const allowed: number[] = isSelf ? [RRType.NS, RRType.DS, RRType.NSEC, RRType.A, RRType.AAAA] : [RRType.A, RRType.AAAA];
          for (const t of b.rrsets.keys()) {
            if (!allowed.includes(t)) {
              fail(n, t, isSelf
                ? `occluded: data at the delegation point ${anc} other than NS, DS, NSEC and glue (RFC 1034 §4.2.1)`
                : `occluded: below the delegation point ${anc} only glue (A/AAAA) may exist (RFC 1034 §4.2.1)`);
            }
          }
          break;
        }
        if (!isSelf && dnameKeys.has(up[j])) {
          for (const t of b.rrsets.keys()) fail(n, t, `occluded: data below the DNAME at ${rel(n.suffix(n.labelCount - j))} (RFC 6672 §2.4)`);
          break;
        }
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

  // 6. Nodes, including every empty non-terminal between the apex and each owner. The builders become the
  //    nodes in place. Every node's ancestors are made with it, so the walk up from an owner stops at the
  //    first node that exists.
  const frozenSet = (set: RRset): RRset => {
    if (set.rdatas.length > 1) set.rdatas = set.rdatas.slice(); // no spare capacity from push
    Object.freeze(set.rdatas);
    return Object.freeze(set);
  };
  const nodes: Map<string, Builder> = owners;
  for (const nd of nodes.values()) {
    if (nd.name.key === apexKey) continue;
    for (let k = parentKey(nd.name.key), up = 1; !nodes.has(k); k = parentKey(k), up++) {
      nodes.set(k, { name: nd.name.suffix(nd.name.labelCount - up), rrsets: new TypeTable(), children: 0 });
    }
  }
  nodes.get(apexKey)!.rrsets.set(apexNs);
  for (const nd of nodes.values()) if (nd.name.key !== apexKey) nodes.get(parentKey(nd.name.key))!.children++;
  for (const nd of nodes.values()) {
    for (const set of nd.rrsets.values()) frozenSet(set);
    nd.rrsets.trim();
    Object.freeze(nd);
  }

  const soa = nodes.get(apexKey)!.rrsets.get(RRType.SOA)!;
  const zone: Zone = {
    origin,
    source: input.source,
    settings: Object.freeze({ ...settings }),
    soa,
    negativeSoa: negativeSoa(soa),
    apexNs,
    nodes,
    recordCount: input.records.length,
  };
  if (input.presigned) {
    const indexed = indexPresigned(origin, nodes, rrsigs, nsec3s);
    zone.presigned = indexed.data;
    warnings.push(...indexed.warnings);
  }
  return { errors, warnings, zone: Object.freeze(zone) };
}
