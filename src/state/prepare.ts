// Loading zones for serving: YAML -> keys (signed zones) -> Zone + ZoneSigning. Used at start, on SIGHUP and
// after every admin change.
import type { Logger } from 'pino';
import { buildLoadedZone, type LoadedZone } from '../config/zonefile.js';
import { ZoneFileError } from '../config/errors.js';
import type { Zone } from '../zone/types.js';
import type { Name } from '../dns/name.js';
import { atOrBelowCut, carryNameIndex, isCut } from '../dnssec/denial/nsec.js';
import type { Rr, RRset } from '../dns/rr.js';
import { contentDigest, legacyContentDigest, soaSerial, withSerial } from './version.js';
import { RRType } from '../dns/types.js';
import type { Clock, ZoneSigning } from '../dnssec/types.js';
import { loadOrCreateZoneKeys, type ZoneKeys } from './keystore.js';
import { apexRrsets, type CdsMode } from '../dnssec/apex.js';
import { NodeSigner } from '../dnssec/signer.js';
import { authoritativeRrsets, createZoneSigning, type SigningObserver, type ZoneSigningImpl } from '../dnssec/zonesigning.js';
import { SignatureCache } from '../dnssec/cache.js';
import { carryNsec3Index, nsec3paramRrset } from '../dnssec/denial/nsec3.js';
import { chainKind } from '../dnssec/denial/index.js';
import { buildDenialChain, SMALL_CHAIN_LINKS, type ChainSettings, type DenialChain } from '../dnssec/chain.js';
import { checkForeignCds, checkImportedKey, ImportError } from '../dnssec/imported.js';
import { ALG_ECDSAP256SHA256, dsRdata, keyTag } from '../dnssec/keys.js';
import { rdataEquals } from '../dns/rdata.js';
import { preparePresignedZone, type PresignedSummary } from './presigned.js';

export interface ZoneLoaderDeps {
  zonesDir: string;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  cache: SignatureCache;
  /**
   * Sign every authoritative RRset in the background after the zone is built (processes that answer
   * queries), so the first queries do not pay for signatures. Default false.
   */
  presign?: boolean;
  /** Told of every signature this process makes (metrics). */
  signingObserver?: SigningObserver;
}

export interface PrepareOptions {
  /** Whether the zone is signed at all (false: the "deleted" DNSSEC state). Default: the zone file's setting. */
  signed?: boolean;
  /** CDS/CDNSKEY: publish our KSKs, or the RFC 8078 delete form while DNSSEC is being turned off. */
  cds?: CdsMode;
  /**
   * The serial to serve, given the digest of the served content (state/version.ts) and the file's serial;
   * default: the file's. `digestExtra` joins the digest (see contentDigest).
   */
  version?: (digest: string, fileSerial: number, legacyDigest: () => string) => number;
  digestExtra?: string;
  /**
   * The version of this zone served now, if any: an `nsec3-chain` / `nsec-chain` zone patches its chain and
   * keeps the RRSIGs of the links that did not change (dnssec/chain.ts).
   */
  previous?: Prepared;
}

export interface Prepared {
  zone: Zone;
  signing?: ZoneSigning;
  keys?: ZoneKeys;
  /** Imported DNSKEY RDATA (other providers' keys) in the served set. */
  imported: Uint8Array[];
  /** Set for a pre-signed zone (served as given, no keys of ours): what its load found. */
  presigned?: PresignedSummary;
}

/** Builds one zone from its parsed file: keys and apex DNSSEC RRsets first when the zone is signed; a pre-signed zone as given. */
export async function prepareZone(loaded: LoadedZone, deps: ZoneLoaderDeps, opts: PrepareOptions = {}): Promise<Prepared> {
  const dnssec = loaded.config.dnssec;
  if (dnssec.presigned) return preparePresignedZone(loaded, deps);
  const origin = loaded.input.origin;
  // DNSKEY records in the data are other providers' keys (accepted only with multi_signer, see the loader):
  // they join the apex DNSKEY RRset below instead of being served as plain data.
  const importedRrs = loaded.input.records.filter((r) => r.type === RRType.DNSKEY && r.name.equals(origin));
  const data = { ...loaded, input: { ...loaded.input, records: loaded.input.records.filter((r) => !importedRrs.includes(r)) } };
  const signed = opts.signed ?? dnssec.enabled;
  if (!signed) {
    setServedSerial(data.input.records, [], loaded, opts);
    return { zone: buildLoadedZone(data), imported: [] };
  }

  const importedTags = new Set(importedRrs.map((r) => keyTag(r.rdata)));
  const range = dnssec.keyTagRange;
  const keys = await loadOrCreateZoneKeys(deps.stateDir, origin, {
    // Never generate a key whose tag equals an imported key's, nor one outside the zone's tag range.
    avoidTag: (tag) => importedTags.has(tag) || (range !== undefined && (tag < range[0] || tag > range[1])),
    clock: deps.clock,
  });
  if (keys.created) deps.logger.info({ zone: origin.toString(), ksk: keys.ksk.keyTag, zsk: keys.zsk.keyTag }, 'generated KSK and ZSK');

  const imported: Uint8Array[] = [];
  const own = keys.published.map((k) => k.dnskey);
  const ownExtra = own.filter((d) => !rdataEquals(d, keys.ksk.dnskey) && !rdataEquals(d, keys.zsk.dnskey));
  for (const rr of importedRrs) {
    try {
      checkImportedKey(rr.rdata, { zoneAlgorithm: ALG_ECDSAP256SHA256, force: dnssec.allowForeignAlgorithms, own });
    } catch (err) {
      if (err instanceof ImportError && loaded.config.secondary) {
        // A transferred DNSKEY set holds our own keys (the primary imported them) and may hold keys we refuse
        // (another algorithm, REVOKE during the primary's rollover): those are left out, the zone still loads.
        if (!own.some((k) => rdataEquals(k, rr.rdata))) loaded.warnings.push(`@ DNSKEY: transferred key ${keyTag(rr.rdata)} left out: ${err.message}`);
        continue;
      }
      if (err instanceof ImportError) {
        const line = loaded.locations.records.get(`${origin.key} ${RRType.DNSKEY}`);
        throw new ZoneFileError({ file: loaded.file, line, owner: '@', type: 'DNSKEY', reason: `imported key ${keyTag(rr.rdata)}: ${err.message}` });
      }
      throw err;
    }
    if (rr.ttl !== dnssec.dnskeyTtl) {
      loaded.warnings.push(`@ DNSKEY: imported key ${keyTag(rr.rdata)} has TTL ${rr.ttl}, the DNSKEY RRset is served with ${dnssec.dnskeyTtl} (zone.dnssec.dnskey_ttl)`);
    }
    if (keys.published.some((k) => k.keyTag === keyTag(rr.rdata))) {
      loaded.warnings.push(`@ DNSKEY: imported key tag ${keyTag(rr.rdata)} equals one of our key tags; validators will try both keys`);
    }
    imported.push(rr.rdata);
  }
  // CDS/CDNSKEY in the data are other providers' (multi-signer, change-context.ts checks them): published beside
  // the signer's. In a zone that is not multi-signer the signer's replace them, as before.
  const foreign = (type: number) => loaded.input.records.filter((r) => r.type === type && r.name.equals(origin)).map((r) => r.rdata);
  const foreignCds = foreign(RRType.CDS), foreignCdnskey = foreign(RRType.CDNSKEY);
  if (!dnssec.multiSigner && foreignCds.length + foreignCdnskey.length > 0) {
    loaded.warnings.push('@ CDS/CDNSKEY: records in the zone data are replaced by the signer\'s unless zone.dnssec.multi_signer is true');
  }
  if (dnssec.multiSigner && !loaded.config.secondary) {
    for (const [t, list] of [['CDS', foreignCds], ['CDNSKEY', foreignCdnskey]] as const) {
      for (const rdata of list) {
        const isOwn = t === 'CDNSKEY' ? own.some((k) => rdataEquals(k, rdata)) : own.some((k) => rdataEquals(dsRdata(origin, k, rdata[3] === 4 ? 4 : 2), rdata));
        if (isOwn) continue; // ours: published anyway
        try {
          checkForeignCds(t, rdata, { zoneAlgorithm: ALG_ECDSAP256SHA256, force: dnssec.allowForeignAlgorithms, own });
        } catch (err) {
          if (!(err instanceof ImportError)) throw err;
          const line = loaded.locations.records.get(`${origin.key} ${RRType[t]}`);
          throw new ZoneFileError({ file: loaded.file, line, owner: '@', type: t, reason: `another provider's ${t}: ${err.message}` });
        }
      }
    }
  }
  const sets = apexRrsets({
    zone: origin, keys, ownExtra, imported, importedChecked: true, dnskeyTtl: dnssec.dnskeyTtl,
    cds: opts.cds ?? 'publish', omitImportedKsks: dnssec.dnskeySet === 'own-ksk',
    ...(dnssec.multiSigner ? { foreignCds, foreignCdnskey } : {}),
  });
  const apex: RRset[] = [sets.dnskey, ...(sets.cds ? [sets.cds] : []), ...(sets.cdnskey ? [sets.cdnskey] : [])];
  // A zone transferred signed must get a new serial when another key starts signing (a rollover's switch), so
  // its secondaries receive the new RRSIGs: the signing keys join what the digest covers.
  const digestExtra = opts.digestExtra === undefined ? undefined : `${opts.digestExtra}:signers ${keys.ksk.keyTag} ${keys.zsk.keyTag}`;
  setServedSerial(data.input.records, apex, loaded, { ...opts, digestExtra });
  // NSEC3 zones publish NSEC3PARAM at the apex (RFC 5155 §4); it needs the SOA, so build once to learn it.
  let zone = buildLoadedZone(data, apex);
  if (dnssec.denial === 'nsec3' || dnssec.denial === 'nsec3-chain') zone = buildLoadedZone(data, [...apex, nsec3paramRrset(zone)]);
  const signing = createZoneSigning({
    zone: origin,
    ksk: new NodeSigner(keys.ksk),
    zsk: new NodeSigner(keys.zsk),
    clock: deps.clock,
    validity: dnssec.signatureValidity,
    cache: deps.cache,
    negativeTtl: zone.negativeSoa.ttl,
    observer: deps.signingObserver,
  });
  const kind = chainKind(dnssec.denial);
  // A small chain (dnssec/chain.ts SMALL_CHAIN_LINKS) is signed before the zone's other RRsets are presigned: every
  // denial answer reads it, and the cluster workers take it whole only once it is signed (server/chainpush.ts), after
  // which they answer names that do not exist themselves. Signed beside the presign, a 10,000-name zone's chain took
  // 1.6 s instead of a fraction of that, and the workers sent every such name to the primary meanwhile. A larger
  // chain is signed beside the presign: its first pass takes seconds, and answers need the RRsets too.
  const chainSigned = kind ? (await prepareChain(zone, signing, { kind, optOut: dnssec.nsec3OptOut }, opts.previous, deps)).signed : undefined;
  if (deps.presign) presignInBackground(zone, signing, deps.logger, deps.cache.capacity, signing.chain && signing.chain.stats.links <= SMALL_CHAIN_LINKS ? chainSigned : undefined);
  return { zone, signing, keys, imported };
}

/**
 * The next version of a zone after a change applied as a delta (manager.ts): `zone` is the previous version
 * patched (zone/patch.ts). Signing is the previous version's (same keys, window, and its memo of the RRSIGs
 * answers got, which stay valid for every RRset object the versions share), the changed RRsets and the new
 * SOA are presigned, and a chain zone's chain is patched at `changedNames` only. Nothing here is O(zone).
 */
export async function preparePatched(previous: Prepared, loaded: LoadedZone, zone: Zone, changed: { names: Name[]; rrsets: RRset[] }, deps: ZoneLoaderDeps): Promise<Prepared> {
  // The white-lie modes' name indexes (and the compact hints'), when the previous version has them: the changed names
  // only, not every name sorted (and hashed) again at the next negative answer.
  if (carryNameIndex(previous.zone, zone, changed.names)) carryNsec3Index(previous.zone, zone, changed.names);
  const prev = previous.signing as ZoneSigningImpl | undefined;
  if (!prev) return { zone, imported: previous.imported, keys: previous.keys };
  // Its own object (a chain is per version), the same closures: the cache and the memo are shared.
  const signing: ZoneSigningImpl = { ...prev, chain: undefined };
  if (deps.presign) {
    const sets = changed.rrsets.filter((set) => isCut(zone, set.name) ? set.type === RRType.DS : !atOrBelowCut(zone, set.name));
    presignChanged(signing, [zone.soa, ...(zone.negativeSoa !== zone.soa ? [zone.negativeSoa] : []), ...sets], deps.logger.child({ zone: zone.origin.toString() }));
  }
  const kind = chainKind(loaded.config.dnssec.denial);
  if (kind) await prepareChain(zone, signing, { kind, optOut: loaded.config.dnssec.nsec3OptOut }, previous, deps, changed.names);
  return { zone, signing, keys: previous.keys, imported: previous.imported };
}

function presignChanged(signing: ZoneSigningImpl, sets: RRset[], log: Logger): void {
  setImmediate(() => {
    signing.presign(sets).then(
      (r) => { for (const f of r.failed.slice(0, 5)) log.error({ owner: f.rrset.name.toString(), type: f.rrset.type, err: f.error.message }, 'presign failed'); },
      (err: unknown) => log.error({ err }, 'presign failed'),
    );
  });
}

/** A change's new links are signed before the version is served, when there are at most this many. */
const SIGN_BEFORE_SERVING = 1000;

/**
 * Builds the zone's NSEC/NSEC3 chain (`signing.chain`), patched from the previous version's when there is one.
 * The links a change made are signed before the zone is served (a handful: the changed names and their
 * predecessors); processes that answer queries sign the rest in the background (a whole chain after a first
 * load, a new key or TTL) and again each time the signing period turns. A link an answer needs before that is
 * signed then (DenialChain.rrsigs).
 */
async function prepareChain(zone: Zone, signing: ZoneSigningImpl, settings: ChainSettings, previous: Prepared | undefined, deps: ZoneLoaderDeps, changed?: Name[]): Promise<{ signed?: Promise<void> }> {
  const prev = previous?.signing?.chain;
  const chain = buildDenialChain(zone, signing, settings, prev ? { previous: { zone: previous!.zone, chain: prev }, changed } : {});
  signing.chain = chain;
  const log = deps.logger.child({ zone: zone.origin.toString() });
  const { links, made, full, examined, ms } = chain.stats;
  log.debug({ chain: settings.kind, links, made, full, examined, ms: Math.round(ms) }, full ? 'denial chain built' : 'denial chain patched');
  if (!full && made <= SIGN_BEFORE_SERVING) {
    const r = await chain.sign(chain.fresh);
    for (const f of r.failed.slice(0, 5)) log.error({ owner: f.rrset.name.toString(), err: f.error.message }, 'signing a chain link failed');
  }
  // (In an object: an async function's promise of a promise would wait for the inner one.)
  return { signed: deps.presign ? signChainInBackground(new WeakRef(chain), deps.clock, log) : undefined };
}

/**
 * Signs the links of a chain that have no RRSIG of the current period, then again when the period turns. Holds
 * the chain weakly: a version replaced by a newer one is not kept alive by its timer. Resolves when this pass is
 * done (also when it failed: the failure is logged).
 */
function signChainInBackground(ref: WeakRef<DenialChain>, clock: ZoneLoaderDeps['clock'], log: Logger): Promise<void> {
  return new Promise((done) => setImmediate(() => {
    const chain = ref.deref();
    if (!chain) return done();
    const started = Date.now();
    chain.sign().finally(done).then(
      (r) => {
        for (const f of r.failed.slice(0, 5)) log.error({ owner: f.rrset.name.toString(), err: f.error.message }, 'signing a chain link failed');
        if (r.signed > 0) log[r.signed >= 1000 ? 'info' : 'debug']({ chain: chain.kind, signed: r.signed, failed: r.failed.length, ms: Date.now() - started }, 'denial chain signed');
        // setTimeout holds at most 2^31-1 ms; a longer wait re-arms from there.
        const wait = Math.min(0x7fffffff, Math.max(1000, (chain.refreshAt() - clock.now()) * 1000 + 1000));
        setTimeout(() => void signChainInBackground(ref, clock, log), wait).unref();
      },
      (err: unknown) => log.error({ err }, 'signing the denial chain failed'),
    );
  }));
}

/**
 * Gives the SOA in `records` (a copy of the file's list) the serial opts.version decides for this content
 * (state/version.ts); the file's own records keep theirs.
 */
function setServedSerial(records: Rr[], apex: RRset[], loaded: LoadedZone, opts: PrepareOptions): void {
  if (!opts.version) return;
  const i = records.findIndex((r) => r.type === RRType.SOA);
  if (i < 0) return; // buildZone reports the missing SOA
  const soa = records[i];
  const fileSerial = soaSerial(soa.rdata);
  const legacy = () => legacyContentDigest(records, apex, loaded.input.settings, opts.digestExtra);
  const serial = opts.version(contentDigest(records, apex, loaded.input.settings, opts.digestExtra), fileSerial, legacy);
  if (serial !== fileSerial) records[i] = { ...soa, rdata: withSerial(soa.rdata, serial) };
}

/**
 * Fills the signature cache for a zone without holding up start-up or queries (presign yields between
 * batches); progress at info every 10% for zones of 1000+ RRsets. Signatures already cached (a reload of
 * an unchanged RRset) cost one hash each. Starts once `after` has settled, when given.
 */
function presignInBackground(zone: Zone, signing: ZoneSigningImpl, logger: Logger, capacity: number, after?: Promise<void>): void {
  // More signatures than the cache holds would only evict each other: sign the first `capacity` RRsets
  // (apex first); the rest are signed on first query and cached then.
  const items = authoritativeRrsets(zone).slice(0, capacity);
  const log = logger.child({ zone: zone.origin.toString() });
  let started = Date.now();
  const big = items.length >= 1000;
  let nextReport = 0.1;
  if (big) log.info({ rrsets: items.length }, 'presigning');
  const progress = (done: number, total: number) => {
    if (!big || done / total < nextReport || done === total) return;
    log.info({ done, total, percent: Math.floor((done / total) * 100) }, 'presigning');
    while (nextReport <= done / total) nextReport += 0.1;
  };
  const start = () => setImmediate(() => {
    started = Date.now();
    signing.presign(items, progress).then(
      (r) => {
        for (const f of r.failed.slice(0, 5)) log.error({ owner: f.rrset.name.toString(), type: f.rrset.type, err: f.error.message }, 'presign failed');
        log[big ? 'info' : 'debug']({ signed: r.signed, failed: r.failed.length, ms: Date.now() - started }, 'presigned');
      },
      (err: unknown) => log.error({ err }, 'presign failed'),
    );
  });
  // After the chain's first pass when the caller gives it (prepareZone: a small chain first).
  if (after) void after.then(start);
  else start();
}
