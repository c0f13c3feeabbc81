// NSEC/NSEC3 type bit maps (RFC 4034 §4.1.2, RFC 5155 §3.2.1): one block per 256-type window,
// `window | length | bitmap`, windows ascending, empty windows left out, trailing zero octets
// left out. Any type number may be set: RFC 9824 §7.1 allows the NXNAME meta-type (128).

import { RdataError } from './rdata/error.js';

/** Encodes a set of type numbers (any order, duplicates ignored). */
export function encodeTypeBitmap(types: Iterable<number>): Uint8Array {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  for (const t of sorted) if (!Number.isInteger(t) || t < 0 || t > 0xffff) throw new RdataError(`bad type number ${t} in type bitmap`);
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = sorted[i] >> 8;
    const bits = new Uint8Array(32);
    let len = 0;
    for (; i < sorted.length && sorted[i] >> 8 === window; i++) {
      const low = sorted[i] & 0xff;
      bits[low >> 3] |= 0x80 >> (low & 7);
      len = (low >> 3) + 1;
    }
    out.push(window, len, ...bits.subarray(0, len));
  }
  return Uint8Array.from(out);
}

/** Decodes a type bit map, refusing the encodings RFC 4034 §4.1.2 forbids. Returns ascending types. */
export function decodeTypeBitmap(bytes: Uint8Array): number[] {
  const types: number[] = [];
  let o = 0, prev = -1;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw new RdataError('type bitmap: truncated window header');
    const window = bytes[o], len = bytes[o + 1];
    if (window <= prev) throw new RdataError(`type bitmap: window ${window} out of order`);
    if (len < 1 || len > 32) throw new RdataError(`type bitmap: window ${window} has bitmap length ${len}, not 1..32`);
    if (o + 2 + len > bytes.length) throw new RdataError(`type bitmap: window ${window} runs past the end`);
    if (bytes[o + 1 + len] === 0) throw new RdataError(`type bitmap: window ${window} has a trailing zero octet`);
    for (let k = 0; k < len; k++) {
      const b = bytes[o + 2 + k];
      for (let bit = 0; bit < 8; bit++) if (b & (0x80 >> bit)) types.push(window * 256 + k * 8 + bit);
    }
    prev = window;
    o += 2 + len;
  }
  return types;
}
