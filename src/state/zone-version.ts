// One version of a served zone, as zone transfers and NOTIFY (transfer/) see it.
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import type { ZoneSigning } from '../dnssec/types.js';
import type { Zone } from '../zone/types.js';
import type { ZoneConfig } from '../config/zone-settings.js';
import type { ZoneKeys } from './keystore.js';
import type { Entry } from './record-views.js';
import type { PresignedSummary } from './presigned.js';

export interface ZoneVersion {
  id: string;
  origin: Name;
  serial: number;
  file: string;
  zone: Zone;
  signing?: ZoneSigning;
  keys?: ZoneKeys;
  /** Other providers' DNSKEY RDATA (all of them, also those left out of the served set by dnskey_set: own-ksk). */
  imported: Uint8Array[];
  config: ZoneConfig;
  /** The zone data as parsed (the apex NS records in it, also those the served NS RRset leaves out). */
  records: readonly Rr[];
  /** False for a secondary zone that is not served (not transferred yet, or expired): `zone` is a placeholder. */
  available: boolean;
  /** Why the zone is not served, when `available` is false (state/secondary.ts). */
  unavailable?: string;
  /** A pre-signed zone's load summary (signature counts, earliest expiration). */
  presigned?: PresignedSummary;
  /**
   * Set when this version is the version of serial `from` with only these RRsets (owner, type) changed (an
   * admin change applied as a delta, state/delta.ts): a journal's difference needs to look at them alone.
   */
  changed?: { from: number; rrsets: readonly (readonly [Name, number])[] };
}

/** Told of every new version of a zone after it is served (primary only); `prev` is undefined for a zone new to this process. */
export type VersionListener = (next: ZoneVersion, prev: ZoneVersion | undefined) => void;

export function versionOf(e: Entry): ZoneVersion {
  const input = e.loaded.input;
  return {
    id: e.id, origin: e.loaded.input.origin, serial: e.serial, file: e.file, zone: e.prepared.zone, signing: e.prepared.signing,
    keys: e.prepared.keys, imported: e.prepared.imported, config: e.loaded.config,
    // Read when a transfer needs it: a version made by delta changes makes its list then (Entry.layers).
    get records() { return input.records; },
    available: e.unavailable === undefined, unavailable: e.unavailable, presigned: e.prepared.presigned,
    ...(e.changed ? { changed: e.changed } : {}),
  };
}

/** True when some receiver of the zone's transfers gets it signed (then re-signing makes a new version). */
export function transfersSigned(config: ZoneConfig): boolean {
  const t = config.transfer;
  return !!t && config.dnssec.enabled && (t.content === 'signed' || t.allow.some((a) => a.content === 'signed'));
}
