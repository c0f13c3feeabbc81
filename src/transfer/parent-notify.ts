// Generalized NOTIFY to the parent (RFC 9859 §4): when a zone's CDS/CDNSKEY RRsets change, the parent's DSYNC
// target for CDS is told (NOTIFY with QTYPE CDS), and when its NS RRset or CSYNC changes while a CSYNC is
// published, the target for CSYNC is (QTYPE CSYNC), so a DS or delegation update needs no polling. The
// endpoint is looked up through the parent resolver (dsync.ts); NOTIFY goes over UDP with retries
// (notify.ts); a lookup or NOTIFY that fails is tried again a bounded number of times, and a newer change of
// the same kind cancels the rounds of an older one. Each outcome is one log line and one entry of `recent()`.
import type { Logger } from 'pino';
import type { Endpoint } from '../config/server.js';
import { formatEndpoint } from '../config/server.js';
import type { Name } from '../dns/name.js';
import { RRType, typeName } from '../dns/types.js';
import type { Clock } from '../dnssec/types.js';
import type { ZoneVersion } from '../state/zone-version.js';
import { findDsync } from './dsync.js';
import { sendNotify } from './notify.js';

export interface ParentNotifyDeps {
  /** The manager's version announcements (state/manager.ts onVersion). */
  onVersion(listener: (next: ZoneVersion, prev: ZoneVersion | undefined) => void): void;
  /** Where `_dsync` and the target's addresses are asked (the server's parent-resolver). */
  resolver: Endpoint;
  clock: Clock;
  logger: Logger;
  /** NOTIFY tuning (tests). */
  notify?: { tries?: number; timeoutMs?: number };
  /** Waits before each further round after a failed one, ms (default 1 min, 5 min, 30 min: four rounds in all). */
  retryDelaysMs?: number[];
  /** Per DNS question of the DSYNC lookup, ms. */
  lookupTimeoutMs?: number;
}

export interface ParentNotifyEvent {
  at: string;
  zone: string;
  /** CDS or CSYNC. */
  type: string;
  /** `sent` (the target answered NOERROR), `failed` (retried while rounds are left), `no-dsync` (the parent publishes no endpoint), `cancelled`. */
  result: 'sent' | 'failed' | 'no-dsync' | 'cancelled';
  target?: string;
  reason?: string;
  round: number;
}

const DEFAULT_RETRIES = [60_000, 300_000, 1_800_000];
const KEEP_EVENTS = 200;

/** The apex RRset of `type` as served (CDS/CDNSKEY are the signer's, NS the served set), as one comparable text. */
function apexKey(v: ZoneVersion, type: number): string {
  const set = type === RRType.NS ? v.zone.apexNs : v.zone.nodes.get(v.origin.key)?.rrsets.get(type);
  return (set?.rdatas ?? []).map((r) => Buffer.from(r).toString('hex')).sort().join(',');
}

/** What changed between two versions that the parent acts on: CDS (CDS/CDNSKEY) and CSYNC (NS, CSYNC). */
export function parentChanges(next: ZoneVersion, prev: ZoneVersion): number[] {
  const out: number[] = [];
  if (apexKey(next, RRType.CDS) !== apexKey(prev, RRType.CDS) || apexKey(next, RRType.CDNSKEY) !== apexKey(prev, RRType.CDNSKEY)) out.push(RRType.CDS);
  const csync = apexKey(next, RRType.CSYNC);
  // Without a CSYNC the parent has nothing to copy from (RFC 7477 §2): NOTIFY(CSYNC) would only make it look.
  if (csync !== '' && (csync !== apexKey(prev, RRType.CSYNC) || apexKey(next, RRType.NS) !== apexKey(prev, RRType.NS))) out.push(RRType.CSYNC);
  return out;
}

export class ParentNotifier {
  private readonly rounds = new Map<string, AbortController>();
  private readonly events: ParentNotifyEvent[] = [];
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly deps: ParentNotifyDeps) {
    this.log = deps.logger.child({ component: 'parent-notify' });
    deps.onVersion((next, prev) => this.onVersion(next, prev));
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.rounds.values()) a.abort();
    this.rounds.clear();
  }

  /** The latest outcomes (newest last), of one zone or all. */
  recent(zone?: Name): ParentNotifyEvent[] {
    const key = zone?.toString();
    return this.events.filter((e) => key === undefined || e.zone === key);
  }

  private onVersion(next: ZoneVersion, prev: ZoneVersion | undefined): void {
    // A zone new to this process (start, reload) may not have changed at all: nothing to tell.
    if (this.stopped || !prev || !next.available || !prev.available || next.config.secondary) return;
    for (const type of parentChanges(next, prev)) this.start(next.origin, type);
  }

  /** Tells the parent about a change of `type` now (also `tandem` tests); cancels the rounds of an older one. */
  start(zone: Name, type: number): void {
    const key = `${zone.key}|${type}`;
    this.rounds.get(key)?.abort();
    const abort = new AbortController();
    this.rounds.set(key, abort);
    void this.run(zone, type, abort.signal).finally(() => {
      if (this.rounds.get(key) === abort) this.rounds.delete(key);
    });
  }

  private record(e: Omit<ParentNotifyEvent, 'at'>): void {
    this.events.push({ at: new Date(this.deps.clock.now() * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...e });
    if (this.events.length > KEEP_EVENTS) this.events.splice(0, this.events.length - KEEP_EVENTS);
  }

  private async run(zone: Name, type: number, signal: AbortSignal): Promise<void> {
    const delays = this.deps.retryDelaysMs ?? DEFAULT_RETRIES;
    const t = typeName(type);
    const log = this.log.child({ zone: zone.toString(), type: t });
    for (let round = 1; round <= delays.length + 1; round++) {
      if (signal.aborted || this.stopped) return;
      const found = await findDsync(this.deps.resolver, zone, type, { timeoutMs: this.deps.lookupTimeoutMs });
      if (signal.aborted || this.stopped) return;
      let failed: string | undefined;
      if (!found.ok) {
        if (/^no DSYNC/.test(found.reason)) {
          // RFC 9859 §4.1: a parent without an endpoint takes no notifications; nothing to retry.
          log.info({ resolver: formatEndpoint(this.deps.resolver), reason: found.reason }, `NOTIFY(${t}) not sent: the parent publishes no DSYNC endpoint`);
          this.record({ zone: zone.toString(), type: t, result: 'no-dsync', reason: found.reason, round });
          return;
        }
        failed = `DSYNC lookup: ${found.reason}`;
      } else {
        const results = await Promise.all(found.targets.map(async (target) => {
          const label = formatEndpoint({ host: target.host, port: target.port });
          const r = await sendNotify({ host: target.host, port: target.port }, zone, undefined, { clock: this.deps.clock, logger: log, signal, qtype: type, ...this.deps.notify });
          if (r.ok) {
            log.info({ target: label, dsync: target.target.toString(), round }, `NOTIFY(${t}) sent to the parent's DSYNC target`);
            this.record({ zone: zone.toString(), type: t, result: 'sent', target: label, round });
            return true;
          }
          if (r.reason === 'cancelled') return true;
          this.record({ zone: zone.toString(), type: t, result: 'failed', target: label, reason: r.reason, round });
          failed = `${label}: ${r.reason}`;
          return false;
        }));
        if (results.every(Boolean)) return;
      }
      const wait = delays[round - 1];
      log.warn({ reason: failed, round, retryInMs: wait ?? null }, wait === undefined ? `NOTIFY(${t}) to the parent failed; giving up` : `NOTIFY(${t}) to the parent failed; retrying`);
      if (!found.ok) this.record({ zone: zone.toString(), type: t, result: 'failed', reason: failed, round });
      if (wait === undefined) return;
      await sleep(wait, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref?.();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
