// startServer: listeners + the zone manager + the admin API, with reload and graceful stop. No globals
// (STYLE habit 5): two servers can live in one process. Several processes (workers) are cluster.ts.
import type { Logger } from 'pino';
import { formatEndpoint, type Endpoint, type ServerConfig } from '../config/server.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import { SignatureCache } from '../dnssec/cache.js';
import { checkStateDir } from '../state/atomic.js';
import { zoneFolder } from '../config/masterzone.js';
import { logLoaded } from '../state/loading.js';
import type { TransferApi } from '../state/types.js';
import { listenError } from './listen-error.js';
import { TandemZoneManager, type ManagerOptions, type Served } from '../state/manager.js';
import { startApi, resolveApiAuth, type RunningApi } from '../api/index.js';
import { startParentChecks, systemResolver } from '../state/parentds.js';
import { ParentNotifier } from '../transfer/parent-notify.js';
import { SyncService } from '../update/sync/service.js';
import type { SyncApi } from '../update/sync/types.js';
import { ApiError, Code } from '../api/envelope.js';
import { RolloverService } from '../rollover/service.js';
import { dnsProbes } from '../rollover/probe.js';
import type { RolloverApi } from '../api/rollover.js';
import { createHandler, type ControlHandler, type Handler } from './handle.js';
import { Keyring } from '../dns/tsig.js';
import { TransferService } from '../transfer/service.js';
import { ResponseCache } from './respcache.js';
import { SigningBudget } from './budget.js';
import { Metrics } from '../metrics/registry.js';
import { opsEndpoints, startOpsListener } from '../metrics/http.js';
import { readiness, type NotReady } from '../metrics/readiness.js';
import { listenUdp, type UdpListener } from './udp.js';
import { Rrl, wildcardParentIn } from './rrl.js';
import { listenTcp, type TcpListener } from './tcp.js';

export interface ServerDeps {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** This process's metrics (metrics/registry.ts); launchServer and the cluster make one when not given. */
  metrics?: Metrics;
}

export interface RunningServer {
  /** The bound DNS addresses (real ports when 0 was asked), UDP and TCP alike. */
  addresses: Endpoint[];
  /** The admin API address; undefined with `api: off`. */
  api?: Endpoint;
  /** The `metrics:` listener's address (/health, /ready, /metrics), when configured. */
  metrics?: Endpoint;
  manager: TandemZoneManager;
  /** Zone transfers, NOTIFY, secondary zones: started once the zones are loaded (`loaded`); throws before. */
  readonly transfers: TransferService;
  /**
   * The first read of the zones folder, which runs while the listeners already answer (each zone from the
   * moment it is loaded): resolves with the files that failed, rejects when the folder cannot be read.
   */
  loaded: Promise<Error[]>;
  served(): Served;
  /** Re-reads the zones folder; bad files keep their last good zone. Returns the errors found. */
  reload(): Promise<Error[]>;
  stop(): Promise<void>;
}

/** Signatures kept per process (about 200 bytes each). */
const SIGNATURE_CACHE_SIZE = 100_000;

/**
 * The folders, checked before anything binds or loads, each failure a message naming the folder and the
 * fix: the state folder usable (created 0700 when missing, refused when others may write it), the zones
 * folder readable.
 */
export async function checkFolders(config: ServerConfig): Promise<void> {
  await checkStateDir(config.state);
  await zoneFolder(config.zones);
}

/**
 * The zone manager on the configured folders, serving nothing until its loadZones. `presign`: sign every
 * authoritative RRset in the background (processes that answer queries); `afterChange`: see ManagerOptions.
 */
export async function createManager(
  deps: ServerDeps, opts: { presign: boolean; afterChange?: ManagerOptions['afterChange']; onPublish?: ManagerOptions['onPublish']; role?: ManagerOptions['role'] },
): Promise<TandemZoneManager> {
  const { config, logger } = deps;
  const keyring = new Keyring(config.tsig);
  return TandemZoneManager.create({
    zonesDir: config.zones, stateDir: config.state, zoneDefaults: config.zoneDefaults, clock: deps.clock ?? systemClock, logger,
    cache: new SignatureCache({ max: SIGNATURE_CACHE_SIZE }), presign: opts.presign, afterChange: opts.afterChange, onPublish: opts.onPublish, role: opts.role,
    knownKey: (name) => keyring.byName(name) !== undefined,
    signingObserver: deps.metrics?.signing, onLoad: deps.metrics?.onLoad,
  });
}

/** The end of the first load: the files that failed, then one summary line. */
export function logLoadEnd(logger: Logger, manager: TandemZoneManager, errors: Error[], fields: Record<string, unknown>): void {
  for (const err of errors) logger.error({ err: err.message }, 'zone not loaded');
  logger.info({ ...fields, zones: manager.served().zones.zones().length, failed: errors.length }, 'zones loaded');
}

export interface DnsListeners {
  addresses: Endpoint[];
  /** How the UDP listeners read and answer (udpio.ts; `mixed`: some could not be batched). */
  udpIo: 'batched' | 'dgram' | 'mixed';
  close(): Promise<void>;
}

/**
 * UDP and TCP listeners on every configured address, answering from `served()`; zone transfers, NOTIFY and
 * UPDATE go to `control`. A listener that cannot bind throws a ListenError saying why (address in use, port < 1024).
 */
export async function startDns(deps: ServerDeps, served: () => Served, control?: ControlHandler): Promise<DnsListeners> {
  const q = queryHandler(deps, served, control);
  const dns = await listenDns(deps, q.handler, wildcardParentIn(served)).catch((err: unknown) => { q.close(); throw err; });
  return { addresses: dns.addresses, udpIo: dns.udpIo, close: async () => { await dns.close(); q.close(); } };
}

/**
 * The request path on `served()` with this process's response cache, signing budget (budget.ts: where answers
 * are signed), TSIG keys and query counters; `close` ends the budget's timers.
 */
export function queryHandler(deps: ServerDeps, served: () => Served, control?: ControlHandler): { handler: Handler; close(): void } {
  const { config, logger } = deps;
  const cache = new ResponseCache();
  deps.metrics?.watchCache(cache);
  const budget = config.signingQueue === false ? undefined
    : new SigningBudget({ limit: config.signingQueue, overflow: config.signingOverflow, logger: logger.child({ component: 'signing-budget' }) });
  if (budget) deps.metrics?.watchBudget(budget);
  const handler = createHandler(served, logger.child({ component: 'query' }), { clock: deps.clock ?? systemClock, control, tsig: new Keyring(config.tsig), cache, queries: deps.metrics?.queries, budget });
  return { handler, close: () => budget?.close() };
}

/**
 * UDP and TCP listeners on every configured address, answering with `handler` (see startDns), with this
 * process's RRL table when configured (`wildcardParent`: rrl.ts, from the zones when this process has them).
 */
export async function listenDns(deps: ServerDeps, handler: Handler, wildcardParent?: (resp: Uint8Array, nameKey: number) => number): Promise<DnsListeners> {
  const { config, logger } = deps;
  // One table for this process's UDP listeners (each cluster worker has its own, with 1/N of each rate: rrl.ts
  // `share`); TCP is never limited.
  const share = config.workers > 1 ? 1 / config.workers : 1;
  const rrl = config.rrl && new Rrl(config.rrl, { clock: deps.clock ?? systemClock, logger: logger.child({ component: 'rrl' }), wildcardParent, share }).start();
  if (rrl) deps.metrics?.watchRrl(rrl);
  const udp: UdpListener[] = [];
  const tcp: TcpListener[] = [];
  const close = async () => {
    rrl?.stop();
    await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close())]);
  };
  try {
    for (const at of config.listen) {
      // TCP first, so that port 0 gives one port for both transports.
      const t = await listenTcp(at, handler, { idleTimeoutMs: config.tcpIdleTimeoutMs, maxConnections: config.tcpMaxConnections }, logger)
        .catch((err: unknown) => { throw listenError(err, at, 'DNS over TCP', '--listen'); });
      tcp.push(t);
      const u = { host: at.host, port: t.address.port };
      udp.push(await listenUdp(u, handler, logger, rrl, config.udpIo).catch((err: unknown) => { throw listenError(err, u, 'DNS over UDP', '--listen'); }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  deps.metrics?.watchUdp(udp);
  const batched = udp.filter((u) => u.io === 'batched').length;
  return { addresses: tcp.map((t) => t.address), udpIo: batched === udp.length ? 'batched' : batched === 0 ? 'dgram' : 'mixed', close };
}

/**
 * Zone transfers and NOTIFY for a service that starts later (once the zones are loaded): until then they get
 * no answer, and the peer retries as it does after a lost datagram (RFC 1996 §3.6, RFC 5936 §4.1).
 */
export function laterControl(service: () => TransferService | undefined): ControlHandler {
  return async (msg, query, transport, peer) => {
    const t = service();
    return t ? t.control(msg, query, transport, peer) : null;
  };
}

/** The admin API's view of zone transfers before the service runs: no secondary or outgoing state yet. */
export function laterTransferApi(service: () => TransferService | undefined): TransferApi {
  return {
    secondary: (zone) => service()?.secondary(zone),
    refresh: async (zone, opts) => service()?.refresh(zone, opts),
    outgoing: (zone) => service()?.outgoing(zone),
  };
}

/** Key sync before the service runs: no zone is known yet. */
export function laterSyncApi(service: () => SyncApi | undefined): SyncApi {
  // 503 (as /tandem/rollover): the service exists once the zones are loaded; the request may be retried then.
  const missing = () => { throw new ApiError(503, Code.NO_ROUTE, 'key sync is not running yet: it starts once the zones are loaded'); };
  return {
    status: async (zone) => (service() ?? missing()).status(zone),
    run: async (zone) => (service() ?? missing()).run(zone),
    remove: async (zone, peer, opts) => (service() ?? missing()).remove(zone, peer, opts),
    notifications: (zone) => service()?.notifications(zone) ?? [],
  };
}

/**
 * Key sync with the other signers (update/sync/) and generalized NOTIFY to the parents (RFC 9859,
 * transfer/parent-notify.ts), in the process that owns the manager. Both ask the parent resolver
 * (`parent-resolver`, else the system's); NOTIFY to parents can be turned off (`parent-notify: false`).
 */
export function startKeySync(deps: ServerDeps, manager: TandemZoneManager, transfers: TransferService): { sync: SyncService; stop(): Promise<void> } {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const resolver = config.parentResolver ?? systemResolver();
  const notifier = config.parentNotify && resolver ? new ParentNotifier({ onVersion: (l) => manager.onVersion(l), resolver, clock, logger }) : undefined;
  if (config.parentNotify && !resolver) logger.warn('no parent resolver (--parent-resolver, /etc/resolv.conf): NOTIFY(CDS/CSYNC) is not sent to parents');
  const sync = new SyncService({
    manager, keyring: new Keyring(config.tsig), stateDir: config.state, clock, logger, env: deps.env, resolver,
    parentEvents: (z) => notifier?.recent(z) ?? [], received: (z) => transfers.generalizedNotifies(z),
  });
  sync.start();
  return { sync, stop() { notifier?.stop(); return sync.stop(); } };
}

export interface RunningRollovers {
  service: RolloverService;
  stop(): void;
}

/**
 * Key rollovers (rollover/): the ones persisted in the state folder resume, polled every `rollover-interval`
 * seconds. In the process that owns the manager (the single process, or the cluster primary).
 */
export async function startRollovers(deps: ServerDeps, manager: TandemZoneManager): Promise<RunningRollovers | undefined> {
  let service: RolloverService;
  try {
    service = await RolloverService.open({
      zones: manager, stateDir: deps.config.state, clock: deps.clock ?? systemClock, logger: deps.logger.child({ component: 'rollover' }),
      probes: dnsProbes({ parentResolver: deps.config.parentResolver }),
    });
  } catch (err) {
    // The zones are served as the key files say; only the rollovers wait for the operator.
    deps.logger.error({ err: (err as Error).message }, 'key rollovers not running: their state does not read');
    return undefined;
  }
  const timer = deps.config.rolloverInterval > 0 ? service.startTimer(deps.config.rolloverInterval) : { stop() {} };
  return { service, stop: () => timer.stop() };
}

/** The zone-transfer service of the process that owns the manager (the single process, or the cluster primary). */
export function startTransfers(deps: ServerDeps, manager: TandemZoneManager): TransferService {
  const t = new TransferService({
    manager, keyring: new Keyring(deps.config.tsig), stateDir: deps.config.state, clock: deps.clock ?? systemClock, logger: deps.logger,
    observer: deps.metrics?.transfers,
  });
  t.start();
  return t;
}

export interface HttpListeners {
  /** The admin API's address (undefined with `api: off`). */
  api?: Endpoint;
  /** The `metrics:` listener's address. */
  metrics?: Endpoint;
  close(): Promise<void>;
}

/**
 * The admin API on the configured address (unless `api: off`), with credentials from the config, env or flag,
 * and the `metrics:` listener when configured; both serve /health, /ready and /metrics (metrics/http.ts).
 * `notReady`: what else keeps this process from being ready (a cluster's missing workers). A listener that
 * cannot bind throws a ListenError saying why.
 */
export async function startAdminApi(deps: ServerDeps, manager: TandemZoneManager, transfers?: TransferApi, notReady?: () => NotReady[], sync?: SyncApi, rollover?: () => RolloverApi | undefined): Promise<HttpListeners> {
  const { config, logger } = deps;
  deps.metrics?.watchManager(manager, transfers);
  const sources = { metrics: deps.metrics, ready: () => readiness(manager, notReady?.()) };
  let api: RunningApi | undefined;
  if (config.api) {
    const at = config.api;
    const { auth } = await resolveApiAuth({ configured: config.apiAuth, env: deps.env ?? process.env, flagToken: config.apiToken, stateDir: config.state, logger });
    api = await startApi({ manager, transfers, sync, rollover, auth, at, logger, clock: deps.clock ?? systemClock, ops: opsEndpoints(sources, { metricsAuth: config.metricsAuth }), onChange: deps.metrics?.onChange })
      .catch((err: unknown) => { throw listenError(err, at, 'the admin API', '--api'); });
  } else if (!config.metrics) logger.info('admin API off (api: off) and no metrics listener: /health, /ready and /metrics are not served (metrics: HOST:PORT serves them)');
  let ops;
  try {
    const at = config.metrics;
    ops = at ? await startOpsListener(at, opsEndpoints(sources), logger).catch((err: unknown) => { throw listenError(err, at, 'the metrics listener', '--metrics'); }) : undefined;
  } catch (err) {
    await api?.close();
    throw err;
  }
  return {
    api: api?.address,
    metrics: ops?.address,
    close: async () => { await Promise.all([api?.close(), ops?.close()]); },
  };
}

/**
 * Starts a server and resolves once every zone of the folder is loaded (or failed): what a test or an
 * embedding program wants. `tandem serve` uses launchServer, which resolves as soon as it listens.
 */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const server = await launchServer(deps);
  try {
    await server.loaded;
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/**
 * Start-up in the order an operator needs: the folders checked, the DNS listeners and the admin API bound
 * (an address in use fails here, at once), then the zones loaded in the background, smallest first, each
 * served as soon as it is built; zone transfers and the parent DS checks start once all are known.
 */
export async function launchServer(deps: ServerDeps): Promise<RunningServer> {
  deps = { ...deps, metrics: deps.metrics ?? new Metrics({ clock: deps.clock ?? systemClock }) };
  const { config, logger } = deps;
  await checkFolders(config);
  const manager = await createManager(deps, { presign: true });
  let transfers: TransferService | undefined;
  let keySync: ReturnType<typeof startKeySync> | undefined;
  const dns = await startDns(deps, () => manager.served(), laterControl(() => transfers));
  let api: HttpListeners;
  try {
    api = await startAdminApi(deps, manager, laterTransferApi(() => transfers), undefined, laterSyncApi(() => keySync?.sync), () => rollovers?.service);
  } catch (err) {
    await dns.close();
    throw err;
  }
  const addresses = dns.addresses;
  const where = { listen: addresses.map(formatEndpoint), api: api.api ? formatEndpoint(api.api) : 'off', metrics: api.metrics && formatEndpoint(api.metrics), udpIo: dns.udpIo };
  logger.info(where, 'listening (udp+tcp); loading zones');

  let stopped = false;
  let checks: { stop(): void } | undefined;
  let rollovers: RunningRollovers | undefined;
  const started = performance.now();
  const loaded = manager.loadZones({ inService: (z) => logLoaded(logger, z) }).then(async (errors) => {
    if (stopped) return errors;
    transfers = startTransfers(deps, manager);
    keySync = startKeySync(deps, manager, transfers);
    rollovers = await startRollovers(deps, manager);
    // 0: no checks (the test fixture's default, so a test never asks the network on its own).
    checks = config.parentCheckInterval > 0
      ? startParentChecks({ manager, logger, resolver: config.parentResolver, intervalSeconds: config.parentCheckInterval })
      : { stop() {} };
    logLoadEnd(logger, manager, errors, { ...where, ms: Math.round(performance.now() - started) });
    return errors;
  });
  loaded.catch(() => undefined); // the caller decides (startServer, tandem serve)

  return {
    addresses,
    api: api.api,
    metrics: api.metrics,
    manager,
    get transfers(): TransferService {
      if (!transfers) throw new Error('zone transfers start once the zones are loaded (await `loaded`)');
      return transfers;
    },
    loaded,
    served: () => manager.served(),
    async reload() {
      const errs = await manager.reload();
      for (const err of errs) logger.error({ err: err.message }, 'zone reload failed; last good version stays in service');
      transfers?.reloaded();
      logger.info({ zones: manager.served().zones.zones().map((z) => z.origin.toString()) }, 'zones reloaded');
      return errs;
    },
    async stop() {
      stopped = true;
      checks?.stop();
      const syncing = keySync?.stop();
      rollovers?.stop();
      transfers?.stop();
      await Promise.all([dns.close(), api.close(), syncing]);
      logger.info('stopped');
    },
  };
}
