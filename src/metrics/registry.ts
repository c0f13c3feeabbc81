// The Prometheus metrics of one tandem process (prom-client), with no global registry: two servers in one
// process keep their figures apart (STYLE habit 5). Hot-path figures (queries, cache hits) live in plain
// counters the request path increments (queries.ts, ResponseCache.stats) and become series only when
// scraped; the zone figures (serials, keys, signature horizons, secondaries) are read from the zone
// manager at scrape time, in the process that owns it. With --workers N the primary asks each worker for
// its figures (cluster.ts) and serves the sum (prom-client's AggregatorRegistry.aggregate).
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Name } from '../dns/name.js';
import type { Clock } from '../dnssec/types.js';
import type { SigningObserver, ZoneSigningImpl } from '../dnssec/zonesigning.js';
import type { TandemZoneManager } from '../state/manager.js';
import type { TransferObserver } from '../transfer/secondary.js';
import type { SecondaryStatusView, TransferApi } from '../state/types.js';
import type { LearnedDenial } from '../server/learned.js';
import type { ResponseCache } from '../server/respcache.js';
import type { Rrl, RrlCounts } from '../server/rrl.js';
import type { UdpListener } from '../server/udp.js';
import { RRL_CLASSES } from '../config/rrl.js';
import type { SigningBudget } from '../server/budget.js';
import type { AdminChange } from '../api/server.js';
import { QueryCounters, ZONE_OTHER } from './queries.js';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export interface MetricsOptions {
  clock: Clock;
  /** Node's process metrics (CPU, memory, event loop, GC) as prom-client's defaults; default true. */
  processMetrics?: boolean;
}

/** Signing latency buckets (seconds): one P-256 signature takes ~50 µs; the thread pool queues under load. */
const SIGNING_BUCKETS = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25];

const path = (background: boolean) => (background ? 'presign' : 'on_demand');

export class Metrics {
  readonly registry = new Registry();
  readonly queries = new QueryCounters();
  readonly signing: SigningObserver;
  readonly transfers: TransferObserver;
  private readonly caches: ResponseCache[] = [];
  private readonly learned: LearnedDenial[] = [];
  private readonly rrls: Rrl[] = [];
  private readonly udpListeners: UdpListener[] = [];
  private readonly budgets: SigningBudget[] = [];
  private readonly loadSeconds = new Map<string, number>();
  private readonly loads: Counter<'result'>;
  private readonly changes: Counter<'api' | 'kind' | 'result'>;
  private workers?: () => Promise<MetricsJson[]>;

  constructor(private readonly opts: MetricsOptions) {
    const registers = [this.registry];
    const q = this.queries;
    new Counter({
      name: 'tandem_queries_total', help: 'DNS queries answered, by zone (_other: none of ours), question type, rcode and transport (cached answers included)',
      labelNames: ['zone', 'type', 'rcode', 'transport'], registers,
      collect() {
        this.reset();
        for (const s of q.series()) this.inc({ zone: s.zone, type: s.type, rcode: s.rcode, transport: s.transport }, s.value);
      },
    });
    new Counter({
      name: 'tandem_queries_dropped_total', help: 'Messages dropped without an answer (not a query, too malformed to answer, or past a worker\'s bound on questions waiting for the primary)', registers,
      collect() { this.reset(); this.inc(q.dropped); },
    });
    const caches = this.caches;
    const sum = (f: (c: ResponseCache) => number) => caches.reduce((n, c) => n + f(c), 0);
    new Counter({
      name: 'tandem_response_cache_hits_total', help: 'Queries answered from the response cache', registers,
      collect() { this.reset(); this.inc(sum((c) => c.stats.hits)); },
    });
    new Counter({
      name: 'tandem_response_cache_misses_total', help: 'Cacheable queries not found in the response cache (hit ratio: hits / (hits + misses))', registers,
      collect() { this.reset(); this.inc(sum((c) => c.stats.misses)); },
    });
    new Gauge({
      name: 'tandem_response_cache_entries', help: 'Answers held in the response cache', registers,
      collect() { this.set(sum((c) => c.size)); },
    });

    const learned = this.learned;
    new Counter({
      name: 'tandem_learned_denials_total', help: 'NXDOMAIN answers a cluster worker made itself from NSEC3 chain records learned from earlier answers (nsec3-chain zones)', registers,
      collect() { this.reset(); this.inc(learned.reduce((n, l) => n + l.stats.answered, 0)); },
    });
    new Gauge({
      name: 'tandem_learned_chain_links', help: 'NSEC3 chain records cluster workers hold to answer names that do not exist', registers,
      collect() { this.set(learned.reduce((n, l) => n + l.stats.links, 0)); },
    });
    new Counter({
      name: 'tandem_learned_zones_total', help: 'Whole denial chains (or compact gaps) of a zone cluster workers took from the primary at once', registers,
      collect() { this.reset(); this.inc(learned.reduce((n, l) => n + l.stats.zones, 0)); },
    });
    new Counter({
      name: 'tandem_learned_patches_total', help: 'Changes of a zone\'s denial chain cluster workers took as what changed only, keeping the rest of the chain', registers,
      collect() { this.reset(); this.inc(learned.reduce((n, l) => n + l.stats.patched, 0)); },
    });

    // Batched UDP I/O (server/udpio.ts): the listeners that read with recvmmsg and answer with sendmmsg.
    const udp = this.udpListeners;
    const udpSum = (f: (s: { batches: number; received: number; sent: number }) => number) => udp.reduce((n, u) => n + (u.batchedStats ? f(u.batchedStats()) : 0), 0);
    new Counter({
      name: 'tandem_udp_batches_total', help: 'Reads of a UDP listener by recvmmsg (udp-io batched), each up to 32 datagrams', registers,
      collect() { this.reset(); this.inc(udpSum((s) => s.batches)); },
    });
    new Counter({
      name: 'tandem_udp_batched_datagrams_total', help: 'Datagrams read by recvmmsg (received) and answers sent by sendmmsg (sent) on batched UDP listeners', labelNames: ['direction'], registers,
      collect() {
        this.reset();
        this.inc({ direction: 'received' }, udpSum((s) => s.received));
        this.inc({ direction: 'sent' }, udpSum((s) => s.sent));
      },
    });

    // Response rate limiting (server/rrl.ts), when configured: by response class.
    const rrls = this.rrls;
    const rrlCounter = (name: string, help: string, pick: (c: RrlCounts) => Float64Array) => new Counter({
      name, help, labelNames: ['class'], registers,
      collect() {
        this.reset();
        if (rrls.length === 0) return;
        RRL_CLASSES.forEach((cls, i) => this.inc({ class: cls }, rrls.reduce((n, r) => n + pick(r.counts)[i], 0)));
      },
    });
    rrlCounter('tandem_rrl_dropped_total', 'UDP responses dropped by response rate limiting, by response class', (c) => c.dropped);
    rrlCounter('tandem_rrl_slipped_total', 'UDP responses sent truncated (TC=1, no records) by response rate limiting (slip), by response class', (c) => c.slipped);
    rrlCounter('tandem_rrl_log_only_total', 'UDP responses rate limiting would have dropped or slipped, sent in full (rrl log-only), by response class', (c) => c.logOnly);
    new Gauge({
      name: 'tandem_rrl_table_entries', help: 'Accounts (client prefix x response class x name) held by response rate limiting', registers,
      collect() { this.set(rrls.reduce((n, r) => n + r.size, 0)); },
    });

    const budgets = this.budgets;
    const budgetSum = (f: (b: SigningBudget) => number) => budgets.reduce((n, b) => n + f(b), 0);
    new Counter({
      name: 'tandem_signing_budget_refused_total', help: 'UDP queries that needed a fresh signature while the signing queue was full (signing-queue), answered TC=1 (action=truncated) or not at all (action=dropped)',
      labelNames: ['action'], registers,
      collect() {
        this.reset();
        this.inc({ action: 'truncated' }, budgetSum((b) => b.stats.truncated));
        this.inc({ action: 'dropped' }, budgetSum((b) => b.stats.dropped));
      },
    });
    new Gauge({
      name: 'tandem_signing_queue_waiting', help: 'Fresh signatures waiting in the signing queue now', registers,
      collect() { this.set(budgetSum((b) => b.waiting)); },
    });
    const signatures = new Counter({ name: 'tandem_signatures_total', help: 'RRSIG signatures made (on_demand: for answers and transfers; presign: ahead of queries at zone load)', labelNames: ['path'], registers });
    const signingErrors = new Counter({ name: 'tandem_signing_errors_total', help: 'Signatures that failed (the answer was SERVFAIL)', labelNames: ['path'], registers });
    const latency = new Histogram({ name: 'tandem_signing_seconds', help: 'Time to make one signature, thread-pool queueing included', labelNames: ['path'], buckets: SIGNING_BUCKETS, registers });
    for (const p of ['on_demand', 'presign']) {
      signatures.inc({ path: p }, 0);
      signingErrors.inc({ path: p }, 0);
    }
    this.signing = {
      signed: (seconds, background) => {
        signatures.inc({ path: path(background) });
        latency.observe({ path: path(background) }, seconds);
      },
      failed: (background) => signingErrors.inc({ path: path(background) }),
    };

    this.loads = new Counter({ name: 'tandem_zone_loads_total', help: 'Zone files read from the zones folder (start-up, SIGHUP), by result', labelNames: ['result'], registers });
    this.changes = new Counter({
      name: 'tandem_admin_changes_total', help: 'Admin API write requests (POST, PUT, PATCH, DELETE) by API, method and route, and result (ok, refused: 4xx, error: 5xx)',
      labelNames: ['api', 'kind', 'result'], registers,
    });
    const transfersIn = new Counter({
      name: 'tandem_transfers_in_total', help: 'Refreshes of secondary zones from a primary: full or incremental transfer, current (nothing newer), failed',
      labelNames: ['zone', 'result'], registers,
    });
    const transfersOut = new Counter({
      name: 'tandem_transfers_out_total', help: 'AXFR/IXFR requests answered, by zone (_other: not ours), kind and result (full, incremental, soa-only, or the error rcode)',
      labelNames: ['zone', 'kind', 'result'], registers,
    });
    const updatesForwarded = new Counter({
      name: 'tandem_updates_forwarded_total', help: 'UPDATEs for secondary zones forwarded to a primary (RFC 2136 §6), by zone and result (the primary\'s rcode, or unreachable)',
      labelNames: ['zone', 'result'], registers,
    });
    this.transfers = {
      transferIn: (zone, result) => transfersIn.inc({ zone: zone.key, result }),
      transferOut: (zone, kind, result) => transfersOut.inc({ zone: zone?.key ?? ZONE_OTHER, kind, result }),
      updateForwarded: (zone, result) => updatesForwarded.inc({ zone: zone.key, result }),
    };
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A zone file was read (ManagerOptions.onLoad). */
  readonly onLoad = (load: { zone?: Name; seconds: number; error?: Error }): void => {
    this.loads.inc({ result: load.error ? 'error' : 'ok' });
    if (load.zone) this.loadSeconds.set(load.zone.key, load.seconds);
  };

  /** An admin API write (ApiOptions.onChange). */
  readonly onChange = (change: AdminChange): void => {
    this.changes.inc({ api: change.api, kind: change.kind, result: change.result });
  };

  /** Exports the hit and miss counts of a response cache of this process. */
  watchCache(cache: ResponseCache): void {
    this.caches.push(cache);
  }

  /** Exports the counters of a worker's learned NSEC3 chains (server/learned.ts). */
  watchLearned(l: LearnedDenial): void {
    this.learned.push(l);
  }

  /** Exports the counters of this process's batched UDP listeners (server/udpio.ts). */
  watchUdp(listeners: readonly UdpListener[]): void {
    this.udpListeners.push(...listeners);
  }

  /** Exports the counters of a response rate limiter of this process. */
  watchRrl(rrl: Rrl): void {
    this.rrls.push(rrl);
  }

  /** Exports the counters of a signing budget of this process (server/budget.ts). */
  watchBudget(budget: SigningBudget): void {
    this.budgets.push(budget);
  }

  /** The zone figures, read from the manager at each scrape (the process that owns the manager). */
  watchManager(manager: TandemZoneManager, secondaries?: Pick<TransferApi, 'secondary'>): void {
    const registers = [this.registry];
    const clock = this.opts.clock;
    const versions = () => manager.versions();
    new Gauge({
      name: 'tandem_zone_up', help: '1 when the zone is served, 0 for a secondary zone not transferred yet or expired', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const v of versions()) this.set({ zone: v.origin.key }, v.available ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tandem_zone_serial', help: 'SOA serial served', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const v of versions()) if (v.available) this.set({ zone: v.origin.key }, v.serial);
      },
    });
    new Gauge({
      name: 'tandem_zone_records', help: 'Records in the zone as served (DNSSEC records made at load included)', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const v of versions()) if (v.available) this.set({ zone: v.origin.key }, v.zone.recordCount);
      },
    });
    const loadSeconds = this.loadSeconds;
    new Gauge({
      name: 'tandem_zone_load_seconds', help: 'How long the last read of the zone file took (start-up or SIGHUP: parse, build, keys)', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const v of versions()) {
          const s = loadSeconds.get(v.origin.key);
          if (s !== undefined) this.set({ zone: v.origin.key }, s);
        }
      },
    });
    new Gauge({
      name: 'tandem_dnssec_key_age_seconds', help: 'Age of each key that signs the zone now (since its Created time, else Activate)', labelNames: ['zone', 'role', 'key_tag'], registers,
      collect() {
        this.reset();
        const now = clock.now();
        for (const v of versions()) {
          const keys = v.keys;
          if (!keys) continue;
          for (const [role, pair] of [['ksk', keys.ksk], ['zsk', keys.zsk]] as const) {
            const stored = keys.keys.find((k) => k.role === role && k.key.keyTag === pair.keyTag);
            const born = stored?.times.created ?? stored?.times.activate;
            if (born !== undefined) this.set({ zone: v.origin.key, role, key_tag: String(pair.keyTag) }, Math.max(0, now - born));
          }
        }
      },
    });
    const earliest = () => {
      const out: { zone: string; at: number }[] = [];
      for (const v of versions()) {
        if (!v.available) continue;
        if (v.presigned) {
          if (v.presigned.earliestExpiration !== undefined) out.push({ zone: v.origin.key, at: v.presigned.earliestExpiration });
          continue;
        }
        // Every signature served was made in the current window (answers cached no longer than its period).
        const w = (v.signing as Partial<ZoneSigningImpl> | undefined)?.currentWindow?.();
        if (w) out.push({ zone: v.origin.key, at: w.expiration });
      }
      return out;
    };
    new Gauge({
      name: 'tandem_dnssec_rrsig_expiration_timestamp_seconds', help: 'Earliest expiration of the RRSIGs served (pre-signed zones: of any RRSIG in the zone), epoch seconds', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const e of earliest()) this.set({ zone: e.zone }, e.at);
      },
    });
    new Gauge({
      name: 'tandem_dnssec_rrsig_expiry_horizon_seconds', help: 'Seconds until the earliest RRSIG served expires (negative: expired)', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        const now = clock.now();
        for (const e of earliest()) this.set({ zone: e.zone }, e.at - now);
      },
    });
    if (!secondaries) return;
    const secondaryTimes = (pick: (s: SecondaryStatusView) => string | undefined) => {
      const out: { zone: string; at: number }[] = [];
      for (const v of manager.secondaries()) {
        const st = secondaries.secondary(v.origin);
        const t = st && pick(st);
        if (t !== undefined) out.push({ zone: v.origin.key, at: Date.parse(t) / 1000 });
      }
      return out;
    };
    new Gauge({
      name: 'tandem_secondary_last_refresh_timestamp_seconds', help: 'When a primary last answered a refresh of the secondary zone (transfer or current), epoch seconds', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const e of secondaryTimes((s) => s.lastRefresh)) this.set({ zone: e.zone }, e.at);
      },
    });
    new Gauge({
      name: 'tandem_secondary_last_transfer_timestamp_seconds', help: 'When the secondary zone was last transferred, epoch seconds', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const e of secondaryTimes((s) => s.lastTransfer)) this.set({ zone: e.zone }, e.at);
      },
    });
    new Gauge({
      name: 'tandem_secondary_expiry_timestamp_seconds', help: 'When the secondary zone expires without a refresh (SOA EXPIRE), epoch seconds', labelNames: ['zone'], registers,
      collect() {
        this.reset();
        for (const e of secondaryTimes((s) => s.expiresAt)) this.set({ zone: e.zone }, e.at);
      },
    });
  }

  /** Where the primary of a cluster gets each worker's figures (cluster.ts). */
  addWorkers(gather: () => Promise<MetricsJson[]>): void {
    this.workers = gather;
  }

  /** This process's figures as prom-client's JSON (what a worker sends its primary). */
  json(): Promise<MetricsJson> {
    return this.registry.getMetricsAsJSON();
  }

  readonly contentType = this.registry.contentType;

  /** The exposition text: this process's figures, summed with every worker's in a cluster. */
  async text(): Promise<string> {
    if (!this.workers) return this.registry.metrics();
    const [own, workers] = await Promise.all([this.json(), this.workers()]);
    return AggregatorRegistry.aggregate([own, ...workers]).metrics();
  }
}
