// Hand-built records for zone tests (independent of the RDATA codecs in dns/rdata.ts).
import { Name } from '../../../src/dns/name.js';
import type { Rr } from '../../../src/dns/rr.js';
import { RRClass, RRType } from '../../../src/dns/types.js';
import { buildZone, type ZoneInput } from '../../../src/zone/build.js';
import type { Zone, ZoneSettings } from '../../../src/zone/types.js';

export const ORIGIN = Name.fromText('example.com.');

export function n(text: string, origin: Name = ORIGIN): Name {
  return Name.fromText(text, origin);
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}
function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export function rr(owner: string, type: number, rdata: Uint8Array, ttl = 300, cls: number = RRClass.IN): Rr {
  return { name: n(owner), type, class: cls, ttl, rdata };
}

export const rd = {
  a: (ip: string) => Uint8Array.from(ip.split('.').map(Number)),
  aaaa: (last: number) => Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), last]),
  name: (target: string) => n(target).wire(),
  mx: (pref: number, target: string) => Uint8Array.from([...u16(pref), ...n(target).wire()]),
  srv: (prio: number, weight: number, port: number, target: string) =>
    Uint8Array.from([...u16(prio), ...u16(weight), ...u16(port), ...n(target).wire()]),
  soa: (minimum = 300, serial = 1) =>
    Uint8Array.from([...n('ns1').wire(), ...n('hostmaster').wire(), ...u32(serial), ...u32(7200), ...u32(3600), ...u32(1209600), ...u32(minimum)]),
  txt: (text: string) => Uint8Array.from([text.length, ...new TextEncoder().encode(text)]),
  ds: (tag: number) => Uint8Array.from([...u16(tag), 13, 2, ...new Array(32).fill(0xab)]),
};

export const A = (owner: string, ip: string, ttl?: number) => rr(owner, RRType.A, rd.a(ip), ttl);
export const AAAA = (owner: string, last: number, ttl?: number) => rr(owner, RRType.AAAA, rd.aaaa(last), ttl);
export const NS = (owner: string, target: string, ttl?: number) => rr(owner, RRType.NS, rd.name(target), ttl);
export const CNAME = (owner: string, target: string, ttl?: number) => rr(owner, RRType.CNAME, rd.name(target), ttl);
export const DNAME = (owner: string, target: string, ttl?: number) => rr(owner, RRType.DNAME, rd.name(target), ttl);
export const MX = (owner: string, pref: number, target: string, ttl?: number) => rr(owner, RRType.MX, rd.mx(pref, target), ttl);
export const SRV = (owner: string, target: string, ttl?: number) => rr(owner, RRType.SRV, rd.srv(0, 5, 443, target), ttl);
export const TXT = (owner: string, text: string, ttl?: number) => rr(owner, RRType.TXT, rd.txt(text), ttl);
export const DS = (owner: string, tag: number, ttl?: number) => rr(owner, RRType.DS, rd.ds(tag), ttl);
export const SOA = (opts: { ttl?: number; minimum?: number; owner?: string } = {}) =>
  rr(opts.owner ?? '@', RRType.SOA, rd.soa(opts.minimum), opts.ttl ?? 3600);

export function settings(over: Partial<ZoneSettings> = {}): ZoneSettings {
  return { dnssec: false, denial: 'compact', nameservers: [], nsTtl: 86400, multiProvider: false, ...over };
}

/** The minimal valid apex: SOA and two NS. */
export function apex(): Rr[] {
  return [SOA(), NS('@', 'ns1'), NS('@', 'ns2.example.net.')];
}

export function input(records: Rr[], over: Partial<ZoneInput> = {}): ZoneInput {
  return { origin: ORIGIN, source: 'test.yaml', settings: settings(), records, ...over };
}

/** A zone of the minimal apex plus `records`. */
export function zoneOf(records: Rr[], over: Partial<ZoneInput> = {}): Zone {
  return buildZone(input([...apex(), ...records], over));
}

/** Presentation of a name embedded in RDATA at `offset` (for assertions). */
export function rdataName(rdata: Uint8Array, offset = 0): string {
  return Name.read(rdata, offset).name.toString();
}
