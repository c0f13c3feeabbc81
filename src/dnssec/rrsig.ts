// RRSIG RDATA (RFC 4034 §3.1) and the signed data of RFC 4034 §3.1.8.1, made in this one place for both
// signing and verification (STYLE habit 4).
import { Name } from '../dns/name.js';
import type { RRset } from '../dns/rr.js';
import { canonicalRdata, compareRdata } from '../dns/rdata.js';

export class RrsigError extends Error {}

/** Every RRSIG RDATA field but the signature (RFC 4034 §3.1). Times are seconds since the epoch. */
export interface RrsigFields {
  typeCovered: number;
  algorithm: number;
  /** RFC 4034 §3.1.3: labels of the (unexpanded) owner, not counting the root or a leading `*`. */
  labels: number;
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signerName: Name;
}

const TWO32 = 0x1_0000_0000;

/** RFC 4034 §3.1.5: times are 32-bit, seconds since 1970 modulo 2^32. */
export function toSerialTime(t: number): number {
  return ((t % TWO32) + TWO32) % TWO32;
}

/** RFC 1982 serial number arithmetic on 32-bit times: negative when a is before b, 0 when equal. */
export function compareSerialTime(a: number, b: number): number {
  const d = (toSerialTime(a) - toSerialTime(b) + TWO32) % TWO32;
  if (d === 0) return 0;
  return d < 0x8000_0000 ? 1 : -1;
}

/** The epoch time nearest `now` whose 32-bit form is `serial` (RFC 4034 §3.1.5 beyond 2106). */
export function fromSerialTime(serial: number, now: number): number {
  const base = now - toSerialTime(now) + toSerialTime(serial);
  const candidates = [base - TWO32, base, base + TWO32];
  return candidates.reduce((best, c) => (Math.abs(c - now) < Math.abs(best - now) ? c : best));
}

const HEADER = 18;

function put16(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 8;
  buf[o + 1] = v & 0xff;
}

function put32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = (v >>> 16) & 0xff;
  buf[o + 2] = (v >>> 8) & 0xff;
  buf[o + 3] = v & 0xff;
}

function writeHeader(buf: Uint8Array, f: RrsigFields): number {
  put16(buf, 0, f.typeCovered);
  buf[2] = f.algorithm;
  buf[3] = f.labels;
  put32(buf, 4, f.originalTtl);
  put32(buf, 8, toSerialTime(f.expiration));
  put32(buf, 12, toSerialTime(f.inception));
  put16(buf, 16, f.keyTag);
  f.signerName.writeInto(buf, HEADER, true); // RFC 4034 §3.1.7, §6.2: uncompressed, lower case
  return HEADER + f.signerName.wireLength;
}

const ok = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;

function checkFields(f: RrsigFields): void {
  if (!ok(f.typeCovered, 0xffff) || !ok(f.algorithm, 0xff) || !ok(f.labels, 0xff) || !ok(f.originalTtl, 0xffff_ffff) || !ok(f.keyTag, 0xffff))
    throw new RrsigError('RRSIG field out of range');
}

/**
 * The owner the signature covers: the RRset's owner, or for an RRset synthesized from a wildcard (labels
 * below the owner's count) the wildcard `*.<rightmost labels>` (RFC 4034 §3.1.8.1, RFC 4035 §5.3.2).
 */
export function signedOwner(owner: Name, labels: number): Name {
  const n = owner.rrsigLabels;
  if (labels === n) return owner;
  if (labels > n) throw new RrsigError(`RRSIG labels ${labels} exceed the ${n} labels of ${owner.key} (RFC 4035 §5.3.1)`);
  return owner.suffix(labels).child('*');
}

/** The RDATAs in canonical form (RFC 4034 §6.2), sorted (§6.3), duplicates removed. */
function canonicalSet(type: number, rdatas: readonly Uint8Array[]): readonly Uint8Array[] {
  if (rdatas.length === 1) return [canonicalRdata(type, rdatas[0])];
  const sorted = rdatas.map((r) => canonicalRdata(type, r)).sort(compareRdata);
  return sorted.filter((r, i) => i === 0 || compareRdata(sorted[i - 1], r) !== 0);
}

/**
 * RFC 4034 §3.1.8.1 signed data: RRSIG RDATA without the signature, then each RR in canonical form
 * (§6.2: owner lower-cased and unexpanded, TTL = Original TTL, RDATA canonical), sorted by §6.3 with
 * duplicates removed. Its first `HEADER + signer length` octets are the RRSIG RDATA up to the signature
 * (rrsigFromSignedData).
 */
export function signedData(rrset: RRset, fields: RrsigFields): Uint8Array {
  checkFields(fields);
  if (rrset.type !== fields.typeCovered) throw new RrsigError(`RRSIG covers type ${fields.typeCovered}, the RRset is type ${rrset.type}`);
  const owner = signedOwner(rrset.name, fields.labels);
  const ownerLen = owner.wireLength;
  const unique = canonicalSet(rrset.type, rrset.rdatas);
  let len = HEADER + fields.signerName.wireLength;
  for (const r of unique) {
    if (r.length > 0xffff) throw new RrsigError('RDATA longer than 65535 octets');
    len += ownerLen + 10 + r.length;
  }
  const out = new Uint8Array(len);
  let o = writeHeader(out, fields);
  for (const r of unique) {
    owner.writeInto(out, o, true);
    o += ownerLen;
    put16(out, o, rrset.type);
    put16(out, o + 2, rrset.class);
    put32(out, o + 4, fields.originalTtl);
    put16(out, o + 8, r.length);
    out.set(r, o + 10);
    o += 10 + r.length;
  }
  return out;
}

/** RRSIG RDATA (RFC 4034 §3.1): the fields followed by the signature. */
export function rrsigRdata(fields: RrsigFields, signature: Uint8Array): Uint8Array {
  checkFields(fields);
  const out = new Uint8Array(HEADER + fields.signerName.wireLength + signature.length);
  const o = writeHeader(out, fields);
  out.set(signature, o);
  return out;
}

/**
 * The same RRSIG RDATA from signed data made by `signedData(_, fields)`: its leading octets are exactly
 * the RDATA fields (RFC 4034 §3.1.8.1), so they are copied rather than written again.
 */
export function rrsigFromSignedData(fields: RrsigFields, tbs: Uint8Array, signature: Uint8Array): Uint8Array {
  const head = HEADER + fields.signerName.wireLength;
  const out = new Uint8Array(head + signature.length);
  out.set(tbs.subarray(0, head));
  out.set(signature, head);
  return out;
}

/** Splits RRSIG RDATA; times come back in 32-bit form unless `now` is given (then the nearest epoch time). */
export function parseRrsigRdata(rdata: Uint8Array, now?: number): { fields: RrsigFields; signature: Uint8Array } {
  if (rdata.length < HEADER + 1) throw new RrsigError(`RRSIG RDATA of ${rdata.length} octets is too short`);
  const v = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  let signer: { name: Name; next: number };
  try {
    signer = Name.read(rdata, HEADER);
  } catch (err) {
    throw new RrsigError(`bad RRSIG signer name: ${(err as Error).message}`);
  }
  // Name.read follows compression pointers; RFC 4034 §3.1.7 forbids them here.
  if (signer.next !== HEADER + signer.name.wireLength) throw new RrsigError('compressed RRSIG signer name (RFC 4034 §3.1.7)');
  const exp = v.getUint32(8), inc = v.getUint32(12);
  return {
    fields: {
      typeCovered: v.getUint16(0),
      algorithm: v.getUint8(2),
      labels: v.getUint8(3),
      originalTtl: v.getUint32(4),
      expiration: now === undefined ? exp : fromSerialTime(exp, now),
      inception: now === undefined ? inc : fromSerialTime(inc, now),
      keyTag: v.getUint16(16),
      signerName: signer.name,
    },
    signature: rdata.slice(signer.next),
  };
}
