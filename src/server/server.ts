// createServer: listeners + the served zone set, with reload and graceful stop. No globals (STYLE habit 5):
// two servers can live in one process.
import type { Logger } from 'pino';
import { mkdir, chmod } from 'node:fs/promises';
import { formatEndpoint, type Endpoint, type ServerConfig } from '../config/server.js';
import { systemClock, type Clock } from '../dnssec/types.js';
import { SignatureCache } from '../dnssec/cache.js';
import { createHandler, type Served } from './handle.js';
import { listenUdp, type UdpListener } from './udp.js';
import { listenTcp, type TcpListener } from './tcp.js';
import { loadServed, type ZoneLoaderDeps } from './zones.js';

export interface ServerDeps {
  config: ServerConfig;
  logger: Logger;
  clock?: Clock;
}

export interface RunningServer {
  /** The bound addresses (real ports when 0 was asked), UDP and TCP alike. */
  addresses: Endpoint[];
  served(): Served;
  /** Re-reads the zones folder; bad files keep their last good zone. Returns the errors found. */
  reload(): Promise<Error[]>;
  stop(): Promise<void>;
}

export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  await mkdir(config.state, { recursive: true, mode: 0o700 });
  await chmod(config.state, 0o700);
  const loaderDeps: ZoneLoaderDeps = {
    zonesDir: config.zones,
    stateDir: config.state,
    clock: deps.clock ?? systemClock,
    logger,
    cache: new SignatureCache({ max: 100_000 }),
  };
  const first = await loadServed(loaderDeps);
  for (const err of first.errors) logger.error({ err: err.message }, 'zone not loaded');
  let served = first.served;
  for (const z of served.zones.zones()) {
    logger.info({ zone: z.origin.toString(), records: z.recordCount, signed: served.signing.has(z.origin.key), denial: z.settings.dnssec ? z.settings.denial : undefined, file: z.source }, 'zone loaded');
  }

  const handler = createHandler(() => served, logger.child({ component: 'query' }));
  const udp: UdpListener[] = [];
  const tcp: TcpListener[] = [];
  try {
    for (const at of config.listen) {
      // Bind TCP first so that port 0 gives one port for both transports.
      const t = await listenTcp(at, handler, { idleTimeoutMs: config.tcpIdleTimeoutMs, maxConnections: config.tcpMaxConnections }, logger);
      tcp.push(t);
      udp.push(await listenUdp({ host: at.host, port: t.address.port }, handler, logger));
    }
  } catch (err) {
    await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close(0))]);
    throw err;
  }
  const addresses = tcp.map((t) => t.address);
  logger.info({ listen: addresses.map(formatEndpoint), zones: served.zones.zones().length }, 'listening (udp+tcp)');

  let reloading: Promise<Error[]> | undefined;
  return {
    addresses,
    served: () => served,
    reload() {
      // Serialise reloads; each swaps the whole served set at once.
      reloading = (reloading ?? Promise.resolve([])).then(async () => {
        const next = await loadServed(loaderDeps, served);
        served = next.served;
        for (const err of next.errors) logger.error({ err: err.message }, 'zone reload failed; last good version stays in service');
        logger.info({ zones: served.zones.zones().map((z) => z.origin.toString()) }, 'zones reloaded');
        return next.errors;
      });
      return reloading;
    },
    async stop() {
      await Promise.all([...udp.map((u) => u.close()), ...tcp.map((t) => t.close())]);
      logger.info('stopped');
    },
  };
}
