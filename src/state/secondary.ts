// Secondary zones in the zone manager: the zone file holds only settings (zone.secondary), the records are
// the last good transfer kept in the state folder (secondary-store.ts). Before the first transfer, and
// after the copy expired (SOA EXPIRE since the last successful refresh), the zone is not served: queries
// for it get SERVFAIL, never stale data as authoritative (RFC 1034 §4.3.5, issue 11). The manager still
// holds an entry for it (a placeholder zone that is never served), so the API can show and configure it.
import type { Logger } from 'pino';
import type { LoadedZone } from '../config/zonefile.js';
import { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRClass, RRType } from '../dns/types.js';
import { parseRdata } from '../dns/rdata.js';
import { forServing } from '../transfer/secondary-data.js';
import { readCopy, readMeta } from './secondary-store.js';

export interface SecondaryLoad {
  loaded: LoadedZone;
  /** Why the zone is not served (then `loaded` holds a placeholder), or undefined when it is. */
  unavailable?: string;
}

/**
 * The LoadedZone of a secondary zone: its settings file's LoadedZone (no records) with the transferred
 * records (`records`, or the copy in the state folder) filtered for its DNSSEC mode.
 */
export async function loadSecondary(settings: LoadedZone, stateDir: string, now: number, logger: Logger, records?: readonly Rr[]): Promise<SecondaryLoad> {
  const origin = settings.input.origin;
  const sec = settings.config.secondary!;
  let data = records;
  let unavailable: string | undefined;
  if (!data) {
    data = await readCopy(stateDir, origin);
    const meta = await readMeta(stateDir, origin);
    if (!data) unavailable = 'not transferred yet';
    else if (meta?.expiresAt !== undefined && now >= meta.expiresAt) {
      unavailable = `expired at ${new Date(meta.expiresAt * 1000).toISOString()} (no refresh from a primary within SOA EXPIRE)`;
    }
  }
  if (unavailable || !data) return { loaded: placeholder(settings), unavailable: unavailable ?? 'not transferred yet' };
  const { records: served, dropped } = forServing(data, origin, sec.dnssec);
  if (Object.keys(dropped).length) {
    logger.info({ zone: origin.toString(), mode: sec.dnssec, dropped }, 'DNSSEC records of the transfer not served (tandem signs this zone itself, or serves it unsigned)');
  }
  return { loaded: { ...settings, input: { ...settings.input, records: served }, mtimeSerial: undefined } };
}

/** A zone that builds (SOA and NS) but is never served: a secondary zone without usable data. */
function placeholder(settings: LoadedZone): LoadedZone {
  const origin = settings.input.origin;
  const soa: Rr = { name: origin, type: RRType.SOA, class: RRClass.IN, ttl: 0, rdata: parseRdata(RRType.SOA, `${origin} ${origin} 0 0 0 0 0`, Name.ROOT) };
  const ns: Rr = { name: origin, type: RRType.NS, class: RRClass.IN, ttl: 0, rdata: parseRdata(RRType.NS, 'invalid.', Name.ROOT) };
  // Built unsigned and never served: a pre-signed mode's checks (an apex DNSKEY) apply to real data only.
  const config = { ...settings.config, dnssec: { ...settings.config.dnssec, presigned: false } };
  return { ...settings, config, input: { ...settings.input, records: settings.input.settings.nameservers.length ? [soa] : [soa, ns] }, mtimeSerial: undefined };
}
