// `tandem serve`: the server, in one process or as a primary with workers (--workers). Listens first (an
// address in use ends the start at once), installs the signal handlers, then loads the zones while answering.
import cluster from 'node:cluster';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { defaults, formatEndpoint, resolveConfig } from '../config/server.js';
import { launchServer } from '../server/server.js';
import { startPrimary, startWorker } from '../server/cluster.js';
import { defineCommand } from './spec.js';

export const serveCommand = defineCommand({
  name: 'serve', group: 'server', summary: 'serve the zones folder over DNS (UDP and TCP), signing, with the admin API',
  args: [],
  options: {
    config: { type: 'string', value: 'FILE', help: 'server config (YAML, the keys of these flags and more); flags win over it' },
    zones: { type: 'string', value: 'DIR', defaultText: defaults.zones, help: 'folder of zone files, one per zone' },
    state: { type: 'string', value: 'DIR', defaultText: defaults.state, help: 'keys and admin state; created with mode 0700 when missing, refused when others can write it' },
    listen: { type: 'string', multiple: true, value: 'HOST:PORT', defaultText: defaults.listen.map(formatEndpoint).join(' '), help: 'DNS over UDP and TCP; [::1]:53 for IPv6; port 0 = any free port' },
    api: { type: 'string', value: 'HOST:PORT|off', defaultText: defaults.api ? formatEndpoint(defaults.api) : 'off', help: 'the admin HTTP API (also /health, /ready, /metrics); off: none' },
    metrics: { type: 'string', value: 'HOST:PORT', help: 'a listener of its own for /health, /ready and /metrics (no credentials), e.g. with --api off' },
    'api-token': { type: 'string', value: 'TOKEN', help: 'a token the admin API accepts (labs; env TANDEM_API_TOKEN)' },
    'log-level': { type: 'string', value: 'LEVEL', defaultText: defaults.logLevel, help: 'fatal, error, warn, info, debug (one line per query), trace, silent' },
    workers: { type: 'string', value: 'N', defaultText: 'one per core', help: 'worker processes sharing the DNS listeners (the zones are held once, by the primary); 1 = one process' },
    'parent-resolver': { type: 'string', value: 'HOST:PORT', defaultText: 'the first nameserver of /etc/resolv.conf', help: 'where to ask for our DS at the parent' },
    'udp-io': { type: 'string', value: 'auto|batched|dgram', defaultText: 'auto', help: 'UDP reads and answers in batches (recvmmsg/sendmmsg, native/udpio.node, built by npm run build) or one per call (Node dgram); auto: batched when built' },
    rrl: { type: 'string', value: 'RATE|off', defaultText: 'off', help: 'response rate limiting over UDP: RATE answers a second per client /24 (/56) and answer; the config key rrl: sets the rest' },
  },
  notes: ['Signals: SIGTERM and SIGINT stop gracefully (exit 0); SIGHUP re-reads the zones folder, swapping every zone in at once.'],
  async run(p) {
    const { config: configFile, ...flags } = p.values;
    const resolved = await resolveConfig(flags, configFile);
    // Default: one worker per core (issue 6); the library default (startServer) stays 1.
    const explicit = flags.workers !== undefined || (configFile !== undefined && (await configSetsWorkers(configFile)));
    const config = { ...resolved, workers: explicit ? resolved.workers : availableParallelism() };
    if (cluster.isWorker) {
      const logger = pino({ level: config.logLevel, base: { pid: process.pid, worker: cluster.worker?.id }, timestamp: pino.stdTimeFunctions.isoTime });
      await startWorker({ config, logger });
      return 0;
    }
    const logger = pino({ level: config.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
    const server = config.workers > 1 ? await startPrimary({ config, logger }) : await launchServer({ config, logger });
    let stopping = false;
    const stop = (signal: string, code = 0) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      server.stop().then(
        () => process.exit(code),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading zones');
      void server.reload();
    });
    // The zones load while the listeners answer; a folder that vanished meanwhile ends the server.
    server.loaded.catch((err: unknown) => {
      logger.fatal({ err: (err as Error).message }, 'cannot load the zones');
      process.stderr.write(`tandem: ${(err as Error).message}\n`);
      stop('load failed', 1);
    });
    return 0;
  },
});

/** Whether the config file names `workers` (then it wins over the per-core default). */
async function configSetsWorkers(file: string): Promise<boolean> {
  const raw: unknown = parseYaml(await readFile(file, 'utf8'));
  return typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>).workers !== undefined;
}
