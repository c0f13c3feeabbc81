// startServer: listeners + the zone manager + the admin API, with reload and graceful stop. No globals
// (STYLE habit 5): two servers can live in one process.
import type { Logger } from 'pino';
import { formatEndpoint, type Endpoint, type ServerConfig } from '../config/server.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import { SignatureCache } from '../dnssec/cache.js';
import { ensureDir } from '../state/atomic.js';
import { TandemZoneManager, type Served } from '../state/manager.js';
import { startApi, resolveApiAuth, type RunningApi } from '../api/index.js';
import { startParentChecks } from '../state/parentds.js';
import { createHandler } from './handle.js';
import { listenUdp, type UdpListener } from './udp.js';
import { listenTcp, type TcpListener } from './tcp.js';

export interface ServerDeps {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export interface RunningServer {
  /** The bound DNS addresses (real ports when 0 was asked), UDP and TCP alike. */
  addresses: Endpoint[];
  /** The admin API address. */
  api: Endpoint;
  manager: TandemZoneManager;
  served(): Served;
  /** Re-reads the zones folder; bad files keep their last good zone. Returns the errors found. */
  reload(): Promise<Error[]>;
  stop(): Promise<void>;
}

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  await ensureDir(config.state);
  const clock = deps.clock ?? systemClock;
  const { manager, errors } = await TandemZoneManager.open({
    zonesDir: config.zones, stateDir: config.state, clock, logger, cache: new SignatureCache({ max: 100_000 }),
  });
  for (const err of errors) logger.error({ err: err.message }, 'zone not loaded');
  for (const z of manager.served().zones.zones()) {
    logger.info({ zone: z.origin.toString(), records: z.recordCount, signed: manager.served().signing.has(z.origin.key), denial: z.settings.dnssec ? z.settings.denial : undefined, file: z.source }, 'zone loaded');
  }

  const handler = createHandler(() => manager.served(), logger.child({ component: 'query' }));
  const udp: UdpListener[] = [];
  const tcp: TcpListener[] = [];
  let api: RunningApi | undefined;
  const closeAll = async () => {
    await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close()), api?.close()]);
  };
  try {
    for (const at of config.listen) {
      // TCP first, so that port 0 gives one port for both transports.
      const t = await listenTcp(at, handler, { idleTimeoutMs: config.tcpIdleTimeoutMs, maxConnections: config.tcpMaxConnections }, logger);
      tcp.push(t);
      udp.push(await listenUdp({ host: at.host, port: t.address.port }, handler, logger));
    }
    const { auth } = await resolveApiAuth({ configured: config.apiAuth, env: deps.env ?? process.env, flagToken: config.apiToken, stateDir: config.state, logger });
    api = await startApi({ manager, auth, at: config.api, logger: logger.child({ component: 'api' }) });
  } catch (err) {
    await closeAll();
    throw err;
  }
  const addresses = tcp.map((t) => t.address);
  logger.info({ listen: addresses.map(formatEndpoint), api: formatEndpoint(api.address), zones: manager.served().zones.zones().length }, 'listening (udp+tcp)');
  const checks = startParentChecks({ manager, logger, resolver: config.parentResolver, intervalSeconds: config.parentCheckInterval });

  return {
    addresses,
    api: api.address,
    manager,
    served: () => manager.served(),
    async reload() {
      const errs = await manager.reload();
      for (const err of errs) logger.error({ err: err.message }, 'zone reload failed; last good version stays in service');
      logger.info({ zones: manager.served().zones.zones().map((z) => z.origin.toString()) }, 'zones reloaded');
      return errs;
    },
    async stop() {
      checks.stop();
      await closeAll();
      logger.info('stopped');
    },
  };
}
