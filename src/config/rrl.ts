// `rrl:` in the server config (and `--rrl RATE`): response rate limiting over UDP (server/rrl.ts), in the
// manner of BIND's `rate-limit` and Knot's `mod-rrl`. Off unless configured.
import { BlockList, isIP } from 'node:net';

/** The response classes, each with its own rate (the metrics' `class` label). */
export const RRL_CLASSES = ['positive', 'nxdomain', 'nodata', 'referral', 'error'] as const;
export type RrlClass = (typeof RRL_CLASSES)[number];

export interface RrlConfig {
  /** Positive answers per second per client prefix and (name, type); 0: not limited. */
  responsesPerSecond: number;
  /** NXDOMAIN (and compact denial's NXNAME, RFC 9824) per second per prefix and zone; default responsesPerSecond. */
  nxdomainsPerSecond?: number;
  /** NODATA per second per prefix and name; default responsesPerSecond. */
  nodataPerSecond?: number;
  /** Referrals per second per prefix and delegation; default responsesPerSecond. */
  referralsPerSecond?: number;
  /** Errors (FORMERR, SERVFAIL, REFUSED, ...) per second per prefix; default responsesPerSecond. */
  errorsPerSecond?: number;
  /** Every slip-th limited response goes out truncated (TC=1, no records), the rest are dropped; 0: drop all, 1: truncate all. */
  slip: number;
  /** Seconds an account may owe (it cannot fall below -window x rate): how long a flood is remembered after it stops. */
  window: number;
  ipv4Prefix: number;
  ipv6Prefix: number;
  /** Client addresses or prefixes (`127.0.0.0/8`, `::1`) never limited. */
  exempt: string[];
  /** Count and log what would be limited, but answer everything. */
  logOnly: boolean;
  /** Most accounts kept (each about 150 bytes); the least recently used is reused first. */
  tableSize: number;
}

export const rrlDefaults: RrlConfig = {
  responsesPerSecond: 20, slip: 2, window: 15, ipv4Prefix: 24, ipv6Prefix: 56, exempt: [], logOnly: false, tableSize: 100_000,
};

export class RrlConfigError extends Error {}

/** An `exempt` entry as BlockList takes it: address, prefix length, family; throws on a bad entry. */
export function exemptSubnet(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(entry.trim());
  const v = m ? isIP(m[1]) : 0;
  const max = v === 4 ? 32 : 128;
  const prefix = m?.[2] === undefined ? max : Number(m[2]);
  if (!m || v === 0 || prefix > max) throw new RrlConfigError(`bad exempt prefix '${entry}': expected ADDRESS or ADDRESS/LENGTH`);
  return { address: m[1], prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** The exempt prefixes as one BlockList. */
export function exemptList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const s = exemptSubnet(e);
    list.addSubnet(s.address, s.prefix, s.family);
  }
  return list;
}

/**
 * `rrl:` as written: `off`/`false` (undefined), a number (responses per second, the rest default), or a mapping
 * of the keys below. Throws RrlConfigError naming the key and the rule.
 */
export function parseRrl(value: unknown, where: string): RrlConfig | undefined {
  if (value === false || value === 'off' || value === 'false' || value === null) return undefined;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    return { ...rrlDefaults, responsesPerSecond: int(Number(value), 'rrl', 1, 1_000_000, where) };
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new RrlConfigError(`${where}: 'rrl' must be off, a number (responses per second) or a mapping`);
  const out: RrlConfig = { ...rrlDefaults, exempt: [] };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const n = (min: number, max: number) => int(typeof v === 'string' ? Number(v) : v, `rrl.${key}`, min, max, where);
    switch (key) {
      case 'responses-per-second': out.responsesPerSecond = n(0, 1_000_000); break;
      case 'nxdomains-per-second': out.nxdomainsPerSecond = n(0, 1_000_000); break;
      case 'nodata-per-second': out.nodataPerSecond = n(0, 1_000_000); break;
      case 'referrals-per-second': out.referralsPerSecond = n(0, 1_000_000); break;
      case 'errors-per-second': out.errorsPerSecond = n(0, 1_000_000); break;
      case 'slip': out.slip = n(0, 10); break;
      case 'window': out.window = n(1, 3600); break;
      case 'ipv4-prefix': out.ipv4Prefix = n(0, 32); break;
      case 'ipv6-prefix': out.ipv6Prefix = n(0, 128); break;
      case 'table-size': out.tableSize = n(100, 10_000_000); break;
      case 'log-only': {
        if (typeof v !== 'boolean') throw new RrlConfigError(`${where}: 'rrl.log-only' must be true or false`);
        out.logOnly = v;
        break;
      }
      case 'exempt': {
        const list = Array.isArray(v) ? v : [v];
        for (const e of list) {
          try {
            exemptSubnet(String(e));
          } catch (err) {
            throw new RrlConfigError(`${where}: rrl.exempt: ${(err as Error).message}`);
          }
          out.exempt.push(String(e));
        }
        break;
      }
      default: throw new RrlConfigError(`${where}: unknown rrl setting '${key}' (responses-per-second, nxdomains-per-second, nodata-per-second, referrals-per-second, errors-per-second, slip, window, ipv4-prefix, ipv6-prefix, exempt, log-only, table-size)`);
    }
  }
  return out;
}

function int(v: unknown, key: string, min: number, max: number, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RrlConfigError(`${where}: '${key}' must be an integer ${min}..${max}`);
  return v;
}
