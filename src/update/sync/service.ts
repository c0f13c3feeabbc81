// Key sync with the other signers of a multi-signer zone (RFC 8901 model 2; issue 12): for every peer in a
// zone's `zone.sync`, tandem publishes its own keys there (the ZSK, the KSK when asked, the CDS/CDNSKEY of
// its KSK) and imports the peer's keys through the zone manager, held by `sync:<peer>` (state/claims.ts) and
// checked like every imported key. It runs at start, whenever our own keys change (the manager's onVersion),
// on each peer's interval, and on request (`tandem sync run`); a failure is retried sooner, with backoff.
// What differs between us and a peer (a key of ours it does not serve, a key of theirs refused, a ZSK we
// serve that it lacks: RFC 8901 §3) is logged when it changes and shown by the status. Removing a provider is
// removal.ts's state machine, stepped here. Runs in the process that owns the zone manager.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Endpoint } from '../../config/server.js';
import { describePeer, type SyncPeer } from '../../config/sync-settings.js';
import { Name } from '../../dns/name.js';
import type { RRset } from '../../dns/rr.js';
import { formatRdata, rdataEquals } from '../../dns/rdata.js';
import { RRClass, RRType, typeName } from '../../dns/types.js';
import type { Keyring } from '../../dns/tsig.js';
import { checkImportedKey, ImportError } from '../../dnssec/imported.js';
import { dsRdata, keyTag } from '../../dnssec/keys.js';
import type { Clock } from '../../dnssec/types.js';
import { checkRrset } from '../../lab/verify.js';
import { syncSource } from '../../state/claims.js';
import type { TandemZoneManager, ZoneVersion } from '../../state/manager.js';
import { queryDs } from '../../state/parentds.js';
import type { ParentNotifyEvent } from '../../transfer/parent-notify.js';
import { CloudflarePeer } from './cloudflare.js';
import { DdnsPeer } from './ddns.js';
import { Ns1Peer } from './ns1.js';
import { minus, SyncError, wanted, type OwnKeys, type PeerClient, type PeerKeys, type Publication } from './peer.js';
import { advance, startRemoval, waitingFor, type ParentDs } from './removal.js';
import { freshPeer, readSyncFile, writeSyncFile, type PeerState, type Published, type SyncFile } from './state.js';
import type { ReceivedNotify, SyncApi, SyncKeyView, SyncPeerView, SyncStatusView } from './types.js';

export interface SyncDeps {
  manager: TandemZoneManager;
  keyring: Keyring;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  /** Where token_env is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The parent resolver: the DS set that validates pulled keys and that a provider removal waits on. */
  resolver?: Endpoint;
  /** The parent-notify outcomes of a zone, for the status. */
  parentEvents?: (zone: Name) => ParentNotifyEvent[];
  /** Generalized NOTIFYs received as a parent, for the API. */
  received?: (zone: Name) => ReceivedNotify[];
  /** How often a removal in progress is checked, ms (default 60 s). */
  tickMs?: number;
  /** First wait after a failed sync, ms (default 30 s; doubles up to the peer's interval). */
  retryMs?: number;
  /** Per request to a peer, ms (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** How long stop() waits for the syncs under way, ms (default 3 s). */
  stopWaitMs?: number;
}

interface ZoneRun {
  queue: Promise<unknown>;
  timer?: NodeJS.Timeout;
  /** Our keys as last synced: a version whose keys differ starts a sync. */
  own?: string;
  failures: number;
  file?: SyncFile;
  /** The one read of the state file (`file` once it is done). */
  reading?: Promise<SyncFile>;
}

const b64 = (r: Uint8Array) => Buffer.from(r).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const toPublished = (p: Publication): Published => ({ dnskey: p.dnskey.map(b64), cds: p.cds.map(b64), cdnskey: p.cdnskey.map(b64) });
const fromPublished = (p: Published, ttl: number): Publication => ({ dnskey: p.dnskey.map(unb64), cds: p.cds.map(unb64), cdnskey: p.cdnskey.map(unb64), ttl });
const flagsOf = (r: Uint8Array) => (r[0] << 8) | r[1];
const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sameSet = (a: readonly Uint8Array[], b: readonly Uint8Array[]) => a.length === b.length && a.every((x) => b.some((y) => rdataEquals(x, y)));

/** Our own keys in a version, and whether the zone publishes CDS/CDNSKEY for our KSK now. */
function ownKeys(v: ZoneVersion): OwnKeys | undefined {
  if (!v.keys) return undefined;
  const cds = v.zone.nodes.get(v.origin.key)?.rrsets.get(RRType.CDS)?.rdatas ?? [];
  const ksk = v.keys.ksk.dnskey;
  const extra = v.keys.published.filter((k) => k !== v.keys!.ksk && k !== v.keys!.zsk).map((k) => k.dnskey);
  return { ksk, zsk: v.keys.zsk.dnskey, extra, cds: cds.some((r) => rdataEquals(r, dsRdata(v.origin, ksk, 2))) };
}

/**
 * The wait before the next sync after `failures` failed ones in a row (>= 1): `retryMs`, doubling with each
 * further failure, never longer than the peers' interval.
 */
export function retryDelay(failures: number, retryMs: number, intervalMs: number): number {
  return Math.min(intervalMs, retryMs * 2 ** Math.max(0, failures - 1));
}

/** A provider removal is under way in the zone. */
const removing = (f: SyncFile) => Object.values(f.peers).some((p) => p.removal && p.removal.step !== 'done');

const ownSignature = (o: OwnKeys | undefined) => (o ? `${b64(o.ksk)}|${b64(o.zsk)}|${(o.extra ?? []).map(b64).join(',')}|${o.cds}` : '');

export class SyncService implements SyncApi {
  private readonly runs = new Map<string, ZoneRun>();
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly deps: SyncDeps) {
    this.log = deps.logger.child({ component: 'sync' });
    deps.manager.onVersion((next) => this.onVersion(next));
  }

  /** The zones served already (the manager loaded them before this service existed): a first sync each. */
  start(): void {
    for (const v of this.deps.manager.versions()) this.onVersion(v);
  }

  /**
   * Stops the timers and resolves once the syncs under way have ended (they write the state folder), or after
   * `stopWaitMs` (default 3 s): a peer that does not answer must not hold up a shutdown for its timeouts.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.runs.values()) clearTimeout(r.timer);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.deps.stopWaitMs ?? 3000); });
    await Promise.race([Promise.all([...this.runs.values()].map((r) => r.queue)), bound]);
    clearTimeout(timer);
  }

  private zoneRun(origin: Name): ZoneRun {
    let r = this.runs.get(origin.key);
    if (!r) this.runs.set(origin.key, (r = { queue: Promise.resolve(), failures: 0 }));
    return r;
  }

  private onVersion(v: ZoneVersion): void {
    if (this.stopped || !v.available) return;
    const r = this.runs.get(v.origin.key);
    if (!v.config.sync) {
      if (!r) {
        // First sight of a zone without peers: a removal its sync state holds (a peer taken out of zone.sync
        // before its removal ended, then a restart) goes on.
        const run = this.zoneRun(v.origin);
        run.own = '';
        void this.file(v.origin).then((f) => { if (removing(f)) this.schedule(v.origin, 'removal', 0); })
          .catch((err: unknown) => this.log.error({ err, zone: v.origin.toString() }, 'key sync state unreadable'));
        return;
      }
      // No peers (any more): a removal still in progress keeps its ticks going (runZone decides).
      if (r.file && removing(r.file)) return;
      clearTimeout(r.timer);
      return;
    }
    const sig = ownSignature(ownKeys(v));
    const run = this.zoneRun(v.origin);
    if (run.own === sig) return;
    const first = run.own === undefined;
    run.own = sig;
    this.schedule(v.origin, first ? 'start' : 'our keys changed', 0);
  }

  private schedule(origin: Name, why: string, ms: number): void {
    if (this.stopped) return;
    const r = this.zoneRun(origin);
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      void this.enqueue(origin, () => this.runZone(origin, why)).catch((err: unknown) => this.log.error({ err, zone: origin.toString() }, 'key sync failed'));
    }, ms);
    r.timer.unref?.();
  }

  private enqueue<T>(origin: Name, fn: () => Promise<T>): Promise<T> {
    const r = this.zoneRun(origin);
    const p = r.queue.then(fn, fn);
    r.queue = p.catch(() => undefined);
    return p;
  }

  private async file(origin: Name): Promise<SyncFile> {
    const r = this.zoneRun(origin);
    // The read is shared: two callers at once (a status request during the first sync) must hold the same object,
    // or one of them would update a copy nobody reads.
    r.reading ??= readSyncFile(this.deps.stateDir, origin).then((f) => (r.file = f), (err: unknown) => { r.reading = undefined; throw err; });
    return r.reading;
  }

  // ---- one zone ---------------------------------------------------------------------------------

  /** Syncs every peer of the zone and steps the removals in progress; schedules the next run. */
  private async runZone(origin: Name, why: string): Promise<void> {
    const v = this.deps.manager.version(origin);
    if (!v || !v.available) return;
    const file = await this.file(origin);
    const peers = v.config.sync ?? [];
    const log = this.log.child({ zone: origin.toString() });
    log.debug({ why, peers: peers.map((p) => p.name) }, 'key sync');
    const ctx = new DsCache(this.deps.resolver, origin);
    let failed = false;
    for (const peer of peers) {
      if (this.stopped) return;
      const before = file.peers[peer.name] ?? freshPeer();
      if (before.removal) continue;
      // Worked on a copy: the status never shows a push without the pull that follows it.
      const st = structuredClone(before);
      const ok = await this.syncPeer(v, peer, st, ctx, log);
      file.peers[peer.name] = st;
      // A peer that differs (it may not have applied our push yet) is looked at again on the failure backoff, not
      // only after its interval.
      failed ||= !ok || st.differences.length > 0;
    }
    for (const [name, st] of Object.entries(file.peers)) {
      if (st.removal) await this.stepRemoval(origin, name, st, ctx, log);
      // A finished removal of a peer no longer configured is forgotten: the name may come back as a new peer.
      if (st.removal?.step === 'done' && !peers.some((p) => p.name === name)) delete file.peers[name];
    }
    await writeSyncFile(this.deps.stateDir, origin, file);
    const run = this.zoneRun(origin);
    run.failures = failed ? run.failures + 1 : 0;
    const interval = Math.min(...peers.map((p) => p.interval), 86400) * 1000;
    const inRemoval = removing(file);
    let next = interval;
    if (failed) next = retryDelay(run.failures, this.deps.retryMs ?? 30_000, interval);
    if (inRemoval) next = Math.min(next, this.deps.tickMs ?? 60_000);
    if (peers.length > 0 || inRemoval) this.schedule(origin, failed ? 'retry' : inRemoval ? 'removal' : 'interval', next);
  }

  private client(peer: SyncPeer, origin: Name): PeerClient {
    const timeoutMs = this.deps.timeoutMs ?? 10_000;
    if (peer.method === 'ddns') {
      const key = this.deps.keyring.byName(peer.key!);
      if (!key) throw new SyncError(`TSIG key ${peer.key} is not defined in the server config (tsig:)`);
      return new DdnsPeer({ host: peer.address!.host, port: peer.address!.port, key }, origin, this.deps.clock, timeoutMs);
    }
    const env = this.deps.env ?? process.env;
    const token = async (): Promise<string> => {
      const t = peer.token!;
      if ('env' in t) {
        const v = env[t.env]?.trim();
        if (!v) throw new SyncError(`the API token variable ${t.env} (token_env) is not set`);
        return v;
      }
      const v = (await readFile(t.file, 'utf8').catch((err: Error) => { throw new SyncError(`token_file ${t.file}: ${err.message}`); })).trim();
      if (!v) throw new SyncError(`token_file ${t.file} is empty`);
      return v;
    };
    const http = { baseUrl: peer.baseUrl!, token, timeoutMs, fetch: this.deps.fetch };
    return peer.method === 'cloudflare' ? new CloudflarePeer(http, origin, peer.zoneId) : new Ns1Peer(http, origin, peer.keySet ?? 'tandem');
  }

  /** Push, then pull, then what differs; true when both worked. */
  private async syncPeer(v: ZoneVersion, peer: SyncPeer, st: PeerState, ds: DsCache, zlog: Logger): Promise<boolean> {
    const log = zlog.child({ peer: peer.name });
    const now = this.deps.clock.now();
    const own = ownKeys(v);
    if (!own) return true;
    const ttl = v.config.dnssec.dnskeyTtl;
    const want = wanted(v.origin, own, peer, ttl);
    let client: PeerClient | undefined;
    try {
      client = this.client(peer, v.origin);
    } catch (err) {
      st.lastPush = { at: iso(now), ok: false, error: (err as Error).message };
    }
    if (client) {
      try {
        await client.publish(want, minus(fromPublished(st.published, ttl), want));
        if (!st.lastPush?.ok) log.info({ target: describePeer(peer) }, 'our keys are published at the peer');
        st.published = toPublished(want);
        st.ours = [...new Set([...st.ours, ...want.dnskey.map(b64)])];
        st.lastPush = { at: iso(now), ok: true };
      } catch (err) {
        st.lastPush = { at: iso(now), ok: false, error: (err as Error).message };
      }
    }
    let theirs: PeerKeys | undefined;
    let refused: { keyTag: number; reason: string }[] = [];
    if (client && peer.pull) {
      try {
        theirs = await client.keys();
        const validated = await this.validate(v, theirs, ds);
        const mine = [own.ksk, own.zsk, ...(own.extra ?? []), ...st.ours.map(unb64)];
        const candidates = theirs.dnskeys.filter((k) => !mine.some((m) => rdataEquals(m, k)));
        const accepted: Uint8Array[] = [];
        for (const k of candidates) {
          try {
            checkImportedKey(k, { zoneAlgorithm: own.ksk[3], force: v.config.dnssec.allowForeignAlgorithms, own: [own.ksk, own.zsk, ...(own.extra ?? [])] });
            accepted.push(k);
          } catch (err) {
            if (!(err instanceof ImportError)) throw err;
            refused.push({ keyTag: keyTag(k), reason: err.message });
          }
        }
        const source = syncSource(peer.name);
        if (!sameSet(this.deps.manager.keysHeldBy(v.id, source), accepted)) {
          const r = await this.deps.manager.setKeyClaims(v.id, source, accepted, ttl);
          refused = [...refused, ...r.refused];
          log.info({ added: r.added, released: r.released, refused: r.refused.map((x) => x.keyTag) }, 'the peer\'s keys imported');
        }
        st.lastPull = { at: iso(now), ok: true, validated, keys: theirs.dnskeys.map(b64) };
      } catch (err) {
        theirs = undefined;
        st.lastPull = { at: iso(now), ok: false, error: (err as Error).message, ...(st.lastPull?.keys ? { keys: st.lastPull.keys } : {}) };
      }
    }
    const diffs: string[] = [];
    if (st.lastPush && !st.lastPush.ok) diffs.push(`publishing our keys failed: ${st.lastPush.error}`);
    if (peer.pull && st.lastPull && !st.lastPull.ok) diffs.push(`reading the peer's keys failed: ${st.lastPull.error}`);
    for (const r of refused) diffs.push(`the peer's key ${r.keyTag} is not imported: ${r.reason}`);
    if (theirs && theirs.channel !== 'api' && st.lastPush?.ok) {
      // Over DNS the peer's whole DNSKEY RRset is seen: ours must be in it (a peer may take the UPDATE and drop
      // the keys: Knot without dnskey-management: incremental), and every ZSK we serve (RFC 8901 §3).
      for (const k of want.dnskey) {
        if (!theirs.dnskeys.some((t) => rdataEquals(t, k))) diffs.push(`the peer does not serve our ${flagsOf(k) === 257 ? 'KSK' : 'ZSK'} ${keyTag(k)} (it answered the UPDATE, but its DNSKEY RRset lacks the key)`);
      }
      for (const k of v.imported) {
        if (flagsOf(k) !== 256 || theirs.dnskeys.some((t) => rdataEquals(t, k))) continue;
        diffs.push(`the peer's DNSKEY RRset lacks ZSK ${keyTag(k)}, which we serve (RFC 8901 §3: every provider's ZSK in every DNSKEY RRset)`);
      }
    }
    if (diffs.join('\n') !== st.differences.join('\n')) {
      if (diffs.length) log.warn({ differences: diffs }, 'key sync: the peer and we differ');
      else if (st.differences.length) log.info('key sync: in sync with the peer again');
    }
    st.differences = diffs;
    return (st.lastPush?.ok ?? false) && (!peer.pull || (st.lastPull?.ok ?? false));
  }

  /**
   * How far the peer's keys can be trusted, or a SyncError when they must not be imported. Over DNS: the
   * answer was TSIG-signed (ddns.ts), the DNSKEY RRset must validate with its own keys, and when the parent
   * has a DS for one of its KSKs, with that KSK (RFC 4035 §5.2); over an API, the API's authentication.
   */
  private async validate(v: ZoneVersion, pk: PeerKeys, ds: DsCache): Promise<string> {
    if (!pk.rrsigs) return 'the peer\'s authenticated API';
    const now = this.deps.clock.now();
    const set: RRset = { name: v.origin, type: RRType.DNSKEY, class: RRClass.IN, ttl: 0, rdatas: pk.dnskeys };
    const self = checkRrset(set, pk.rrsigs, v.origin, pk.dnskeys, now);
    if (!self.ok) throw new SyncError(`the peer's DNSKEY RRset does not validate with its own keys: ${self.reason}`);
    const parent = await ds.get();
    if (!parent) return `TSIG; signed by its key ${self.by.keyTag} (no parent resolver: DS set unknown)`;
    if (!parent.ok) return `TSIG; signed by its key ${self.by.keyTag} (DS set unknown: ${parent.reason})`;
    const anchored = pk.dnskeys.filter((k) => flagsOf(k) & 1 && parent.ds.some((d) => rdataEquals(d, dsRdata(v.origin, k, d[3] === 4 ? 4 : 2))));
    if (anchored.length === 0) return `TSIG; signed by its key ${self.by.keyTag} (no DS at the parent for its KSKs yet)`;
    const r = checkRrset(set, pk.rrsigs, v.origin, anchored, now);
    if (!r.ok) throw new SyncError(`the peer's DNSKEY RRset is not signed by a KSK with a DS at the parent (${anchored.map(keyTag).join(', ')}): ${r.reason}`);
    return `DS at the parent for its KSK ${r.by.keyTag}`;
  }

  // ---- provider removal (removal.ts) --------------------------------------------------------------

  private async stepRemoval(origin: Name, name: string, st: PeerState, ds: DsCache, log: Logger): Promise<void> {
    const v = this.deps.manager.version(origin);
    if (!v || !st.removal) return;
    for (let i = 0; i < 4; i++) {
      const before = st.removal.step;
      const parentDs = before === 'wait-ds' ? await ds.get(true) : undefined;
      const a = advance(st.removal, { now: this.deps.clock.now(), origin, dnskeyTtl: v.config.dnssec.dnskeyTtl, parentDs });
      if (a.claims) await this.deps.manager.setKeyClaims(v.id, syncSource(name), a.claims.map(unb64), v.config.dnssec.dnskeyTtl);
      st.removal = a.removal;
      if (a.removal.step === before) break;
      log.info({ peer: name, step: a.removal.step, waitingFor: waitingFor(a.removal, this.deps.clock.now(), parentDs) }, 'provider removal: next step');
    }
  }

  async remove(zone: Name, peer: string, opts: { dsAbsent?: boolean }): Promise<SyncPeerView> {
    const v = this.deps.manager.version(zone);
    if (!v) throw new SyncError(`no zone ${zone}`);
    return this.enqueue(zone, async () => {
      const file = await this.file(zone);
      const held = this.deps.manager.keysHeldBy(v.id, syncSource(peer)).map(b64);
      const configured = v.config.sync?.some((p) => p.name === peer) ?? false;
      let st = file.peers[peer];
      if (!st?.removal) {
        if (!configured && held.length === 0) throw new SyncError(`no peer ${peer} in ${zone}: it is not in zone.sync and holds no key here`);
        st = file.peers[peer] ??= freshPeer();
        st.removal = startRemoval(held, this.deps.clock.now());
        this.log.info({ zone: zone.toString(), peer, ksks: st.removal.ksks.length, zsks: st.removal.zsks.length }, 'provider removal started (RFC 8901: DS first, then the keys)');
      }
      if (opts.dsAbsent && st.removal) st.removal.dsAbsent = true;
      const ds = new DsCache(this.deps.resolver, zone);
      await this.stepRemoval(zone, peer, st, ds, this.log.child({ zone: zone.toString() }));
      await writeSyncFile(this.deps.stateDir, zone, file);
      if (st.removal && st.removal.step !== 'done') this.schedule(zone, 'removal', this.deps.tickMs ?? 60_000);
      return this.peerView(v, peer, st, await ds.get(false));
    });
  }

  // ---- views ------------------------------------------------------------------------------------

  async status(zone: Name): Promise<SyncStatusView | undefined> {
    const v = this.deps.manager.version(zone);
    if (!v) return undefined;
    const file = await this.file(zone);
    const names = [...new Set([...(v.config.sync ?? []).map((p) => p.name), ...Object.keys(file.peers)])];
    return {
      zone: zone.toString(),
      peers: names.map((n) => this.peerView(v, n, file.peers[n] ?? freshPeer())),
      parentNotify: this.deps.parentEvents?.(zone) ?? [],
    };
  }

  async run(zone: Name): Promise<SyncStatusView | undefined> {
    if (!this.deps.manager.version(zone)) return undefined;
    await this.enqueue(zone, () => this.runZone(zone, 'asked'));
    return this.status(zone);
  }

  notifications(zone: Name): ReceivedNotify[] {
    return this.deps.received?.(zone) ?? [];
  }

  private peerView(v: ZoneVersion, name: string, st: PeerState, parentDs?: ParentDs): SyncPeerView {
    const peer = v.config.sync?.find((p) => p.name === name);
    const key = (type: number) => (s: string): SyncKeyView => {
      const r = unb64(s);
      return { type: typeName(type), keyTag: type === RRType.CDS ? (r[0] << 8) | r[1] : keyTag(r), ...(type !== RRType.CDS ? { flags: flagsOf(r) } : {}), rdata: formatRdata(type, r) };
    };
    const mine = [...(v.keys ? v.keys.published.map((k) => k.dnskey) : []), ...st.ours.map(unb64)];
    const state = st.removal ? (st.removal.step === 'done' ? 'removed' : 'removing')
      : !st.lastPush ? 'not synced yet'
      : !st.lastPush.ok || (peer?.pull && !st.lastPull?.ok) ? 'failing'
      : st.differences.length ? 'differs' : 'in sync';
    const now = this.deps.clock.now();
    return {
      name,
      method: peer?.method ?? '-',
      target: peer ? describePeer(peer) : '(not in zone.sync)',
      configured: peer !== undefined,
      ksk: peer?.ksk ?? false, cds: peer?.cds ?? false, pull: peer?.pull ?? false, interval: peer?.interval ?? 0,
      state,
      ...(st.lastPush ? { lastPush: st.lastPush } : {}),
      ...(st.lastPull ? { lastPull: { at: st.lastPull.at, ok: st.lastPull.ok, ...(st.lastPull.error ? { error: st.lastPull.error } : {}), ...(st.lastPull.validated ? { validated: st.lastPull.validated } : {}) } } : {}),
      published: [...st.published.dnskey.map(key(RRType.DNSKEY)), ...st.published.cds.map(key(RRType.CDS)), ...st.published.cdnskey.map(key(RRType.CDNSKEY))],
      theirKeys: (st.lastPull?.keys ?? []).map((s) => ({ ...key(RRType.DNSKEY)(s), ours: mine.some((m) => rdataEquals(m, unb64(s))) })),
      imported: this.deps.manager.keysHeldBy(v.id, syncSource(name)).map(keyTag),
      differences: st.differences,
      ...(st.removal ? {
        removal: {
          step: st.removal.step, waitingFor: waitingFor(st.removal, now, parentDs ?? (this.deps.resolver ? { ok: true, ds: [] } : undefined)),
          startedAt: iso(st.removal.startedAt), ...(st.removal.until !== undefined ? { until: iso(st.removal.until) } : {}),
        },
      } : {}),
    };
  }
}

/** The parent's DS set, asked at most once per run (or again when `fresh`). */
class DsCache {
  private answer?: Promise<ParentDs | undefined>;

  constructor(private readonly resolver: Endpoint | undefined, private readonly zone: Name) {}

  get(fresh = false): Promise<ParentDs | undefined> {
    if (!this.resolver) return Promise.resolve(undefined);
    if (fresh || !this.answer) this.answer = queryDs(this.resolver, this.zone);
    return this.answer;
  }
}
