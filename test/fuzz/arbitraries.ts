// Input generators shared by the fuzz targets: names, RDATA of every type tandem has a layout for (built field by
// field, so most of it is valid and the round trips get exercised, some of it not), records, whole messages,
// and byte-level mutations of any of them (what a fuzzer does to a seed corpus).
import fc from 'fast-check';
import { Name } from '../../src/dns/name.js';
import { encodeTypeBitmap } from '../../src/dns/rdata.js';
import type { Rr } from '../../src/dns/rr.js';
import { RRClass, RRType as T } from '../../src/dns/types.js';

const utf8 = new TextEncoder();

// ---- bytes ----------------------------------------------------------------------------------------------------

const u8 = (v: number) => Uint8Array.of(v & 0xff);
const u16 = (v: number) => Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
const u32 = (v: number) => Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** One edit of a byte string: what a mutation fuzzer does to its seeds. */
type Mutation = { op: 'set' | 'insert' | 'delete' | 'truncate' | 'swap16'; at: number; value: number };

export const edit: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('set', 'set', 'set', 'insert', 'delete', 'truncate', 'swap16'),
  at: fc.nat(),
  value: fc.oneof(fc.nat(255), fc.constantFrom(0, 0xc0, 0xff, 63, 64, 0x80, 0x3f)),
});

export function mutate(base: Uint8Array, edits: Mutation[]): Uint8Array {
  let b: Uint8Array = base.slice();
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    switch (e.op) {
      case 'set': if (at < b.length) b[at] = e.value; break;
      case 'insert': b = concat([b.subarray(0, at), u8(e.value), b.subarray(at)]); break;
      case 'delete': if (at < b.length) b = concat([b.subarray(0, at), b.subarray(at + 1)]); break;
      case 'truncate': b = b.slice(0, at); break;
      case 'swap16': if (at + 1 < b.length) { b[at] = e.value; b[at + 1] = (e.value * 7) & 0xff; } break;
    }
  }
  return b;
}

/** `base`, most of the time with a few byte edits. */
export function mutated(base: fc.Arbitrary<Uint8Array>, maxEdits = 6): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(edit, { maxLength: maxEdits })).map(([b, edits]) => mutate(b, edits));
}

// ---- names ----------------------------------------------------------------------------------------------------

const hostLabel = fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/).map((s) => utf8.encode(s));
export const label: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: hostLabel },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 63 }) },
  { weight: 1, arbitrary: fc.constantFrom(utf8.encode('*'), Uint8Array.of(0), utf8.encode('a.b'), utf8.encode('\\'), utf8.encode('xn--bcher-kva'), new Uint8Array(63).fill(0x41)) },
);

/** Labels of a valid name (at most 255 octets in wire form: labels past that are dropped). */
export function fitLabels(labels: Uint8Array[], room = 255): Uint8Array[] {
  const out: Uint8Array[] = [];
  let wire = 1;
  for (const l of labels) {
    if (wire + l.length + 1 > room) break;
    out.push(l);
    wire += l.length + 1;
  }
  return out;
}

export const name: fc.Arbitrary<Name> = fc.array(label, { maxLength: 8 }).map((ls) => Name.fromLabels(fitLabels(ls)));

export const ZONE = Name.fromText('example.com.');

/** A name at or below `zone` (mostly), or anywhere. */
export function nameIn(zone: Name): fc.Arbitrary<Name> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.array(label, { maxLength: 3 }).map((ls) => Name.fromLabels([...fitLabels(ls, 255 - zone.wireLength + 1), ...zone.labels])) },
    { weight: 1, arbitrary: name },
  );
}

/** Presentation text that is sometimes a name: escapes, dots, '@', spaces and non-ASCII mixed in. */
export const nameText: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.constantFrom('a', 'B', '0', '-', '_', '*', '.', '\\', '\\0', '\\1', '\\255', '\\256', '\\.', '\\\\', '@', ' ', 'é', '"', '(', ';', '\t', 'xn--'), { maxLength: 40 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 300 }),
  name.map((n) => n.toString()),
);

// ---- RDATA ----------------------------------------------------------------------------------------------------

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const charString = bytes(0, 255).map((b) => concat([u8(b.length), b]));
const nameWire = name.map((n) => n.wire());
const int16 = fc.nat(0xffff).map(u16);
const int32 = fc.nat(0xffffffff).map(u32);
const int8 = fc.nat(255).map(u8);
const typeList = fc.uniqueArray(fc.oneof(fc.constantFrom(1, 2, 5, 6, 15, 16, 28, 46, 47, 48, 50, 65, 257), fc.nat(0xffff)), { maxLength: 12 });
const bitmap = typeList.map((ts) => encodeTypeBitmap(ts));
const alnum = fc.stringMatching(/^[a-z0-9]{1,15}$/).map((s) => utf8.encode(s));

/** SvcParams (RFC 9460 §2.2): keys strictly increasing, known keys with values of their own format. */
const svcParam: fc.Arbitrary<[number, Uint8Array]> = fc.oneof(
  fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 3 }).map((ids) => [1, concat(ids.map((s) => concat([u8(s.length), utf8.encode(s)])))] as [number, Uint8Array]),
  fc.constant([2, new Uint8Array(0)] as [number, Uint8Array]),
  fc.nat(0xffff).map((p) => [3, u16(p)] as [number, Uint8Array]),
  bytes(1, 3).map((n) => [4, bytes4(n.length)] as [number, Uint8Array]),
  bytes(1, 40).map((b) => [5, b] as [number, Uint8Array]),
  fc.nat(2).map((n) => [6, new Uint8Array(16 * (n + 1)).fill(0x20)] as [number, Uint8Array]),
  fc.stringMatching(/^\/[a-z]{0,8}\{\?dns\}$/).map((s) => [7, utf8.encode(s)] as [number, Uint8Array]),
  fc.tuple(fc.integer({ min: 9, max: 65534 }), bytes(0, 20)).map(([k, v]) => [k, v] as [number, Uint8Array]),
);
function bytes4(n: number): Uint8Array {
  return new Uint8Array(4 * n).fill(10);
}
const svcParams = fc.uniqueArray(svcParam, { selector: (p) => p[0], maxLength: 5 })
  .map((ps) => concat(ps.sort((a, b) => a[0] - b[0]).map(([k, v]) => concat([u16(k), u16(v.length), v]))));

const DIGEST = [[1, 20], [2, 32], [4, 48]] as const;
const dsRdata = fc.tuple(int16, int8, fc.oneof(fc.constantFrom(...DIGEST), fc.tuple(fc.nat(255), fc.nat(64))))
  .chain(([tag, alg, [dt, len]]) => bytes(len, len).map((d) => concat([tag, alg, u8(dt), d])));

/** A6 (RFC 2874 §3.1.1): prefix length, the address suffix, the prefix name when the length is not 0. */
const a6 = fc.integer({ min: 0, max: 128 }).chain((plen) => fc.tuple(bytes(16 - Math.floor(plen / 8), 16 - Math.floor(plen / 8)), nameWire)
  .map(([suffix, n]) => concat([u8(plen), suffix, plen > 0 ? n : new Uint8Array(0)])));

const seq = (...parts: fc.Arbitrary<Uint8Array>[]) => fc.tuple(...parts).map((ps) => concat(ps));

/** Wire RDATA generators for every type rdata/schemas.ts lays out (fuzz.test.ts checks none is missing). */
export const RDATA: ReadonlyMap<number, fc.Arbitrary<Uint8Array>> = new Map<number, fc.Arbitrary<Uint8Array>>([
  [T.A, bytes(4, 4)],
  ...[T.NS, T.MD, T.MF, T.CNAME, T.MB, T.MG, T.MR, T.PTR, T.DNAME].map((t) => [t, nameWire] as const),
  [T.SOA, seq(nameWire, nameWire, int32, int32, int32, int32, int32)],
  [T.HINFO, seq(charString, charString)],
  [T.MINFO, seq(nameWire, nameWire)],
  ...[T.MX, T.RT, T.KX, T.AFSDB].map((t) => [t, seq(int16, nameWire)] as const),
  ...[T.TXT, T.SPF].map((t) => [t, fc.array(charString, { minLength: 1, maxLength: 4 }).map(concat)] as const),
  [T.RP, seq(nameWire, nameWire)],
  [T.PX, seq(int16, nameWire, nameWire)],
  [T.AAAA, bytes(16, 16)],
  [T.SRV, seq(int16, int16, int16, nameWire)],
  [T.NAPTR, seq(int16, int16, charString, charString, charString, nameWire)],
  [T.NXT, seq(nameWire, bytes(0, 16))],
  [T.A6, a6],
  ...[T.DS, T.CDS].map((t) => [t, dsRdata] as const),
  [T.SSHFP, seq(int8, int8, bytes(0, 32))],
  ...[T.RRSIG, T.SIG].map((t) => [t, seq(int16, int8, int8, int32, int32, int32, int16, nameWire, bytes(1, 64))] as const),
  [T.NSEC, seq(nameWire, bitmap)],
  ...[T.DNSKEY, T.CDNSKEY].map((t) => [t, seq(int16, fc.constantFrom(u8(3), u8(3), u8(0)), int8, bytes(1, 64))] as const),
  [T.DHCID, bytes(1, 40)],
  [T.NSEC3, seq(int8, int8, int16, bytes(0, 16).map((s) => concat([u8(s.length), s])), bytes(1, 32).map((h) => concat([u8(h.length), h])), bitmap)],
  [T.NSEC3PARAM, seq(int8, int8, int16, bytes(0, 16).map((s) => concat([u8(s.length), s])))],
  ...[T.TLSA, T.SMIMEA].map((t) => [t, seq(int8, int8, int8, bytes(0, 64))] as const),
  [T.OPENPGPKEY, bytes(1, 64)],
  [T.CSYNC, seq(int32, int16, bitmap)],
  [T.ZONEMD, seq(int32, int8, int8, bytes(0, 64))],
  [T.DSYNC, seq(int16, int8, int16, nameWire)],
  ...[T.SVCB, T.HTTPS].map((t) => [t, seq(int16, nameWire, svcParams)] as const),
  [T.URI, seq(int16, int16, bytes(0, 80))],
  [T.CAA, seq(int8, alnum.map((b) => concat([u8(b.length), b])), bytes(0, 80))],
]);

/** Types without a layout: RFC 3597 opaque RDATA. */
const UNKNOWN_TYPES = fc.oneof(fc.integer({ min: 65280, max: 65534 }), fc.constantFrom(T.NULL, T.LOC, T.CERT, T.APL, T.IPSECKEY, T.HIP, 12345));

/** A type and RDATA: a generated layout, sometimes with a few byte edits (then often invalid), or opaque bytes. */
export const typedRdata: fc.Arbitrary<{ type: number; rdata: Uint8Array }> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...RDATA.keys()).chain((type) => RDATA.get(type)!.map((rdata) => ({ type, rdata }))) },
  { weight: 2, arbitrary: fc.constantFrom(...RDATA.keys()).chain((type) => mutated(RDATA.get(type)!, 3).map((rdata) => ({ type, rdata }))) },
  { weight: 1, arbitrary: fc.tuple(UNKNOWN_TYPES, bytes(0, 40)).map(([type, rdata]) => ({ type, rdata })) },
);

/** A record whose RDATA is generated for its type (not necessarily valid, see typedRdata). */
export function record(owner: fc.Arbitrary<Name> = name): fc.Arbitrary<Rr> {
  return fc.tuple(owner, typedRdata, fc.nat(0x7fffffff)).map(([n, { type, rdata }, ttl]) => ({ name: n, type, class: RRClass.IN, ttl, rdata }));
}
