// Starts a real tandem server in this process on ephemeral loopback ports, with its own state folder.
import { mkdtemp, rm, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { defaults, type ServerConfig } from '../../src/config/server.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import type { Clock } from '../../src/dnssec/types.js';
import { EXAMPLE_ZONES } from './zones.js';

export interface TestServer {
  server: RunningServer;
  host: string;
  port: number;
  /** Base URL of the admin API, e.g. http://127.0.0.1:41234 */
  api: string;
  /** The API token the test server accepts. */
  token: string;
  dir: string;
  zonesDir: string;
  stateDir: string;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Folder of zone files to copy (default: the tests' example zone, EXAMPLE_ZONES). */
  zones?: string;
  listen?: { host: string; port: number }[];
  config?: Partial<ServerConfig>;
  clock?: Clock;
  logLevel?: ServerConfig['logLevel'];
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-test-'));
  const zonesDir = join(dir, 'zones');
  const stateDir = join(dir, 'state');
  await cp(opts.zones ?? EXAMPLE_ZONES, zonesDir, { recursive: true });
  const config: ServerConfig = {
    ...defaults,
    zones: zonesDir,
    state: stateDir,
    listen: opts.listen ?? [{ host: '127.0.0.1', port: 0 }],
    api: { host: '127.0.0.1', port: 0 },
    logLevel: opts.logLevel ?? 'silent',
    // No NOTIFY(CDS/CSYNC) to a parent found through the system's resolver: a test never asks the network on its own.
    parentNotify: false,
    ...opts.config,
  };
  const token = 'test-token-' + Math.random().toString(36).slice(2);
  const server = await startServer({ config: { ...config, apiToken: token }, logger: pino({ level: config.logLevel }), clock: opts.clock, env: {} });
  return {
    server, dir, zonesDir, stateDir,
    host: server.addresses[0].host,
    port: server.addresses[0].port,
    api: server.api ? `http://${server.api.host}:${server.api.port}` : '',
    token,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
