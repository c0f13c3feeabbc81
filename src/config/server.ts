// Server configuration: flags and the same keys in an optional YAML file (--config). Flags win over the file.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { TsigKey } from '../dns/tsig.js';
import { loadTsigKeys, TsigConfigError } from './tsig.js';
import { zoneDefaultsProblem } from './masterzone.js';
import { parseRrl, RrlConfigError, type RrlConfig } from './rrl.js';
import type { UdpIoMode } from '../server/udpio.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Endpoint {
  host: string;
  port: number;
}

export interface ServerConfig {
  zones: string;
  state: string;
  listen: Endpoint[];
  /** The admin API's address; false: no admin API (`--api off`). */
  api: Endpoint | false;
  /** `--metrics HOST:PORT`: a listener of its own for /health, /ready and /metrics (no credentials). */
  metrics?: Endpoint;
  /** `metrics-auth: true`: /metrics on the admin API listener asks for the API's credentials (default: it does not). */
  metricsAuth: boolean;
  logLevel: LogLevel;
  /** Worker processes sharing the listeners (issue 6); 1 = serve in this process. */
  workers: number;
  tcpIdleTimeoutMs: number;
  tcpMaxConnections: number;
  /**
   * `signing-queue`: fresh signatures (live signing) that may wait per process; past it a UDP query that needs one
   * is answered per `signingOverflow` (server/budget.ts). 0: only cached answers over UDP; false (`off`): no bound.
   */
  signingQueue: number | false;
  /** `signing-overflow`: `tc` (TC=1, the client retries over TCP) or `drop`. */
  signingOverflow: 'tc' | 'drop';
  /** `api_auth:` from the config file (tokens, users, ns1_keys), checked by the API layer. */
  apiAuth?: unknown;
  /** `--api-token`: a token accepted as `Authorization: Bearer` (labs and tests). */
  apiToken?: string;
  /** Where to ask for our DS at the parent (DNSSEC pending -> active); default: the first resolv.conf nameserver. */
  parentResolver?: Endpoint;
  /** Seconds between parent DS checks of zones waiting for their parent; 0 = none (library only: the flag's minimum is 10). */
  parentCheckInterval: number;
  /**
   * Send generalized NOTIFY(CDS) / NOTIFY(CSYNC) to the parent's DSYNC target when CDS/CDNSKEY or NS/CSYNC change
   * (RFC 9859), the target found through the parent resolver (`parent-notify`, default true).
   */
  parentNotify: boolean;
  /** Seconds between the polls of key rollovers in progress (rollover/); 0 = none (library only). */
  rolloverInterval: number;
  /** TSIG keys (RFC 8945) from `tsig:` (config/tsig.ts), for signed queries, transfers and NOTIFY. */
  tsig: TsigKey[];
  /** `zone-defaults:`: settings of master-file zones without their own (a `zone:` section's keys but origin and soa). */
  zoneDefaults?: Record<string, unknown>;
  /** `rrl:` / `--rrl RATE`: response rate limiting over UDP (config/rrl.ts, server/rrl.ts); undefined: off. */
  rrl?: RrlConfig;
  /**
   * `udp-io`: how UDP listeners read and answer (server/udpio.ts): `auto` (batched by recvmmsg/sendmmsg where the
   * addon native/udpio.node is built and loads, else Node's dgram), `batched` (required: the start fails without
   * it), `dgram` (one call per datagram).
   */
  udpIo: UdpIoMode;
}

export class ConfigError extends Error {}

export const defaults: ServerConfig = {
  zones: 'zones',
  state: '.tandem',
  listen: [{ host: '127.0.0.1', port: 5300 }],
  api: { host: '127.0.0.1', port: 8053 },
  logLevel: 'info',
  workers: 1,
  metricsAuth: false,
  tcpIdleTimeoutMs: 10_000,
  tcpMaxConnections: 1000,
  signingQueue: 1000,
  signingOverflow: 'tc',
  parentCheckInterval: 3600,
  parentNotify: true,
  rolloverInterval: 60,
  tsig: [],
  udpIo: 'auto',
};

const levels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses `HOST:PORT`, `[v6]:PORT` or `:PORT` (port 0 = ephemeral). */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*)):([0-9]{1,5})$/.exec(text.trim());
  if (!m) throw new ConfigError(`bad address '${text}': expected HOST:PORT or [IPv6]:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`bad port in '${text}'`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

type Raw = Partial<Record<string, unknown>>;

function fromRaw(raw: Raw, where: string): Partial<ServerConfig> {
  const out: Partial<ServerConfig> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const str = (): string => {
      if (typeof value !== 'string' && typeof value !== 'number') throw new ConfigError(`${where}: '${key}' must be a string`);
      return String(value);
    };
    const int = (min: number, max: number): number => {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${where}: '${key}' must be an integer ${min}..${max}`);
      return n;
    };
    switch (key) {
      case 'zones': out.zones = str(); break;
      case 'state': out.state = str(); break;
      case 'listen': {
        const list = Array.isArray(value) ? value : [value];
        out.listen = list.map((v) => parseEndpoint(String(v)));
        break;
      }
      // `off` (YAML 1.2 reads it as a string; `false` also works): no admin API.
      case 'api': out.api = value === false || str() === 'off' ? false : parseEndpoint(str()); break;
      case 'metrics': out.metrics = parseEndpoint(str()); break;
      case 'metrics-auth': case 'metrics_auth': {
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') throw new ConfigError(`${where}: '${key}' must be true or false`);
        out.metricsAuth = value === true || value === 'true';
        break;
      }
      case 'log-level': case 'logLevel': case 'log_level': {
        const l = str() as LogLevel;
        if (!levels.includes(l)) throw new ConfigError(`${where}: log level must be one of ${levels.join(', ')}`);
        out.logLevel = l;
        break;
      }
      case 'workers': out.workers = int(1, 256); break;
      case 'tcp-idle-timeout': case 'tcpIdleTimeout': out.tcpIdleTimeoutMs = int(100, 600_000); break;
      case 'tcp-max-connections': case 'tcpMaxConnections': out.tcpMaxConnections = int(1, 1_000_000); break;
      case 'signing-queue': case 'signingQueue': out.signingQueue = value === false || value === 'off' ? false : int(0, 1_000_000); break;
      case 'udp-io': case 'udpIo': {
        if (value !== 'auto' && value !== 'batched' && value !== 'dgram') throw new ConfigError(`${where}: '${key}' must be auto, batched or dgram`);
        out.udpIo = value;
        break;
      }
      case 'signing-overflow': case 'signingOverflow': {
        if (value !== 'tc' && value !== 'drop') throw new ConfigError(`${where}: '${key}' must be tc or drop`);
        out.signingOverflow = value;
        break;
      }
      case 'api_auth': case 'api-auth': out.apiAuth = value; break;
      case 'api-token': out.apiToken = str(); break;
      case 'parent-resolver': out.parentResolver = parseEndpoint(str()); break;
      case 'parent-check-interval': out.parentCheckInterval = int(10, 86400 * 7); break;
      case 'parent-notify': case 'parent_notify': {
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') throw new ConfigError(`${where}: '${key}' must be true or false`);
        out.parentNotify = value === true || value === 'true';
        break;
      }
      case 'rollover-interval': out.rolloverInterval = int(1, 86400); break;
      case 'tsig': break; // read by resolveConfig: items may name files
      case 'zone-defaults': case 'zone_defaults': {
        const problem = zoneDefaultsProblem(value);
        if (problem) throw new ConfigError(`${where}: ${problem}`);
        out.zoneDefaults = value as Record<string, unknown>;
        break;
      }
      case 'rrl': {
        try {
          out.rrl = parseRrl(value, where);
        } catch (e) {
          throw e instanceof RrlConfigError ? new ConfigError(e.message) : e;
        }
        break;
      }
      default: throw new ConfigError(`${where}: unknown setting '${key}'`);
    }
  }
  return out;
}

/** Merges defaults < config file < flags. */
export async function resolveConfig(flags: Raw, configFile?: string): Promise<ServerConfig> {
  let file: Partial<ServerConfig> = {};
  if (configFile) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config ${configFile}: ${(e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (e) {
      throw new ConfigError(`${configFile}: ${(e as Error).message}`);
    }
    if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw new ConfigError(`${configFile}: expected a mapping`);
    file = fromRaw((raw ?? {}) as Raw, configFile);
    const tsig = (raw as Raw | null)?.tsig;
    if (tsig !== undefined) {
      try {
        file.tsig = await loadTsigKeys(tsig, configFile);
      } catch (e) {
        throw e instanceof TsigConfigError ? new ConfigError(e.message) : e;
      }
    }
  }
  const fromFlags = fromRaw(flags, 'flags');
  const config = { ...defaults, ...file, ...fromFlags };
  // `--rrl RATE` sets the rate of the file's `rrl:` settings, keeping the others.
  if (fromFlags.rrl && file.rrl) config.rrl = { ...file.rrl, responsesPerSecond: fromFlags.rrl.responsesPerSecond };
  return config;
}
