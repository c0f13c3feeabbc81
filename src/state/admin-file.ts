// The admin state of one zone, `<state>/zones/<zone>.json`: what the YAML zone file cannot hold (record ids and
// timestamps, the DNSSEC state machine, NS1 external key set names, who holds each imported key). Written
// atomically with each change.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Name } from '../dns/name.js';
import type { VersionState } from './version.js';
import type { KeySource } from './claims.js';

export interface RecordMeta {
  id: string;
  createdOn: string;
  modifiedOn: string;
  comment?: string;
}

export interface AdminFile {
  version: 1;
  createdOn: string;
  modifiedOn: string;
  dnssec: {
    /** null: never enabled or deleted (Cloudflare's "deleted" state). */
    modifiedOn: string | null;
    /** Whether our DS is at the parent (from the parent check or the lab override); null = unknown. */
    parentDs: boolean | null;
    /** DNSSEC is being turned off: still signing, CDS/CDNSKEY delete published (RFC 8078 §4). */
    disabling: boolean;
  };
  /** Content key -> record metadata. */
  records: Record<string, RecordMeta>;
  /** NS1 external key sets: name -> TTL and base64 DNSKEY RDATA. */
  keySets: Record<string, { ttl: number; keys: string[] }>;
  /** The serial served last and the digest of what it served (state/version.ts). */
  served?: VersionState;
  /** Imported DNSKEYs (base64 RDATA) -> the sources holding them (claims.ts); absent in older state. */
  keyClaims?: Record<string, KeySource[]>;
}

export function adminPath(stateDir: string, origin: Name): string {
  return join(stateDir, 'zones', `${origin.key === '.' ? '.root' : origin.key.slice(0, -1)}.json`);
}

export function freshAdmin(ts: string): AdminFile {
  return { version: 1, createdOn: ts, modifiedOn: ts, dnssec: { modifiedOn: null, parentDs: null, disabling: false }, records: {}, keySets: {}, keyClaims: {} };
}

export async function readAdmin(path: string, ts: string): Promise<AdminFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return freshAdmin(ts);
    throw err;
  }
  try {
    const a = JSON.parse(text) as AdminFile;
    if (a.version !== 1) throw new Error(`unknown version ${String(a.version)}`);
    return { ...freshAdmin(ts), ...a, dnssec: { ...freshAdmin(ts).dnssec, ...a.dnssec } };
  } catch (err) {
    throw new Error(`${path}: admin state does not parse (${(err as Error).message}); fix or remove it`);
  }
}
