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

/**
 * Digest of what the zone serves: the zone data (SOA without its serial), the server-made apex RRsets
 * (DNSKEY, CDS, CDNSKEY), the settings that shape answers, and `extra` (e.g. the signature period of a
 * zone transferred signed, so re-signing makes a new version). Records are hashed in the order given:
 * a file whose records were only reordered counts as changed, which costs one serial and nothing else.
 * Batched into one buffer so a zone of a million records hashes in well under a second.
 */
export function contentDigest(records: readonly Rr[], apex: readonly RRset[], settings: ZoneSettings, extra = ''): string {
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
  now: number;
}

/** The serial to serve, and whether it is a new version (then the caller persists it). */
export function decideSerial(i: SerialInputs): { serial: number; changed: boolean; behind?: number } {
  const { stored } = i;
  if (!stored) {
    const serial = i.explicit || i.policy === 'unixtime' ? i.fileSerial : initialSerial(i.policy, i.now);
    return { serial, changed: true };
  }
  let serial = stored.digest === i.digest ? stored.serial : nextSerial(i.policy, stored.serial, i.now);
  // An explicit serial newer than ours wins (an operator forcing secondaries to refresh); one behind is reported.
  if (i.explicit && serialNewer(i.fileSerial, serial)) serial = i.fileSerial;
  const behind = i.explicit && serialNewer(serial, i.fileSerial) && stored.digest !== i.digest ? i.fileSerial : undefined;
  return { serial, changed: serial !== stored.serial || stored.digest !== i.digest, ...(behind !== undefined ? { behind } : {}) };
}
