// Rollovers as the server runs them: `start` publishes the new key (through the zone manager) and writes the
// state; a timer advances every rollover in progress (machine.ts), writing the state after each poll that moved
// or learned something, so a restart resumes at the step it was in. The admin API and `tandem rollover` read
// `status`. Runs in the process that owns the zone manager (the single process, or the cluster primary).
import type { Logger } from 'pino';
import { Name } from '../dns/name.js';
import { formatRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import { keyTag } from '../dnssec/keys.js';
import { authoritativeRrsets } from '../dnssec/zonesigning.js';
import type { Clock } from '../dnssec/types.js';
import { addPublishedKey, isPublished, setKeyTimes, signingKeys, type StoredKey } from '../state/keystore.js';
import type { ZoneVersion } from '../state/zone-version.js';
import { AdminError } from '../state/types.js';
import { advance, describe, type ParentPoll, type ProviderPoll, type RolloverEnv, type RolloverStatus } from './machine.js';
import { readRollovers, writeRollover, providerText, type Rollover, type RolloverKind } from './state.js';

/** What the rollover needs of the zone manager (TandemZoneManager implements it). */
export interface RolloverZones {
  version(origin: Name): ZoneVersion | undefined;
  versions(): ZoneVersion[];
  rekey<T>(zoneId: string, edit: (origin: Name) => Promise<T>): Promise<T>;
}

/** The DNS side, given by the server (probe.ts) or by a test. */
export interface RolloverProbes {
  /** Each provider's DNSKEY RRset: `providers` as given at start, or (empty) the zone's apex NS hosts. */
  providers(zone: Name, providers: string[], apexNs: Name[]): Promise<ProviderPoll[]>;
  /** The zone's DS RRset at the parent. */
  parentDs(zone: Name): Promise<ParentPoll>;
}

export interface RolloverOptions {
  zones: RolloverZones;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  probes: RolloverProbes;
}

export interface RolloverView extends RolloverStatus {
  rollover: Rollover;
}

/** What a rollover start refuses, as the admin API's 400. */
function refuse(message: string): never {
  throw new AdminError(1004, 400, message);
}

function dnskeyText(zone: Name, ttl: number, rdata: Uint8Array): string {
  return `${zone.toString()} ${ttl} IN DNSKEY ${formatRdata(RRType.DNSKEY, rdata)}`;
}

/** The largest TTL of anything the zone signs, and the negative TTL (RFC 7583 Pre-Publication: TTLsig). */
export function maxSignedTtl(v: ZoneVersion): number {
  let max = Math.max(v.config.dnssec.dnskeyTtl, v.zone.negativeSoa.ttl);
  for (const set of authoritativeRrsets(v.zone)) if (set.ttl > max) max = set.ttl;
  return max;
}

export class RolloverService {
  private readonly byZone = new Map<string, Rollover>();
  /** Zones whose rollover is being started (its new key published, its state not written yet). */
  private readonly starting = new Set<string>();
  private running = false;
  private timer?: NodeJS.Timeout;

  private constructor(private readonly opts: RolloverOptions) {}

  /** Reads the rollovers persisted in the state folder (resumed where they were). */
  static async open(opts: RolloverOptions): Promise<RolloverService> {
    const s = new RolloverService(opts);
    for (const r of await readRollovers(opts.stateDir)) s.byZone.set(Name.fromText(r.zone).key, r);
    return s;
  }

  /** Advances every rollover every `intervalSeconds` (the DNS polls of the waiting steps). */
  startTimer(intervalSeconds: number): { stop(): void } {
    const run = () => void this.tick().catch((err: unknown) => this.opts.logger.error({ err }, 'rollover step failed'));
    this.timer = setInterval(run, intervalSeconds * 1000);
    this.timer.unref();
    setImmediate(run);
    return { stop: () => clearInterval(this.timer) };
  }

  private versionOf(zoneId: string): ZoneVersion {
    const v = this.opts.zones.versions().find((x) => x.id === zoneId);
    if (!v) throw new AdminError(7003, 404, `Could not route to /zones/${zoneId}, perhaps your object identifier is invalid?`);
    return v;
  }

  private facts(v: ZoneVersion): { dnskeyTtl: number; maxTtl: number } {
    return { dnskeyTtl: v.config.dnssec.dnskeyTtl, maxTtl: maxSignedTtl(v) };
  }

  /** The zone's rollover (the last one, also when done) in words; undefined when it never had one. */
  status(zoneId: string): RolloverView | undefined {
    const v = this.versionOf(zoneId);
    const r = this.byZone.get(v.origin.key);
    return r && { rollover: r, ...describe(r, this.opts.clock.now(), this.facts(v)) };
  }

  /**
   * Starts a rollover of the zone's ZSK or KSK: the new key is published now (not signing) and the state written.
   * Refused while another rollover of the zone is in progress, and for zones not signed with our keys.
   */
  async start(zoneId: string, kind: RolloverKind, providers: string[] = []): Promise<RolloverView> {
    const v = this.versionOf(zoneId);
    const origin = v.origin;
    const cur = this.byZone.get(origin.key);
    if (this.starting.has(origin.key)) refuse(`${origin}: a rollover is being started`);
    if (cur && cur.step !== 'done') refuse(`${origin} has a ${cur.kind.toUpperCase()} rollover in progress (step ${cur.step}); one rollover at a time`);
    if (!v.keys || v.presigned || v.config.secondary) refuse(`${origin} is not signed with tandem's keys (DNSSEC off, pre-signed or secondary): nothing to roll`);
    let list: string[];
    try {
      list = providers.map(providerText);
    } catch (err) {
      refuse(`provider: ${(err as Error).message}`);
    }
    const now = () => this.opts.clock.now();
    const range = v.config.dnssec.keyTagRange;
    // Like the first key set (prepare.ts): never an imported key's tag, never outside the zone's tag range.
    const avoidTag = (t: number) => v.imported.some((d) => keyTag(d) === t) || (range !== undefined && (t < range[0] || t > range[1]));
    this.starting.add(origin.key);
    try {
      return await this.publishNew(zoneId, v, kind, list, now, avoidTag);
    } finally {
      this.starting.delete(origin.key);
    }
  }

  private async publishNew(zoneId: string, v: ZoneVersion, kind: RolloverKind, list: string[], now: () => number, avoidTag: (t: number) => boolean): Promise<RolloverView> {
    const origin = v.origin;
    const { oldKey, newKey } = await this.opts.zones.rekey(zoneId, async () => {
      const keys = v.keys!.keys;
      const signing = signingKeys(keys, now())[kind]!;
      // A key of this role published and never signing is the new key of a start that crashed before its state
      // was written: adopt it rather than publish another.
      const pending = keys.find((k) => k.role === kind && k !== signing && k.times.activate === undefined && k.times.publish !== undefined
        && k.times.inactive === undefined && isPublished(k, now()));
      const fresh: StoredKey = pending ?? await addPublishedKey(this.opts.stateDir, origin, kind, { clock: this.opts.clock, avoidTag });
      return { oldKey: signing, newKey: fresh };
    });
    const ttl = v.config.dnssec.dnskeyTtl;
    const t = now();
    const r: Rollover = {
      version: 1, zone: origin.toString(), kind, step: 'publish',
      oldTag: oldKey.key.keyTag, newTag: newKey.key.keyTag,
      oldDnskey: dnskeyText(origin, ttl, oldKey.key.dnskey), newDnskey: dnskeyText(origin, ttl, newKey.key.dnskey),
      oldKey: Buffer.from(oldKey.key.dnskey).toString('base64'), newKey: Buffer.from(newKey.key.dnskey).toString('base64'),
      startedAt: t, stepSince: t, providers: list,
    };
    await writeRollover(this.opts.stateDir, origin, r);
    this.byZone.set(origin.key, r);
    this.opts.logger.info({ zone: origin.toString(), kind, oldTag: r.oldTag, newTag: r.newTag }, `${kind.toUpperCase()} rollover started: new key published`);
    return this.status(zoneId)!;
  }

  /** Advances every rollover in progress as far as it can go now (each transition goes through the zone manager). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const [key, r] of [...this.byZone]) {
        if (r.step === 'done') continue;
        try {
          await this.advanceOne(key, r);
        } catch (err) {
          this.opts.logger.error({ zone: r.zone, step: r.step, err }, 'rollover step failed; retried at the next poll');
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async advanceOne(key: string, r: Rollover): Promise<void> {
    const origin = Name.fromText(r.zone);
    for (let i = 0; i < 4; i++) {
      const v = this.opts.zones.version(origin);
      // Not served (removed, failing) or no longer signed with our keys (DNSSEC turned off): the rollover waits.
      if (!v?.keys) return;
      const env = this.env(v);
      const { rollover, moved } = await advance(r, env);
      if (rollover !== r) {
        await writeRollover(this.opts.stateDir, origin, rollover);
        this.byZone.set(key, rollover);
      }
      if (!moved) return;
      const st = describe(rollover, this.opts.clock.now(), this.facts(this.opts.zones.version(origin) ?? v));
      this.opts.logger.info({ zone: r.zone, kind: r.kind, step: rollover.step, waitingFor: st.waitingFor }, `${r.kind.toUpperCase()} rollover: ${rollover.step}`);
      r = rollover;
    }
  }

  private env(v: ZoneVersion): RolloverEnv {
    const clock = this.opts.clock;
    const at = () => Math.floor(clock.now());
    return {
      now: () => clock.now(),
      zone: () => this.facts(this.opts.zones.version(v.origin) ?? v),
      pollProviders: (r) => this.opts.probes.providers(v.origin, r.providers, v.zone.apexNs.rdatas.map((d) => Name.read(d, 0).name)),
      parentDs: () => this.opts.probes.parentDs(v.origin),
      switchKeys: (r) => this.opts.zones.rekey(v.id, async (origin) => {
        // The new key signs (newest Activate wins, keystore.ts); the old one stops signing and stays published.
        await setKeyTimes(this.opts.stateDir, origin, r.newTag, { activate: at() });
        await setKeyTimes(this.opts.stateDir, origin, r.oldTag, { inactive: at() });
      }),
      removeOld: (r) => this.opts.zones.rekey(v.id, async (origin) => {
        await setKeyTimes(this.opts.stateDir, origin, r.oldTag, { inactive: at(), delete: at() });
      }),
    };
  }
}
