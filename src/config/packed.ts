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
  mtimeSerial?: boolean;
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
  includes?: string[];
  /** locations.files (owners in a master file's $INCLUDEd files). */
  ownerFiles?: [string, string][];
  soaLine?: number;
  nameserversLine?: number;
}

/**
 * Packs records as they come (ParseOptions.onRecord), so the parser thread never holds a million record
 * objects; `finish` adds the rest of the LoadedZone.
 */
export class ZonePacker {
  private owners: string[] = [];
  private last: Name | undefined;
  private recOwner: number[] = [];
  private recType: number[] = [];
  private recClass: number[] = [];
  private recTtl: number[] = [];
  private rdataEnds: number[] = [];
  private rdata = new Uint8Array(1 << 16);
  private used = 0;

  add(rr: Rr, origin: Name): void {
    if (rr.name !== this.last) { this.owners.push(rr.name.relativeTo(origin)); this.last = rr.name; }
    this.recOwner.push(this.owners.length - 1);
    this.recType.push(rr.type);
    this.recClass.push(rr.class);
    this.recTtl.push(rr.ttl);
    if (this.used + rr.rdata.length > this.rdata.length) {
      const bigger = new Uint8Array(Math.max(this.rdata.length * 2, this.used + rr.rdata.length));
      bigger.set(this.rdata.subarray(0, this.used));
      this.rdata = bigger;
    }
    this.rdata.set(rr.rdata, this.used);
    this.used += rr.rdata.length;
    this.rdataEnds.push(this.used);
  }

  /** The packed zone: these records plus everything else `z` says (z.input.records is not read). */
  finish(z: LoadedZone): PackedZone {
    const loc = z.locations;
    return {
      file: z.file, defaultTtl: z.defaultTtl, config: z.config, warnings: z.warnings, mtimeSerial: z.mtimeSerial, source: z.input.source, includes: z.includes,
      origin: z.input.origin.toString(),
      settings: { ...z.input.settings, nameservers: z.input.settings.nameservers.map((x) => x.toString()) },
      owners: this.owners.join('\n'),
      recOwner: Uint32Array.from(this.recOwner), recType: Uint16Array.from(this.recType), recClass: Uint16Array.from(this.recClass),
      recTtl: Uint32Array.from(this.recTtl), rdata: this.rdata.slice(0, this.used), rdataEnds: Uint32Array.from(this.rdataEnds),
      ownerKeys: [...loc.owners.keys()].join('\n'), ownerKeyLines: Uint32Array.from(loc.owners.values()),
      recordLines: [...loc.records], soaLine: loc.soa, nameserversLine: loc.nameservers,
      ownerFiles: loc.files && [...loc.files],
    };
  }
}

/** Packs a parsed zone (see ZonePacker for packing while parsing). */
export function packLoadedZone(z: LoadedZone): PackedZone {
  const packer = new ZonePacker();
  for (const rr of z.input.records) packer.add(rr, z.input.origin);
  return packer.finish(z);
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
    file: p.file, defaultTtl: p.defaultTtl, config: p.config, warnings: p.warnings, includes: p.includes, ...(p.mtimeSerial ? { mtimeSerial: true } : {}),
    input: { origin, source: p.source, settings, records },
    locations: { owners: new Map(keys.map((k, i) => [k, p.ownerKeyLines[i]])), records: new Map(p.recordLines), soa: p.soaLine, nameservers: p.nameserversLine,
      files: p.ownerFiles && new Map(p.ownerFiles) },
  };
}
