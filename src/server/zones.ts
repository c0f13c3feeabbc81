// Loading zones for serving: YAML -> keys (signed zones) -> Zone + ZoneSigning. Used at start and on SIGHUP.
import type { Logger } from 'pino';
import { loadZoneDir, buildLoadedZone, type LoadedZone } from '../config/zonefile.js';
import { ZoneSet } from '../zone/zoneset.js';
import type { Zone } from '../zone/types.js';
import type { RRset } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import type { Clock, ZoneSigning } from '../dnssec/types.js';
import { loadOrCreateZoneKeys } from '../state/keystore.js';
import { apexRrsets } from '../dnssec/apex.js';
import { NodeSigner } from '../dnssec/signer.js';
import { createZoneSigning } from '../dnssec/zonesigning.js';
import { SignatureCache } from '../dnssec/cache.js';
import { nsec3paramRrset } from '../dnssec/denial/nsec3.js';
import type { Served } from './handle.js';

export interface ZoneLoaderDeps {
  zonesDir: string;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  cache: SignatureCache;
}

interface Prepared {
  zone: Zone;
  signing?: ZoneSigning;
}

function negativeTtl(zone: Zone): number {
  const rd = zone.soa.rdatas[0];
  const minimum = new DataView(rd.buffer, rd.byteOffset + rd.length - 4, 4).getUint32(0);
  return Math.min(zone.soa.ttl, minimum);
}

/** Builds one zone from its parsed file: keys and apex DNSSEC RRsets first when the zone is signed. */
export async function prepareZone(loaded: LoadedZone, deps: ZoneLoaderDeps): Promise<Prepared> {
  const dnssec = loaded.config.dnssec;
  if (!dnssec.enabled) return { zone: buildLoadedZone(loaded) };
  const origin = loaded.input.origin;
  const keys = await loadOrCreateZoneKeys(deps.stateDir, origin, {});
  if (keys.created) deps.logger.info({ zone: origin.toString(), ksk: keys.ksk.keyTag, zsk: keys.zsk.keyTag }, 'generated KSK and ZSK');
  const dnskeyTtl = loaded.input.records.find((r) => r.type === RRType.SOA)?.ttl ?? 3600;
  const sets = apexRrsets({ zone: origin, keys, imported: [], dnskeyTtl, cds: 'publish' });
  const apex: RRset[] = [sets.dnskey, ...(sets.cds ? [sets.cds] : []), ...(sets.cdnskey ? [sets.cdnskey] : [])];
  // A first build to learn the SOA (negative TTL) and, for NSEC3, to publish NSEC3PARAM at the apex.
  let zone = buildLoadedZone(loaded, apex);
  if (dnssec.denial === 'nsec3') zone = buildLoadedZone(loaded, [...apex, nsec3paramRrset(zone)]);
  const signing = createZoneSigning({
    zone: origin,
    ksk: new NodeSigner(keys.ksk),
    zsk: new NodeSigner(keys.zsk),
    clock: deps.clock,
    validity: dnssec.signatureValidity,
    cache: deps.cache,
    negativeTtl: negativeTtl(zone),
  });
  return { zone, signing };
}

/**
 * Loads every zone file. A file that fails keeps its previous zone (if `previous` has one) and is reported;
 * zones whose files are gone are dropped.
 */
export async function loadServed(deps: ZoneLoaderDeps, previous?: Served): Promise<{ served: Served; errors: Error[] }> {
  const { zones: loaded, errors } = await loadZoneDir(deps.zonesDir);
  const out: Zone[] = [];
  const signing = new Map<string, ZoneSigning>();
  const problems: Error[] = [...errors];
  const failedFiles = new Set(errors.map((e) => e.file));
  for (const l of loaded) {
    try {
      const p = await prepareZone(l, deps);
      if (out.some((z) => z.origin.equals(p.zone.origin))) throw new Error(`${l.file}: zone ${p.zone.origin} is already served by another file`);
      out.push(p.zone);
      if (p.signing) signing.set(p.zone.origin.key, p.signing);
      for (const w of l.warnings) deps.logger.warn({ file: l.file }, w);
    } catch (err) {
      problems.push(err as Error);
      failedFiles.add(l.file);
    }
  }
  // Keep the last good version of every zone whose file is now bad (SIGHUP semantics).
  if (previous) {
    for (const z of previous.zones.zones()) {
      if (out.some((o) => o.origin.equals(z.origin))) continue;
      if (failedFiles.has(z.source)) {
        out.push(z);
        const s = previous.signing.get(z.origin.key);
        if (s) signing.set(z.origin.key, s);
      }
    }
  }
  return { served: { zones: new ZoneSet(out), signing }, errors: problems };
}
