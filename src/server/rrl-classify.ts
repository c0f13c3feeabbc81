// The wire side of response rate limiting (rrl.ts): which class an answer is in and what its account is keyed
// on, read from the answer's bytes (so cached and fresh answers are classified alike), and the TC=1 "slip".
import { RRType } from '../dns/types.js';

// Indexes into RRL_CLASSES.
export const POSITIVE = 0, NXDOMAIN = 1, NODATA = 2, REFERRAL = 3, ERROR = 4;

/** What `classify` found: the class, the two hashes of what the account is keyed on, and where its name is (-1: none). */
export interface Classified {
  cls: number;
  /** Offset of the question's type (just after its name); -1: no question read. */
  qtypeOff: number;
  /** Two 32-bit hashes (FNV-1a and a multiply-xorshift), kept in a typed array so the hot loop never boxes a number. */
  h: Int32Array;
  nameOff: number;
}

export function newClassified(): Classified {
  return { cls: -1, qtypeOff: -1, h: new Int32Array(2), nameOff: -1 };
}

const SEED1 = 0x811c9dc5 | 0, SEED2 = 0x9747b28c | 0;
export const P1 = 0x01000193, P2 = 0x5bd1e995;

/** Offset just after the name at `off` as it stands in the message (a pointer ends it), or -1 when malformed. */
function skipName(msg: Uint8Array, off: number): number {
  for (;;) {
    if (off >= msg.length) return -1;
    const l = msg[off];
    if (l === 0) return off + 1;
    if ((l & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if (l > 63) return -1;
    off += 1 + l;
  }
}

function feed(c: Classified, b: number): void {
  const h = c.h;
  h[0] = Math.imul(h[0] ^ b, P1);
  const x = Math.imul(h[1] ^ b, P2);
  h[1] = x ^ (x >>> 15);
}

/** Feeds the name at `off` (compression followed, ASCII case folded: RFC 4343) into the hashes; false when malformed. */
function hashName(msg: Uint8Array, off: number, c: Classified): boolean {
  let h1 = c.h[0], h2 = c.h[1];
  let ok = false;
  for (let hops = 0; hops < 64;) {
    if (off >= msg.length) break;
    const l = msg[off];
    if ((l & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length) break;
      off = ((l & 0x3f) << 8) | msg[off + 1];
      hops++;
      continue;
    }
    if (l > 63 || off + 1 + l > msg.length) break;
    h1 = Math.imul(h1 ^ l, P1);
    h2 = Math.imul(h2 ^ l, P2);
    h2 ^= h2 >>> 15;
    if (l === 0) {
      ok = true;
      break;
    }
    for (let i = off + 1; i <= off + l; i++) {
      let b = msg[i];
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      h1 = Math.imul(h1 ^ b, P1);
      h2 = Math.imul(h2 ^ b, P2);
      h2 ^= h2 >>> 15;
    }
    off += 1 + l;
  }
  c.h[0] = h1;
  c.h[1] = h2;
  return ok;
}

/** Whether the NSEC RDATA at `rd` has the NXNAME bit (type 128: window 0, octet 16, bit 0x80; RFC 9824 §3). */
function hasNxname(msg: Uint8Array, rd: number, end: number): boolean {
  const p = skipName(msg, rd);
  // Windows come in increasing order: type 128 can only be in the first, window 0.
  if (p < 0 || p + 2 > end || msg[p] !== 0) return false;
  return msg[p + 1] >= 17 && p + 2 + 16 < end && (msg[p + 2 + 16] & 0x80) !== 0;
}

/**
 * The class of the response `resp` and the hash of the name (and type) its account is keyed on, written to `c`.
 * False for a message RRL leaves alone: not a response, not to opcode QUERY (RFC 1035 §4.1.1), too short.
 */
export function classify(resp: Uint8Array, c: Classified): boolean {
  const len = resp.length;
  if (len < 12 || (resp[2] & 0xf8) !== 0x80) return false;
  const rcode = resp[3] & 0xf;
  const qd = (resp[4] << 8) | resp[5], an = (resp[6] << 8) | resp[7], ns = (resp[8] << 8) | resp[9];
  c.h[0] = SEED1;
  c.h[1] = SEED2;
  c.nameOff = -1;
  c.qtypeOff = -1;
  c.cls = ERROR;
  if ((rcode !== 0 && rcode !== 3) || qd !== 1) return true;
  const nameEnd = skipName(resp, 12);
  if (nameEnd < 0 || nameEnd + 4 > len) return true;
  let o = nameEnd + 4;
  c.qtypeOff = nameEnd;
  if (rcode === 0 && an > 0) {
    c.cls = POSITIVE;
    // A wildcard answer (RFC 4592) is counted as its wildcard's parent: the RRSIG over the answer at the
    // question name (our writer points its owner at the question) has fewer labels than the name (RFC 4035 §5.3.2).
    let labels = -1;
    for (let i = 0; i < an; i++) {
      const owner = o;
      o = skipName(resp, o);
      if (o < 0 || o + 10 > len) break;
      const type = (resp[o] << 8) | resp[o + 1];
      if (type === RRType.RRSIG && resp[owner] === 0xc0 && resp[owner + 1] === 12 && o + 14 <= len) {
        labels = resp[o + 13];
        break;
      }
      o += 10 + ((resp[o + 8] << 8) | resp[o + 9]);
    }
    keyPositive(resp, c, labels);
    return true;
  }
  for (let i = 0; i < an && o >= 0; i++) {
    o = skipName(resp, o);
    if (o < 0 || o + 10 > len) return true;
    o += 10 + ((resp[o + 8] << 8) | resp[o + 9]);
  }
  let soa = -1, nsOwner = -1, nxname = false;
  for (let i = 0; i < ns; i++) {
    const owner = o;
    o = skipName(resp, o);
    if (o < 0 || o + 10 > len) break;
    const type = (resp[o] << 8) | resp[o + 1];
    const rd = o + 10, end = rd + ((resp[o + 8] << 8) | resp[o + 9]);
    if (end > len) break;
    if (type === RRType.SOA && soa < 0) soa = owner;
    else if (type === RRType.NS && nsOwner < 0) nsOwner = owner;
    else if (type === RRType.NSEC && rcode === 0 && !nxname) nxname = hasNxname(resp, rd, end);
    o = end;
  }
  if (rcode === 3 || nxname) {
    c.cls = NXDOMAIN;
    c.nameOff = soa >= 0 ? soa : 12;
  } else if (nsOwner >= 0 && (resp[2] & 0x04) === 0) {
    c.cls = REFERRAL; // AA=0 and NS in authority (RFC 1034 §4.3.2 step 3b)
    c.nameOff = nsOwner;
  } else {
    c.cls = NODATA;
    c.nameOff = 12;
  }
  hashName(resp, c.nameOff, c);
  return true;
}

/**
 * Keys a positive answer (classified into `c`) on its question name and type, or with `labels` >= 0 on the
 * question name's ancestor of that many labels (a wildcard's parent) and the type.
 */
export function keyPositive(resp: Uint8Array, c: Classified, labels: number): void {
  const nameEnd = c.qtypeOff;
  let start = 12;
  if (labels >= 0) {
    let count = 0;
    for (let p = 12; p < nameEnd - 1; p += 1 + resp[p]) count++; // plain labels: skipName stopped at no pointer before nameEnd - 1
    for (let skip = count - labels; skip > 0; skip--) start += 1 + resp[start];
  }
  c.h[0] = SEED1;
  c.h[1] = SEED2;
  c.nameOff = start;
  hashName(resp, start, c);
  feed(c, resp[nameEnd]);
  feed(c, resp[nameEnd + 1]);
}


/**
 * The TC=1 answer a limited response "slips" as: header and question, no records but the OPT (without its
 * options) when the response had one (RFC 6891 §7), so the client retries over TCP (RFC 1035 §4.2.1, RFC 7766).
 */
export function truncated(resp: Uint8Array): Uint8Array {
  const len = resp.length;
  const qd = (resp[4] << 8) | resp[5];
  const records = ((resp[6] << 8) | resp[7]) + ((resp[8] << 8) | resp[9]);
  const ar = (resp[10] << 8) | resp[11];
  let o = 12, opt = -1;
  for (let i = 0; i < qd && o >= 0; i++) {
    o = skipName(resp, o);
    if (o >= 0) o = o + 4 <= len ? o + 4 : -1;
  }
  // A question we cannot walk is not copied (nor looked past).
  const qEnd = o < 0 ? 12 : o;
  for (let i = 0; i < records + ar && o >= 0; i++) {
    const owner = o;
    o = skipName(resp, o);
    if (o < 0 || o + 10 > len) break;
    if (i >= records && resp[owner] === 0 && ((resp[o] << 8) | resp[o + 1]) === RRType.OPT) {
      opt = owner;
      break;
    }
    o += 10 + ((resp[o + 8] << 8) | resp[o + 9]);
  }
  const out = Buffer.alloc(qEnd + (opt >= 0 ? 11 : 0));
  out.set(resp.subarray(0, qEnd));
  out[2] |= 0x02; // TC
  out[5] = qEnd > 12 ? qd & 0xff : 0;
  out[4] = qEnd > 12 ? qd >> 8 : 0;
  out.fill(0, 6, 12);
  if (opt >= 0) {
    out.set(resp.subarray(opt, opt + 9), qEnd); // root owner, type, payload size, extended rcode, version, flags; RDLENGTH 0
    out[11] = 1;
  }
  return out;
}

