// startServer: listeners + the zone manager + the admin API, with reload and graceful stop. No globals
// (STYLE habit 5): two servers can live in one process. Several processes (workers) are cluster.ts.
import type { Logger } from 'pino';
import { formatEndpoint, type Endpoint, type ServerConfig } from '../config/server.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import { SignatureCache } from '../dnssec/cache.js';
import { ensureDir } from '../state/atomic.js';
import { TandemZoneManager, type ManagerOptions, type Served } from '../state/manager.js';
import { startApi, resolveApiAuth, type RunningApi } from '../api/index.js';
import { startParentChecks } from '../state/parentds.js';
import { createHandler, type ControlHandler } from './handle.js';
import { Keyring } from '../dns/tsig.js';
import { TransferService } from '../transfer/service.js';
import { ResponseCache } from './respcache.js';
import { Metrics } from '../metrics/registry.js';
import { opsEndpoints, startOpsListener } from '../metrics/http.js';
import { readiness, type NotReady } from '../metrics/readiness.js';
import { listenUdp, type UdpListener } from './udp.js';
import { listenTcp, type TcpListener } from './tcp.js';

export interface ServerDeps {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** This process's metrics (metrics/registry.ts); startServer and the cluster make one when not given. */
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
  /** Zone transfers, NOTIFY, secondary zones. */
  transfers: TransferService;
  served(): Served;
  /** Re-reads the zones folder; bad files keep their last good zone. Returns the errors found. */
  reload(): Promise<Error[]>;
  stop(): Promise<void>;
}

/** Signatures kept per process (about 200 bytes each). */
const SIGNATURE_CACHE_SIZE = 100_000;

/**
 * Opens the zone manager on the configured folders. `presign`: sign every authoritative RRset in the
 * background (processes that answer queries); `afterChange`: see ManagerOptions.
 */
export async function openManager(
  deps: ServerDeps, opts: { presign: boolean; afterChange?: ManagerOptions['afterChange']; role?: ManagerOptions['role'] },
): Promise<{ manager: TandemZoneManager; errors: Error[] }> {
  const { config, logger } = deps;
  await ensureDir(config.state);
  const keyring = new Keyring(config.tsig);
  return TandemZoneManager.open({
    zonesDir: config.zones, stateDir: config.state, zoneDefaults: config.zoneDefaults, clock: deps.clock ?? systemClock, logger,
    cache: new SignatureCache({ max: SIGNATURE_CACHE_SIZE }), presign: opts.presign, afterChange: opts.afterChange, role: opts.role,
    knownKey: (name) => keyring.byName(name) !== undefined,
    signingObserver: deps.metrics?.signing, onLoad: deps.metrics?.onLoad,
  });
}

/** The start-up summary: one line per zone, one per zone that failed. */
export function logZones(manager: TandemZoneManager, errors: Error[], logger: Logger): void {
  for (const err of errors) logger.error({ err: err.message }, 'zone not loaded');
  const served = manager.served();
  for (const z of served.zones.zones()) {
    logger.info({ zone: z.origin.toString(), records: z.recordCount, signed: served.signing.has(z.origin.key), presigned: z.presigned ? true : undefined, denial: z.presigned?.denial ?? (z.settings.dnssec ? z.settings.denial : undefined), file: z.source }, 'zone loaded');
  }
}

export interface DnsListeners {
  addresses: Endpoint[];
  close(): Promise<void>;
}

/** UDP and TCP listeners on every configured address, answering from `served()`; zone transfers and NOTIFY go to `control`. */
export async function startDns(deps: ServerDeps, served: () => Served, control?: ControlHandler): Promise<DnsListeners> {
  const { config, logger } = deps;
  const cache = new ResponseCache();
  deps.metrics?.watchCache(cache);
  const handler = createHandler(served, logger.child({ component: 'query' }), { clock: deps.clock ?? systemClock, control, tsig: new Keyring(config.tsig), cache, queries: deps.metrics?.queries });
  const udp: UdpListener[] = [];
  const tcp: TcpListener[] = [];
  const close = async () => {
    await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close())]);
  };
  try {
    for (const at of config.listen) {
      // TCP first, so that port 0 gives one port for both transports.
      const t = await listenTcp(at, handler, { idleTimeoutMs: config.tcpIdleTimeoutMs, maxConnections: config.tcpMaxConnections }, logger);
      tcp.push(t);
      udp.push(await listenUdp({ host: at.host, port: t.address.port }, handler, logger));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses: tcp.map((t) => t.address), close };
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
 * `notReady`: what else keeps this process from being ready (a cluster's missing workers).
 */
export async function startAdminApi(deps: ServerDeps, manager: TandemZoneManager, transfers?: TransferService, notReady?: () => NotReady[]): Promise<HttpListeners> {
  const { config, logger } = deps;
  deps.metrics?.watchManager(manager, transfers?.secondaries);
  const sources = { metrics: deps.metrics, ready: () => readiness(manager, notReady?.()) };
  let api: RunningApi | undefined;
  if (config.api) {
    const { auth } = await resolveApiAuth({ configured: config.apiAuth, env: deps.env ?? process.env, flagToken: config.apiToken, stateDir: config.state, logger });
    api = await startApi({ manager, transfers, auth, at: config.api, logger, ops: opsEndpoints(sources, { metricsAuth: config.metricsAuth }), onChange: deps.metrics?.onChange });
  } else if (!config.metrics) logger.info('admin API off (api: off) and no metrics listener: /health, /ready and /metrics are not served (metrics: HOST:PORT serves them)');
  let ops;
  try {
    ops = config.metrics ? await startOpsListener(config.metrics, opsEndpoints(sources), logger) : undefined;
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

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  deps = { ...deps, metrics: deps.metrics ?? new Metrics({ clock: deps.clock ?? systemClock }) };
  const { config, logger } = deps;
  const { manager, errors } = await openManager(deps, { presign: true });
  logZones(manager, errors, logger);
  const transfers = startTransfers(deps, manager);

  let dns: DnsListeners;
  try {
    dns = await startDns(deps, () => manager.served(), transfers.control);
  } catch (err) {
    transfers.stop();
    throw err;
  }
  let api: HttpListeners;
  try {
    api = await startAdminApi(deps, manager, transfers);
  } catch (err) {
    await dns.close();
    transfers.stop();
    throw err;
  }
  const addresses = dns.addresses;
  logger.info({ listen: addresses.map(formatEndpoint), api: api.api ? formatEndpoint(api.api) : 'off', metrics: api.metrics && formatEndpoint(api.metrics), zones: manager.served().zones.zones().length }, 'listening (udp+tcp)');
  const checks = startParentChecks({ manager, logger, resolver: config.parentResolver, intervalSeconds: config.parentCheckInterval });

  return {
    addresses,
    api: api.api,
    metrics: api.metrics,
    manager,
    transfers,
    served: () => manager.served(),
    async reload() {
      const errs = await manager.reload();
      for (const err of errs) logger.error({ err: err.message }, 'zone reload failed; last good version stays in service');
      transfers.reloaded();
      logger.info({ zones: manager.served().zones.zones().map((z) => z.origin.toString()) }, 'zones reloaded');
      return errs;
    },
    async stop() {
      checks.stop();
      transfers.stop();
      await Promise.all([dns.close(), api.close()]);
      logger.info('stopped');
    },
  };
}
