#!/usr/bin/env node
// tandem's command line: thin — parse flags, call the modules, print.
import cluster from 'node:cluster';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { ConfigError, resolveConfig } from '../config/server.js';
import { startServer } from '../server/server.js';
import { startPrimary, startWorker } from '../server/cluster.js';
import { runKeyCommand } from './keys.js';
import { runTsigKeygen } from './tsig.js';
import { runConvert } from './convert.js';
import { ADMIN_COMMANDS, adminUsage, runAdminCommand } from './admin.js';

const usage = `tandem — authoritative DNS server and co-signing DNSSEC provider

Usage:
  tandem serve [--config FILE] [--zones DIR] [--state DIR] [--listen HOST:PORT]... [--api HOST:PORT|off]
               [--metrics HOST:PORT] [--log-level LEVEL] [--workers N] [--api-token TOKEN] [--parent-resolver HOST:PORT]
  tandem ds ZONE [--state DIR]              print the DS records of the zone's KSK(s) for the registrar
  tandem keys ZONE [--state DIR] [--zsk]    list the zone's keys (tag, role, algorithm, flags, DNSKEY RR)
  tandem dump --signed ZONE [--zones DIR] [--state DIR]   write the signed zone (RFC 1035 format) to stdout
  tandem import-bind ZONE KFILE [--state DIR]             take over an existing BIND key pair (keep the KSK and DS)
  tandem tsig-keygen NAME [--algorithm hmac-sha256]       print a new TSIG key for tandem, BIND, Knot and dig -y
  tandem convert FILE [--origin ZONE] [--out FILE]        an RFC 1035 master file as tandem's YAML zone file

Defaults: --zones zones  --state .tandem  --listen 127.0.0.1:5300  --api 127.0.0.1:8053  --log-level info
          --workers <one per core>
`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      zones: { type: 'string' },
      state: { type: 'string' },
      listen: { type: 'string', multiple: true },
      api: { type: 'string' },
      metrics: { type: 'string' },
      'log-level': { type: 'string' },
      workers: { type: 'string' },
      'api-token': { type: 'string' },
      'parent-resolver': { type: 'string' },
    },
    strict: true,
  });
  const { config: configFile, ...flags } = values;
  const resolved = await resolveConfig(flags, configFile);
  // Default: one worker per core (issue 6); the library default (startServer) stays 1.
  const explicit = flags.workers !== undefined || (configFile !== undefined && (await configSetsWorkers(configFile)));
  const config = { ...resolved, workers: explicit ? resolved.workers : availableParallelism() };
  if (cluster.isWorker) {
    const logger = pino({ level: config.logLevel, base: { pid: process.pid, worker: cluster.worker?.id }, timestamp: pino.stdTimeFunctions.isoTime });
    return startWorker({ config, logger });
  }
  const logger = pino({ level: config.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
  const server = config.workers > 1 ? await startPrimary({ config, logger }) : await startServer({ config, logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
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
}

/** Whether the config file names `workers` (then it wins over the per-core default). */
async function configSetsWorkers(file: string): Promise<boolean> {
  const raw: unknown = parseYaml(await readFile(file, 'utf8'));
  return typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>).workers !== undefined;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'ds':
      // Offline (reads the state folder) unless an API is named: then ask the running server.
      if (rest.some((a) => a === '--api' || a.startsWith('--api=')) || (process.env.TANDEM_API && !rest.includes('--state'))) {
        process.exitCode = await runAdminCommand(cmd, rest);
      } else process.exitCode = await runKeyCommand(cmd, rest);
      return;
    case 'tsig-keygen':
      process.exitCode = await runTsigKeygen(rest);
      return;
    case 'keys':
    case 'dump':
    case 'import-bind':
      process.exitCode = await runKeyCommand(cmd, rest);
      return;
    case 'convert':
      process.exitCode = await runConvert(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage + '\n' + adminUsage);
      return;
    default:
      if ((ADMIN_COMMANDS as readonly string[]).includes(cmd)) {
        process.exitCode = await runAdminCommand(cmd, rest);
        return;
      }
      process.stderr.write(`tandem: unknown command '${cmd}'\n\n${usage}`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  const msg = err instanceof ConfigError || (err instanceof Error && err.name === 'TypeError' && /parseArgs|option/i.test(err.message))
    ? (err as Error).message
    : err instanceof Error ? err.message : String(err);
  process.stderr.write(`tandem: ${msg}\n`);
  process.exitCode = 1;
});
