// CSYNC (RFC 7477, type 62): the child's request that the parent copy NS, A and AAAA records from it. RDATA
// (§2.1.1): SOA serial (32 bits), flags (16 bits), a type bit map in the NSEC format (RFC 4034 §4.1.2).
import { decodeTypeBitmap, encodeTypeBitmap } from './bitmap.js';
import { RRType, typeName } from './types.js';

/** §2.1.1.2 flags (IANA "Child Synchronization (CSYNC) Flags"). */
export const CSYNC_IMMEDIATE = 1;
export const CSYNC_SOAMINIMUM = 2;
/** The types RFC 7477 §3 defines the parent's processing for. */
export const CSYNC_TYPES: readonly number[] = [RRType.NS, RRType.A, RRType.AAAA];

export interface Csync {
  serial: number;
  immediate: boolean;
  soaminimum: boolean;
  types: number[];
}

export function encodeCsync(c: Csync): Uint8Array {
  const bitmap = encodeTypeBitmap(c.types);
  const out = new Uint8Array(6 + bitmap.length);
  new DataView(out.buffer).setUint32(0, c.serial >>> 0);
  out[5] = (c.immediate ? CSYNC_IMMEDIATE : 0) | (c.soaminimum ? CSYNC_SOAMINIMUM : 0);
  out.set(bitmap, 6);
  return out;
}

/** Reads CSYNC RDATA; throws RdataError (bitmap.ts) for a malformed bit map. */
export function decodeCsync(rdata: Uint8Array): Csync & { flags: number } {
  if (rdata.length < 6) throw new RangeError('CSYNC RDATA is shorter than 6 octets (RFC 7477 §2.1.1)');
  const v = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  const flags = v.getUint16(4);
  return { serial: v.getUint32(0), flags, immediate: (flags & CSYNC_IMMEDIATE) !== 0, soaminimum: (flags & CSYNC_SOAMINIMUM) !== 0, types: decodeTypeBitmap(rdata.subarray(6)) };
}

/** Why tandem will not publish this CSYNC, or undefined: flags and types RFC 7477 does not define. */
export function csyncProblem(rdata: Uint8Array): string | undefined {
  let c;
  try {
    c = decodeCsync(rdata);
  } catch (err) {
    return (err as Error).message;
  }
  const unknownFlags = c.flags & ~(CSYNC_IMMEDIATE | CSYNC_SOAMINIMUM);
  if (unknownFlags) return `flags ${c.flags}: only immediate (1) and soaminimum (2) are defined (RFC 7477 §2.1.1.2)`;
  const others = c.types.filter((t) => !CSYNC_TYPES.includes(t));
  if (others.length) return `type ${others.map(typeName).join(', ')}: a parent copies NS, A and AAAA only (RFC 7477 §3), and does not act on a CSYNC with a type it does not know (§2.1.1.2.1)`;
  return undefined;
}
