// Loading a pre-signed zone (issue 11, `zone.dnssec.presigned`): the records, their RRSIGs and the NSEC or
// NSEC3 chain are served as given, so there are no keys and no signing; what is checked at load is whether
// validators can use the zone at all. Used by prepareZone for zone files and by the transfer client for
// zones received signed (a secondary in `presigned` mode).
import type { Logger } from 'pino';
import { buildLoadedZone, type LoadedZone } from '../config/zonefile.js';
import { ZoneFileError } from '../config/errors.js';
import { RRType, typeName } from '../dns/types.js';
import type { Clock } from '../dnssec/types.js';
import { atOrBelowCut } from '../dnssec/denial/nsec.js';
import { rrsigTimes, sigsFor } from '../zone/presigned.js';
import type { Zone } from '../zone/types.js';
import type { Prepared } from './prepare.js';

/** What the load found about a pre-signed zone's signatures (logged; kept in Prepared.presigned). */
export interface PresignedSummary {
  denial: 'nsec' | 'nsec3' | 'none';
  /** RRSIG records in the zone. */
  signatures: number;
  /** Signatures whose expiration had passed at load (RFC 4034 §3.1.5). */
  expired: number;
  /** Signatures whose inception was still ahead at load. */
  notYetValid: number;
  /** The earliest expiration of any signature (epoch seconds), undefined without signatures. */
  earliestExpiration?: number;
  /** Authoritative RRsets with no RRSIG (RFC 4035 §2.2 wants every one signed). */
  unsigned: number;
}

export interface PresignedDeps {
  clock: Clock;
  logger: Logger;
}

/**
 * Builds a pre-signed zone from its records (a zone file with `zone.dnssec.presigned: true`, or a transfer)
 * and checks it: without a DNSKEY RRset at the apex nothing in it can be validated, so the zone is not
 * loaded (ZoneFileError naming zone and file). Signatures outside their validity period are logged at error
 * level and the zone is served anyway (see docs/internals.md: the data is the signer's, withholding it would
 * only add an outage for non-validating resolvers); a zone without an NSEC/NSEC3 chain or with unsigned
 * RRsets is loaded with warnings in `loaded.warnings`. `zone.settings.nameservers` is not used: the apex NS
 * RRset is served as signed.
 */
export async function preparePresignedZone(loaded: LoadedZone, deps: PresignedDeps): Promise<Prepared> {
  const origin = loaded.input.origin;
  const settings = { ...loaded.input.settings, nameservers: [], multiProvider: false };
  const zone = buildLoadedZone({ ...loaded, input: { ...loaded.input, settings, presigned: true } });
  if (!zone.nodes.get(origin.key)!.rrsets.has(RRType.DNSKEY)) {
    throw new ZoneFileError({
      file: loaded.file, owner: '@', type: 'DNSKEY',
      reason: `zone ${origin} is pre-signed (zone.dnssec.presigned) but has no DNSKEY RRset at its apex, so no validator can verify its signatures (RFC 4035 §2.1); it is not loaded`,
    });
  }
  const summary = summarize(zone, deps.clock.now());
  const log = deps.logger.child({ zone: origin.toString(), file: loaded.file });
  if (summary.expired > 0 || summary.notYetValid > 0) {
    log.error({
      signatures: summary.signatures, expired: summary.expired, notYetValid: summary.notYetValid,
      earliestExpiration: isoTime(summary.earliestExpiration!),
    }, 'pre-signed zone has signatures outside their validity period (RFC 4034 §3.1.5); validators will reject those answers. Serving it as given: re-sign it at its source');
  }
  if (summary.denial === 'none') {
    loaded.warnings.push('pre-signed zone has no NSEC or NSEC3 chain: its negative answers carry no proof and validators will reject them (RFC 4035 §3.1.3)');
  }
  if (summary.unsigned > 0) {
    loaded.warnings.push(`pre-signed zone has ${summary.unsigned} RRset(s) without an RRSIG (${unsignedExamples(zone).join(', ')}); validators will reject them (RFC 4035 §2.2)`);
  }
  log.debug({ ...summary, earliestExpiration: summary.earliestExpiration && isoTime(summary.earliestExpiration) }, 'pre-signed zone checked');
  return { zone, imported: [], presigned: summary };
}

function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RRsets that need an RRSIG: authoritative data, not delegation NS nor glue (RFC 4035 §2.2). */
function* needingSignatures(zone: Zone): Generator<{ owner: string; type: number; signed: boolean }> {
  const data = zone.presigned!;
  for (const node of zone.nodes.values()) {
    if (node.rrsets.size === 0) continue;
    const atCut = atOrBelowCut(zone, node.name);
    for (const set of node.rrsets.values()) {
      // At a cut only the parent's DS and NSEC are signed; below it nothing is.
      if (atCut && !((set.type === RRType.DS || set.type === RRType.NSEC) && node.rrsets.has(RRType.NS))) continue;
      yield { owner: node.name.relativeTo(zone.origin), type: set.type, signed: sigsFor(data, node.name, set.type) !== undefined };
    }
  }
  for (const e of data.nsec3) yield { owner: e.rrset.name.relativeTo(zone.origin), type: RRType.NSEC3, signed: sigsFor(data, e.rrset.name, RRType.NSEC3) !== undefined };
}

function summarize(zone: Zone, now: number): PresignedSummary {
  const data = zone.presigned!;
  let signatures = 0, expired = 0, notYetValid = 0, earliest: number | undefined;
  for (const list of data.rrsigs.values()) {
    for (const set of list) {
      for (const rdata of set.rdatas) {
        signatures++;
        const t = rrsigTimes(rdata);
        // RFC 4034 §3.1.5: serial number arithmetic (RFC 1982) around now.
        const exp = now + ((t.expiration - now) | 0);
        const inc = now + ((t.inception - now) | 0);
        if (exp < now) expired++;
        if (inc > now) notYetValid++;
        if (earliest === undefined || exp < earliest) earliest = exp;
      }
    }
  }
  let unsigned = 0;
  for (const x of needingSignatures(zone)) if (!x.signed) unsigned++;
  return { denial: data.denial, signatures, expired, notYetValid, earliestExpiration: earliest, unsigned };
}

function unsignedExamples(zone: Zone): string[] {
  const out: string[] = [];
  for (const x of needingSignatures(zone)) {
    if (x.signed) continue;
    out.push(`${x.owner} ${typeName(x.type)}`);
    if (out.length === 3) break;
  }
  return out;
}
