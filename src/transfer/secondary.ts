// The secondary side of zone transfers (issue 11): for each zone with `zone.secondary`, refresh from its
// primaries on the SOA timers (RFC 1034 §4.3.5, RFC 1035 §3.3.13: REFRESH, RETRY, EXPIRE) and whenever a
// primary sends NOTIFY (RFC 1996 §3.11), by IXFR when we hold a version and AXFR otherwise. A transfer goes
// through the zone manager (applyTransfer: validated, written, swapped, announced); one that fails changes
// nothing and is logged with the primary, the serial and the reason. Runs in the process that owns the
// manager (the single process, or the cluster primary).
import type { Logger } from 'pino';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import type { Rr } from '../dns/rr.js';
import type { Keyring, TsigKey } from '../dns/tsig.js';
import type { Clock } from '../dnssec/types.js';
import type { RemoteServer } from '../config/transfer-settings.js';
import type { TandemZoneManager, ZoneVersion } from '../state/manager.js';
import type { SecondaryStatusView } from '../state/types.js';
import { readCopy, readMeta, writeMeta, type SecondaryMeta } from '../state/secondary-store.js';
import { soaSerial } from '../state/version.js';
import { serialNewer } from './serial.js';
import { applyChanges, fetchZone, querySoa, XfrError, type ClientOptions, type Primary } from './client.js';
import type { Change } from './journal.js';

export interface SecondaryDeps {
  manager: TandemZoneManager;
  keyring: Keyring;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  /** Client timeouts (tests shorten them). */
  client?: Omit<ClientOptions, 'clock'>;
  /** Retry delay (seconds) while a zone has never been transferred (no SOA RETRY known yet); default 10. */
  firstRetry?: number;
  /** Told of each refresh's outcome (metrics). */
  observer?: TransferObserver;
}

/** Transfers as the metrics count them (metrics/registry.ts). */
export interface TransferObserver {
  /**
   * One refresh of a secondary zone from one primary: the zone transferred in full (AXFR, or IXFR answered
   * with the whole zone) or by increments, found current, or failed (the next primary is tried).
   */
  transferIn(zone: Name, result: 'full' | 'incremental' | 'current' | 'failed'): void;
  /** One AXFR/IXFR request answered (`zone` undefined: not a zone of ours); `result`: the answer's body or rcode. */
  transferOut(zone: Name | undefined, kind: 'AXFR' | 'IXFR', result: 'full' | 'incremental' | 'soa-only' | 'refused' | 'notauth' | 'servfail' | 'formerr' | 'notimp'): void;
  /** One UPDATE forwarded to a primary (RFC 2136 §6): `result` the primary's rcode (lower case), or `unreachable`. */
  updateForwarded(zone: Name, result: string): void;
}

/** What the API and CLI show of a secondary zone (state/types.ts). */
export type SecondaryStatus = SecondaryStatusView;

interface ZoneTimers {
  origin: Name;
  timer?: NodeJS.Timeout;
  expiry?: NodeJS.Timeout;
  running?: Promise<void>;
  /** A NOTIFY came while a refresh ran (RFC 1996 §4.4): refresh again when it ends. */
  again: boolean;
  /** The primary that sent the last NOTIFY: asked first. */
  hint?: RemoteServer;
  nextRefresh?: number;
  meta?: SecondaryMeta;
}

const MAX_TIMEOUT = 0x7fffffff;
const iso = (s: number | undefined) => (s === undefined ? undefined : new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const fmt = (p: RemoteServer) => `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;

/** SOA REFRESH, RETRY, EXPIRE (RFC 1035 §3.3.13) of SOA RDATA. */
function timers(soa: Uint8Array): { refresh: number; retry: number; expire: number } {
  let o = 0;
  for (let n = 0; n < 2; n++) {
    while (soa[o] !== 0) o += soa[o] + 1;
    o++;
  }
  const u32 = (at: number) => ((soa[at] << 24) | (soa[at + 1] << 16) | (soa[at + 2] << 8) | soa[at + 3]) >>> 0;
  return { refresh: u32(o + 4), retry: u32(o + 8), expire: u32(o + 12) };
}

export class SecondaryScheduler {
  private zones = new Map<string, ZoneTimers>();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly deps: SecondaryDeps) {
    this.log = deps.logger.child({ component: 'secondary' });
  }

  /** Starts the timers of every secondary zone: a zone never transferred, or due, refreshes now. */
  async start(): Promise<void> {
    for (const v of this.deps.manager.secondaries()) await this.track(v);
  }

  /** Picks up secondary zones added by a reload, forgets removed ones. */
  async sync(): Promise<void> {
    const now = new Set<string>();
    for (const v of this.deps.manager.secondaries()) {
      now.add(v.origin.key);
      if (!this.zones.has(v.origin.key)) await this.track(v);
    }
    for (const [k, z] of this.zones) if (!now.has(k)) { this.clear(z); this.zones.delete(k); }
  }

  stop(): void {
    this.stopped = true;
    for (const z of this.zones.values()) this.clear(z);
  }

  private clear(z: ZoneTimers): void {
    clearTimeout(z.timer);
    clearTimeout(z.expiry);
  }

  private async track(v: ZoneVersion): Promise<void> {
    const z: ZoneTimers = { origin: v.origin, again: false };
    this.zones.set(v.origin.key, z);
    z.meta = await readMeta(this.deps.stateDir, v.origin);
    const now = this.deps.clock.now();
    if (!v.available || !z.meta?.lastRefresh) return this.schedule(z, 0);
    const { refresh } = timers(v.zone.soa.rdatas[0]);
    this.schedule(z, Math.max(0, z.meta.lastRefresh + refresh - now));
    this.armExpiry(z);
  }

  /** A NOTIFY from `from` for this zone (accepted by the transfer service): refresh now (RFC 1996 §3.11). */
  notify(origin: Name, from: RemoteServer): void {
    const z = this.zones.get(origin.key);
    if (!z || this.stopped) return;
    z.hint = from;
    if (z.running) z.again = true;
    else this.schedule(z, 0);
  }

  /** Refreshes now and resolves when done (the API's force_axfr, tests). `axfr`: transfer the whole zone. */
  async refreshNow(origin: Name, opts: { axfr?: boolean } = {}): Promise<void> {
    const z = this.zones.get(origin.key);
    if (!z) throw new Error(`${origin} is not a secondary zone`);
    if (z.running) await z.running;
    clearTimeout(z.timer);
    await this.run(z, opts.axfr === true);
  }

  status(origin: Name): SecondaryStatus | undefined {
    const z = this.zones.get(origin.key);
    const v = this.deps.manager.version(origin);
    if (!z || !v?.config.secondary) return undefined;
    const m = z.meta;
    return {
      zone: origin.toString(),
      primaries: v.config.secondary.primaries.map(fmt),
      dnssec: v.config.secondary.dnssec,
      state: v.available ? 'serving' : m?.lastTransfer ? 'expired' : 'not transferred yet',
      ...(v.available ? { serial: v.serial } : m?.lastTransfer ? { serial: m.serial } : {}),
      ...(m?.primary ? { primary: m.primary } : {}),
      ...(m?.lastTransfer ? { lastTransfer: m.lastTransfer } : {}),
      ...(m?.lastRefresh ? { lastRefresh: iso(m.lastRefresh) } : {}),
      ...(z.nextRefresh ? { nextRefresh: iso(z.nextRefresh) } : {}),
      ...(m?.expiresAt ? { expiresAt: iso(m.expiresAt) } : {}),
      ...(m?.lastError ? { lastError: m.lastError } : {}),
      refreshing: z.running !== undefined,
    };
  }

  private schedule(z: ZoneTimers, seconds: number): void {
    if (this.stopped) return;
    clearTimeout(z.timer);
    z.nextRefresh = this.deps.clock.now() + seconds;
    z.timer = setTimeout(() => {
      if (seconds * 1000 > MAX_TIMEOUT) return this.schedule(z, seconds - MAX_TIMEOUT / 1000);
      void this.run(z, false);
    }, Math.min(seconds * 1000, MAX_TIMEOUT));
    z.timer.unref();
  }

  /** After EXPIRE without a successful refresh the zone is no longer served (the manager reads the meta). */
  private armExpiry(z: ZoneTimers): void {
    clearTimeout(z.expiry);
    const at = z.meta?.expiresAt;
    if (at === undefined || this.stopped) return;
    const ms = Math.max(0, (at - this.deps.clock.now()) * 1000);
    z.expiry = setTimeout(() => {
      if (ms > MAX_TIMEOUT) return this.armExpiry(z);
      this.log.warn({ zone: z.origin.toString(), expiredAt: iso(at) }, 'secondary zone expired: no refresh from any primary within SOA EXPIRE; answering SERVFAIL until a transfer succeeds');
      void this.deps.manager.reloadSecondary(z.origin);
    }, Math.min(ms + 50, MAX_TIMEOUT));
    z.expiry.unref();
  }

  private run(z: ZoneTimers, forceAxfr: boolean): Promise<void> {
    if (z.running) return z.running;
    const work = this.refresh(z, forceAxfr).catch((err: unknown) => this.log.error({ err, zone: z.origin.toString() }, 'refresh failed unexpectedly'));
    z.running = work.finally(() => {
      z.running = undefined;
      if (z.again && !this.stopped) {
        z.again = false;
        this.schedule(z, 0);
      }
    });
    return z.running;
  }

  private primaries(v: ZoneVersion, hint?: RemoteServer): { cfg: RemoteServer; p: Primary }[] {
    const list = v.config.secondary!.primaries;
    const ordered = hint ? [...list.filter((p) => p.host === hint.host && p.port === hint.port), ...list.filter((p) => p.host !== hint.host || p.port !== hint.port)] : list;
    const out: { cfg: RemoteServer; p: Primary }[] = [];
    for (const cfg of ordered) {
      let key: TsigKey | undefined;
      if (cfg.key !== undefined) {
        key = this.deps.keyring.byName(cfg.key);
        if (!key) {
          this.log.error({ zone: v.origin.toString(), primary: fmt(cfg), key: cfg.key }, 'TSIG key of this primary is not defined in the server config (tsig:); primary skipped');
          continue;
        }
      }
      out.push({ cfg, p: { host: cfg.host, port: cfg.port, key } });
    }
    return out;
  }

  /** One refresh: ask each primary in turn until one answers; transfer when it is newer. */
  private async refresh(z: ZoneTimers, forceAxfr: boolean): Promise<void> {
    const v = this.deps.manager.version(z.origin);
    if (!v?.config.secondary) return;
    const hint = z.hint;
    z.hint = undefined;
    const opts: ClientOptions = { clock: this.deps.clock, ...this.deps.client };
    const ours = v.available ? v.zone.soa : undefined;
    const haveSerial = ours ? soaSerial(ours.rdatas[0]) : undefined;
    const log = this.log.child({ zone: z.origin.toString() });
    let lastError: SecondaryMeta['lastError'];
    for (const { cfg, p } of this.primaries(v, hint)) {
      const at = fmt(cfg);
      try {
        const theirs = await querySoa(p, z.origin, opts);
        const serial = soaSerial(theirs.rdata);
        if (!forceAxfr && haveSerial !== undefined && !serialNewer(serial, haveSerial)) {
          log.debug({ primary: at, serial }, 'secondary zone is current');
          await this.succeeded(z, theirs, at);
          this.deps.observer?.transferIn(z.origin, 'current');
          return;
        }
        // IXFR from the version we serve (RFC 1995 §3: our SOA in the query's authority section).
        const have: Rr | undefined = forceAxfr || !ours ? undefined : { name: z.origin, type: RRType.SOA, class: ours.class, ttl: ours.ttl, rdata: ours.rdatas[0] };
        const got = await this.transfer(p, z.origin, have, log, at);
        if (!got) {
          await this.succeeded(z, theirs, at);
          this.deps.observer?.transferIn(z.origin, 'current');
          return;
        }
        let soa = got.soa;
        let meta = this.refreshed(z, soa, at, true);
        // An IXFR is applied to the served version as a delta when it can be (state/ixfr-delta.ts: a change costs the
        // change), else to our stored copy, else the whole zone comes by AXFR.
        let next = got.ixfr && await this.deps.manager.applyIxfr(z.origin, got.ixfr.soa, got.ixfr.changes, meta);
        let records = 0, incremental = got.incremental;
        if (!next) {
          const all = got.records ?? await this.ixfrOnCopy(p, z.origin, haveSerial!, got.ixfr!, log, at);
          if (soaSerial(all[0].rdata) !== soaSerial(soa.rdata)) {
            // The IXFR did not apply and the AXFR after it brought a newer version.
            soa = all[0];
            meta = this.refreshed(z, soa, at, true);
            incremental = false;
          }
          records = all.length;
          next = await this.deps.manager.applyTransfer(z.origin, all, meta);
        }
        z.meta = meta;
        log.info({ primary: at, from: haveSerial, serial: next.serial, ...(records ? { records } : { delta: true }) }, 'secondary zone transferred');
        this.deps.observer?.transferIn(z.origin, incremental ? 'incremental' : 'full');
        this.rearm(z, soa);
        return;
      } catch (err) {
        this.deps.observer?.transferIn(z.origin, 'failed');
        const reason = err instanceof XfrError ? err.message : (err as Error).message;
        lastError = { at: new Date(this.deps.clock.now() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), primary: at, reason };
        log.warn({ primary: at, serial: haveSerial, reason }, 'refresh from primary failed; the served copy stays');
      }
    }
    // Every primary failed: retry after SOA RETRY (RFC 1035 §3.3.13); the copy serves until EXPIRE.
    z.meta = { ...(z.meta ?? { serial: haveSerial ?? 0 }), ...(lastError ? { lastError } : {}) };
    await this.saveMeta(z);
    const retry = ours ? timers(ours.rdatas[0]).retry : this.deps.firstRetry ?? 10;
    this.schedule(z, Math.max(1, retry));
    if (z.meta.expiresAt !== undefined && this.deps.clock.now() >= z.meta.expiresAt) await this.deps.manager.reloadSecondary(z.origin);
  }

  /**
   * A transfer from `p`: by IXFR from `have` (the version we serve) when there is one, its changes; or the whole zone
   * (AXFR, or an IXFR answered AXFR-style). Undefined when the primary says we are current.
   */
  private async transfer(p: Primary, origin: Name, have: Rr | undefined, log: Logger, at: string): Promise<{ soa: Rr; records?: Rr[]; ixfr?: { soa: Rr; changes: Change[] }; incremental: boolean } | undefined> {
    if (have) {
      const r = await fetchZone(p, origin, have, { clock: this.deps.clock, ...this.deps.client });
      if (r.kind === 'current') return undefined;
      if (r.kind === 'full') return { soa: r.soa, records: r.records, incremental: false };
      return { soa: r.soa, ixfr: { soa: r.soa, changes: r.changes }, incremental: true };
    }
    const records = await this.axfr(p, origin, at);
    return { soa: records[0], records, incremental: false };
  }

  /** The whole zone by AXFR, SOA first. */
  private async axfr(p: Primary, origin: Name, at: string): Promise<Rr[]> {
    const r = await fetchZone(p, origin, undefined, { clock: this.deps.clock, ...this.deps.client });
    if (r.kind !== 'full') throw new XfrError(`AXFR from ${at} did not return the zone`);
    return r.records;
  }

  /**
   * The records after an IXFR the served version could not take as a delta: applied to our stored copy of the version
   * we serve, else (no such copy, or the IXFR does not apply to it) the whole zone by AXFR.
   */
  private async ixfrOnCopy(p: Primary, origin: Name, serial: number, ixfr: { soa: Rr; changes: Change[] }, log: Logger, at: string): Promise<Rr[]> {
    try {
      const copy = await readCopy(this.deps.stateDir, origin);
      // A copy of another version (a transfer written to disk whose next write failed, so it was never served) is
      // no base for it, and would pass for current.
      const soa = copy?.find((r) => r.type === RRType.SOA);
      if (!copy || !soa || soaSerial(soa.rdata) !== serial) throw new Error('no stored copy of the version served');
      return applyChanges(copy, ixfr.changes, ixfr.soa);
    } catch (err) {
      log.warn({ primary: at, reason: (err as Error).message }, 'IXFR does not apply to our copy; transferring the whole zone');
    }
    const records = await this.axfr(p, origin, at);
    // The AXFR may be of a newer version than the IXFR said: what it brings is what is applied.
    return records;
  }

  /** The refresh state after a primary answered (RFC 1034 §4.3.5: EXPIRE counts from the last good refresh). */
  private refreshed(z: ZoneTimers, soa: Rr, at: string, transferred: boolean): SecondaryMeta {
    const now = this.deps.clock.now();
    const meta: SecondaryMeta = {
      ...(z.meta ?? {}),
      serial: soaSerial(soa.rdata),
      primary: transferred ? at : z.meta?.primary ?? at,
      ...(transferred ? { lastTransfer: iso(now) } : {}),
      lastRefresh: now,
      expiresAt: now + timers(soa.rdata).expire,
    };
    delete meta.lastError;
    return meta;
  }

  /** A primary said we are current: persist the new timers; an expired copy is served again. */
  private async succeeded(z: ZoneTimers, soa: Rr, at: string): Promise<void> {
    const wasExpired = z.meta?.expiresAt !== undefined && this.deps.clock.now() >= z.meta.expiresAt;
    z.meta = this.refreshed(z, soa, at, false);
    await this.saveMeta(z);
    if (wasExpired) await this.deps.manager.reloadSecondary(z.origin);
    this.rearm(z, soa);
  }

  /**
   * Persists the refresh state. A write that fails (a full disk) is logged and refreshing goes on: the state
   * in memory is right, and a refresh that stopped here would never retry once space is back.
   */
  private async saveMeta(z: ZoneTimers): Promise<void> {
    try {
      await writeMeta(this.deps.stateDir, z.origin, z.meta!);
    } catch (err) {
      this.log.error({ zone: z.origin.toString(), err: (err as Error).message }, 'could not write the refresh state of a secondary zone; refreshing goes on');
    }
  }

  private rearm(z: ZoneTimers, soa: Rr): void {
    this.schedule(z, Math.max(1, timers(soa.rdata).refresh));
    this.armExpiry(z);
  }
}
