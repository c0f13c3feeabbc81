// Records in uncompressed wire form, back to back (owner, type, class, TTL, RDLENGTH, RDATA): the format of
// IXFR journal entries and of a secondary zone's copy in the state folder. Compact, exact (no presentation
// round trip), and read without a parser.
import { Name } from '../dns/name.js';
import { keep } from '../dns/slab.js';
import type { Rr } from '../dns/rr.js';

export function recordsSize(rrs: Iterable<Rr>): number {
  let n = 0;
  for (const r of rrs) n += r.name.wireLength + 10 + r.rdata.length;
  return n;
}

/** Writes `rrs` into `buf` from `offset`; returns the offset after them. */
export function writeRecords(buf: Buffer, offset: number, rrs: Iterable<Rr>): number {
  let o = offset;
  for (const r of rrs) {
    r.name.writeInto(buf, o, false);
    o += r.name.wireLength;
    o = buf.writeUInt16BE(r.type, o);
    o = buf.writeUInt16BE(r.class, o);
    o = buf.writeUInt32BE(r.ttl >>> 0, o);
    o = buf.writeUInt16BE(r.rdata.length, o);
    buf.set(r.rdata, o);
    o += r.rdata.length;
  }
  return o;
}

/**
 * Reads `count` records from `input` at `offset`; throws on truncation. Names and RDATA are copies (RDATA
 * kept in slabs, as the zone parser's), never views of `input`: a file read is a Buffer, whose slice()
 * shares its memory, so the SOA of a secondary's copy shared it with every "copy" made of it.
 */
export function readRecords(input: Uint8Array, offset: number, count: number): { rrs: Rr[]; next: number } {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.length);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let o = offset;
  const rrs: Rr[] = [];
  for (let i = 0; i < count; i++) {
    const { name, next } = Name.read(bytes, o);
    o = next;
    if (o + 10 > buf.length) throw new RangeError('record runs past the end');
    const type = buf.readUInt16BE(o), cls = buf.readUInt16BE(o + 2), ttl = buf.readUInt32BE(o + 4), len = buf.readUInt16BE(o + 8);
    o += 10;
    if (o + len > buf.length) throw new RangeError('RDATA runs past the end');
    rrs.push({ name, type, class: cls, ttl, rdata: keep(bytes.subarray(o, o + len)) });
    o += len;
  }
  return { rrs, next: o };
}
