// A parsed zone file in a form that crosses a thread boundary cheaply (parse-worker.ts): the records as
// a few typed arrays and one string of owner names, instead of a million objects to clone. Names are
// rebuilt with Name.fromText relative to the origin, so every owner shares the origin's labels again.
import { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import type { ZoneSettings } from '../zone/types.js';
import type { LoadedZone } from './zonefile.js';
import type { ZoneConfig } from './zone-settings.js';

export interface PackedZone {
  file: string;
  defaultTtl: number;
  config: ZoneConfig;
  warnings: string[];
  source: string;
  origin: string;
  settings: Omit<ZoneSettings, 'nameservers'> & { nameservers: string[] };
  /** Owner names relative to the origin, one per line (presentation form escapes every octet <= 0x20). */
  owners: string;
  recOwner: Uint32Array;
  recType: Uint16Array;
  recClass: Uint16Array;
  recTtl: Uint32Array;
  /** Every record's RDATA back to back; record i ends at rdataEnds[i]. */
  rdata: Uint8Array;
  rdataEnds: Uint32Array;
  /** locations.owners: keys one per line, and their lines. */
  ownerKeys: string;
  ownerKeyLines: Uint32Array;
  recordLines: [string, number][];
  soaLine?: number;
  nameserversLine?: number;
}

export function packLoadedZone(z: LoadedZone): PackedZone {
  const { origin, records } = z.input;
  const n = records.length;
  const owners: string[] = [];
  const recOwner = new Uint32Array(n);
  const recType = new Uint16Array(n);
  const recClass = new Uint16Array(n);
  const recTtl = new Uint32Array(n);
  const rdataEnds = new Uint32Array(n);
  let bytes = 0;
  for (const rr of records) bytes += rr.rdata.length;
  const rdata = new Uint8Array(bytes);
  let last: Name | undefined;
  for (let i = 0, o = 0; i < n; i++) {
    const rr = records[i];
    if (rr.name !== last) { owners.push(rr.name.relativeTo(origin)); last = rr.name; }
    recOwner[i] = owners.length - 1;
    recType[i] = rr.type;
    recClass[i] = rr.class;
    recTtl[i] = rr.ttl;
    rdata.set(rr.rdata, o);
    o += rr.rdata.length;
    rdataEnds[i] = o;
  }
  const loc = z.locations;
  return {
    file: z.file, defaultTtl: z.defaultTtl, config: z.config, warnings: z.warnings, source: z.input.source,
    origin: origin.toString(),
    settings: { ...z.input.settings, nameservers: z.input.settings.nameservers.map((x) => x.toString()) },
    owners: owners.join('\n'), recOwner, recType, recClass, recTtl, rdata, rdataEnds,
    ownerKeys: [...loc.owners.keys()].join('\n'), ownerKeyLines: Uint32Array.from(loc.owners.values()),
    recordLines: [...loc.records], soaLine: loc.soa, nameserversLine: loc.nameservers,
  };
}

/** The typed arrays of a PackedZone, for postMessage's transfer list. */
export function transferables(p: PackedZone): ArrayBuffer[] {
  return [p.recOwner, p.recType, p.recClass, p.recTtl, p.rdata, p.rdataEnds, p.ownerKeyLines].map((a) => a.buffer as ArrayBuffer);
}

export function unpackLoadedZone(p: PackedZone): LoadedZone {
  const origin = Name.fromText(p.origin);
  const names = p.owners === '' ? [] : p.owners.split('\n').map((t) => Name.fromText(t, origin));
  const n = p.recType.length;
  const records: Rr[] = new Array<Rr>(n);
  for (let i = 0, from = 0; i < n; i++) {
    // Views into the one transferred buffer: the RDATA is zone data and lives as long as the zone.
    records[i] = { name: names[p.recOwner[i]], type: p.recType[i], class: p.recClass[i], ttl: p.recTtl[i], rdata: p.rdata.subarray(from, p.rdataEnds[i]) };
    from = p.rdataEnds[i];
  }
  const keys = p.ownerKeys === '' ? [] : p.ownerKeys.split('\n');
  const settings: ZoneSettings = { ...p.settings, nameservers: p.settings.nameservers.map((t) => Name.fromText(t)) };
  return {
    file: p.file, defaultTtl: p.defaultTtl, config: p.config, warnings: p.warnings,
    input: { origin, source: p.source, settings, records },
    locations: { owners: new Map(keys.map((k, i) => [k, p.ownerKeyLines[i]])), records: new Map(p.recordLines), soa: p.soaLine, nameservers: p.nameserversLine },
  };
}
