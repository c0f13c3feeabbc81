// Zone versions: the SOA serial a zone is served with, and when it moves. The zone file's serial is the
// operator's (explicit, or the file's mtime); what is served follows the zone's `serial_policy` and is
// remembered with a digest of the served content in the admin state, so that every change of what a
// secondary would receive (records, keys, apex NS, signing mode) gives a newer serial (RFC 1982), an
// unchanged zone keeps its serial across reloads and restarts, and a serial never goes backwards.
import { createHash } from 'node:crypto';
import type { Rr, RRset } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import type { ZoneSettings } from '../zone/types.js';
import { initialSerial, nextSerial, serialNewer, type SerialPolicy } from '../transfer/serial.js';

export interface VersionState {
  serial: number;
  /** sha256 (hex) of the served content without the SOA serial (contentDigest). */
  digest: string;
}

/** Offset of SERIAL in SOA RDATA: after MNAME and RNAME (uncompressed, RFC 1035 §3.3.13). */
export function soaSerialOffset(rdata: Uint8Array): number {
  let o = 0;
  for (let n = 0; n < 2; n++) {
    // Bounded by the RDATA: past its end `rdata[o]` is undefined and the walk would never stop (found by fuzzing).
    while (o < rdata.length && rdata[o] !== 0) o += rdata[o] + 1;
    o++;
  }
  if (o + 20 > rdata.length) throw new RangeError(`SOA RDATA of ${rdata.length} octets has no room for its five 32-bit fields (RFC 1035 §3.3.13)`);
  return o;
}

export function soaSerial(rdata: Uint8Array): number {
  const o = soaSerialOffset(rdata);
  return ((rdata[o] << 24) | (rdata[o + 1] << 16) | (rdata[o + 2] << 8) | rdata[o + 3]) >>> 0;
}

/** A copy of SOA RDATA with another serial. */
export function withSerial(rdata: Uint8Array, serial: number): Uint8Array {
  const out = new Uint8Array(rdata); // a copy even of a Buffer, whose slice() is a view of the same bytes
  const o = soaSerialOffset(out);
  out[o] = serial >>> 24;
  out[o + 1] = (serial >>> 16) & 0xff;
  out[o + 2] = (serial >>> 8) & 0xff;
  out[o + 3] = serial & 0xff;
  return out;
}

/** How a digest of the current form starts (an older form, one sha256 over the records in order, has no prefix). */
const DIGEST_FORM = 'm1:';

/**
 * Digest of what the zone serves: the zone data (SOA without its serial), the server-made apex RRsets
 * (DNSKEY, CDS, CDNSKEY), the settings that shape answers, and `extra` (e.g. the signature period of a
 * zone transferred signed, so re-signing makes a new version). A multiset hash (RFC-free, tandem's own): a
 * 128-bit hash per record, summed lane by lane modulo 2^32, so the order of the records does not matter and
 * a change of a few records updates it in O(change) (`patchDigest`) instead of hashing a million records again.
 * The form is `m1:<settings, 32 hex>:<sum, 32 hex>`.
 */
export function contentDigest(records: readonly Rr[], apex: readonly RRset[], settings: ZoneSettings, extra = ''): string {
  const sum = new Uint32Array(4);
  for (const rr of records) addRecord(sum, rr, 1);
  for (const set of apex) for (const rdata of set.rdatas) addRecord(sum, { name: set.name, type: set.type, ttl: set.ttl, rdata }, 1);
  return `${DIGEST_FORM}${settingsHash(settings, extra)}:${hex(sum)}`;
}

/**
 * The digest after `removed` left and `added` joined the zone data (the settings part made again from
 * `settings` and `extra`); undefined for a digest of the older form.
 */
export function patchDigest(digest: string, settings: ZoneSettings, extra: string, removed: readonly Rr[], added: readonly Rr[]): string | undefined {
  const m = /^m1:[0-9a-f]{32}:([0-9a-f]{32})$/.exec(digest);
  if (!m) return undefined;
  const sum = Uint32Array.from({ length: 4 }, (_, i) => parseInt(m[1].slice(i * 8, i * 8 + 8), 16));
  for (const rr of removed) addRecord(sum, rr, -1);
  for (const rr of added) addRecord(sum, rr, 1);
  return `${DIGEST_FORM}${settingsHash(settings, extra)}:${hex(sum)}`;
}

/** Whether a stored digest is of the older form (then `legacyContentDigest` is what it is compared with). */
export function isLegacyDigest(digest: string): boolean {
  return !digest.startsWith(DIGEST_FORM);
}

function settingsHash(settings: ZoneSettings, extra: string): string {
  const line = `${settings.nameservers.map((n) => n.key).join(',')}|${settings.multiProvider}|${settings.nsTtl}|${settings.dnssec}|${settings.denial}${settings.nsec3OptOut ? '+opt-out' : ''}|${extra}`;
  return createHash('sha256').update(line).digest('hex').slice(0, 32);
}

function hex(sum: Uint32Array): string {
  let s = '';
  for (const x of sum) s += x.toString(16).padStart(8, '0');
  return s;
}

/** Four 32-bit FNV-1a lanes (different offsets and primes) over owner key, type, TTL and RDATA, each finished with murmur3's fmix32. */
function addRecord(sum: Uint32Array, rr: { name: { key: string }; type: number; ttl: number; rdata: Uint8Array }, sign: 1 | -1): void {
  const rdata = rr.type === RRType.SOA ? withSerial(rr.rdata, 0) : rr.rdata;
  let a = 0x811c9dc5, b = 0x050c5d1f, c = 0x6b43a9b5, d = 0x2f1e6c3d;
  const key = rr.name.key;
  // The key's UTF-16 code units, then '|', type, TTL, RDLENGTH and RDATA, as one stream of 16-bit units.
  const n = key.length, m = rdata.length;
  for (let i = 0; i < n + 6 + m; i++) {
    const x = i < n ? key.charCodeAt(i)
      : i === n ? 0x7c
        : i === n + 1 ? rr.type
          : i === n + 2 ? rr.ttl >>> 16
            : i === n + 3 ? rr.ttl & 0xffff
              : i === n + 4 ? m
                : i === n + 5 ? 0x7c : rdata[i - n - 6];
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x01000197);
    c = Math.imul(c ^ x, 0x010001a5);
    d = Math.imul(d ^ x, 0x010001b1);
  }
  sum[0] = (sum[0] + sign * (fmix(a) >>> 0)) >>> 0;
  sum[1] = (sum[1] + sign * (fmix(b) >>> 0)) >>> 0;
  sum[2] = (sum[2] + sign * (fmix(c) >>> 0)) >>> 0;
  sum[3] = (sum[3] + sign * (fmix(d) >>> 0)) >>> 0;
}

function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); return h ^ (h >>> 16);
}

/**
 * The digest of the older form (one sha256 over the records in the order given), kept so that a serial stored
 * with it is recognised once after an upgrade (the zone keeps its serial; the new form is stored then).
 */
export function legacyContentDigest(records: readonly Rr[], apex: readonly RRset[], settings: ZoneSettings, extra = ''): string {
  const h = createHash('sha256');
  h.update(`${settings.nameservers.map((n) => n.key).join(',')}|${settings.multiProvider}|${settings.nsTtl}|${settings.dnssec}|${settings.denial}${settings.nsec3OptOut ? '+opt-out' : ''}|${extra}\n`);
  const buf = Buffer.allocUnsafe(1 << 16);
  let off = 0;
  const put = (name: string, type: number, ttl: number, rdata: Uint8Array) => {
    const need = name.length * 3 + 12 + rdata.length;
    if (off + need > buf.length) {
      h.update(buf.subarray(0, off));
      off = 0;
      if (need > buf.length) {
        h.update(`${name}|${type}|${ttl}|`);
        h.update(rdata);
        return;
      }
    }
    off += buf.write(name, off, 'utf8');
    buf.writeUInt16BE(type, off);
    buf.writeUInt32BE(ttl >>> 0, off + 2);
    buf.writeUInt16BE(rdata.length, off + 6);
    off += 8;
    buf.set(rdata, off);
    off += rdata.length;
  };
  for (const rr of records) put(rr.name.key, rr.type, rr.ttl, rr.type === RRType.SOA ? withSerial(rr.rdata, 0) : rr.rdata);
  for (const set of apex) for (const rdata of set.rdatas) put(set.name.key, set.type, set.ttl, rdata);
  h.update(buf.subarray(0, off));
  return h.digest('hex');
}

export interface SerialInputs {
  policy: SerialPolicy;
  /** The serial the zone file gives: explicit, or (without one) the file's mtime. */
  fileSerial: number;
  /** Whether the file names its serial (an operator's explicit serial is honoured when it is newer). */
  explicit: boolean;
  digest: string;
  /** What was served last (admin state); undefined for a zone never served. */
  stored?: VersionState;
  /** The content's digest in the older form, asked for only when `stored` has one of that form (an upgrade). */
  legacyDigest?: () => string;
  now: number;
}

/** The serial to serve, and whether it is a new version (then the caller persists it). */
export function decideSerial(i: SerialInputs): { serial: number; changed: boolean; behind?: number } {
  let { stored } = i;
  // Stored by an older tandem: the same content keeps its serial, and the digest is stored again in the new form.
  const upgraded = stored !== undefined && isLegacyDigest(stored.digest) && i.legacyDigest !== undefined && stored.digest === i.legacyDigest();
  if (upgraded) stored = { ...stored!, digest: i.digest };
  if (!stored) {
    const serial = i.explicit || i.policy === 'unixtime' ? i.fileSerial : initialSerial(i.policy, i.now);
    return { serial, changed: true };
  }
  let serial = stored.digest === i.digest ? stored.serial : nextSerial(i.policy, stored.serial, i.now);
  // An explicit serial newer than ours wins (an operator forcing secondaries to refresh); one behind is reported.
  if (i.explicit && serialNewer(i.fileSerial, serial)) serial = i.fileSerial;
  const behind = i.explicit && serialNewer(serial, i.fileSerial) && stored.digest !== i.digest ? i.fileSerial : undefined;
  return { serial, changed: upgraded || serial !== stored.serial || stored.digest !== i.digest, ...(behind !== undefined ? { behind } : {}) };
}
