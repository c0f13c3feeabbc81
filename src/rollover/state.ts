// A zone's key rollover as persisted: `<state>/rollover/<zone>.json`, written with writeFileAtomic after every
// step, so a restart resumes at the step it was in (machine.ts says what each step waits for).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../config/server.js';
import type { Name } from '../dns/name.js';
import { ensureDir, TEMP_PREFIX, writeFileAtomic } from '../state/atomic.js';

export type RolloverKind = 'zsk' | 'ksk';

/**
 * - `publish`: the new key is in our DNSKEY RRset, not signing. ZSK: waiting until every provider publishes it,
 *   then the DNSKEY TTL (RFC 6781 §4.1.1.1, RFC 8901 §6). KSK: waiting for its DS at the parent, then the DS TTL
 *   (RFC 6781 §4.1.2, RFC 7583 Double-DS).
 * - `retire`: the new key signs; the old one stays published. ZSK: for the largest TTL in the zone (signatures
 *   made by the old key may be cached that long). KSK: for the DNSKEY TTL (DNSKEY RRsets signed by the old KSK).
 * - `withdraw` (KSK): the old KSK is gone from DNSKEY and CDS/CDNSKEY; waiting for the parent to drop its DS.
 * - `done`.
 */
export type RolloverStep = 'publish' | 'retire' | 'withdraw' | 'done';

/** One provider's DNSKEY RRset as last polled. */
export interface ProviderSeen {
  provider: string;
  /** Whether the new key (publish) was in its DNSKEY RRset; undefined when the poll failed. */
  hasNew?: boolean;
  ttl?: number;
  error?: string;
}

export interface Rollover {
  version: 1;
  zone: string;
  kind: RolloverKind;
  step: RolloverStep;
  oldTag: number;
  newTag: number;
  /** `ZONE. TTL IN DNSKEY ...` of both keys, for the operator to push to (or withdraw from) other providers. */
  oldDnskey: string;
  newDnskey: string;
  /** Both keys' DNSKEY RDATA, base64. */
  oldKey: string;
  newKey: string;
  startedAt: number;
  /** When the current step began. */
  stepSince: number;
  /**
   * Whom to poll for the DNSKEY RRset (ZSK): HOST:PORT each, given at start; empty = the zone's apex NS hosts,
   * resolved when polled (probe.ts).
   */
  providers: string[];
  /** publish: when the condition was first met (every provider has the new key / the new DS is at the parent) and the TTL to wait from then; reset when it stops holding. */
  seenAt?: number;
  seenTtl?: number;
  /** Last poll: per provider (ZSK) or of the parent (KSK). */
  lastCheck?: number;
  seen?: ProviderSeen[];
  /** retire: when the new key started signing and how long the old one stays published. */
  switchedAt?: number;
  retireTtl?: number;
  /** When the old key left the DNSKEY RRset. */
  removedAt?: number;
  doneAt?: number;
}

export function rolloverDir(stateDir: string): string {
  return join(stateDir, 'rollover');
}

function fileOf(stateDir: string, zone: Name): string {
  const k = zone.key;
  return join(rolloverDir(stateDir), `${k === '.' ? '.root' : k.slice(0, -1)}.json`);
}

export async function writeRollover(stateDir: string, zone: Name, r: Rollover): Promise<void> {
  await ensureDir(rolloverDir(stateDir));
  await writeFileAtomic(fileOf(stateDir, zone), JSON.stringify(r, null, 2) + '\n');
}

export class RolloverStateError extends Error {}

function check(r: Rollover, file: string): Rollover {
  const ok = r.version === 1 && (r.kind === 'zsk' || r.kind === 'ksk') && ['publish', 'retire', 'withdraw', 'done'].includes(r.step)
    && Number.isInteger(r.oldTag) && Number.isInteger(r.newTag) && typeof r.zone === 'string' && Array.isArray(r.providers);
  if (!ok) throw new RolloverStateError(`${file}: not a rollover state (version, kind, step, tags, zone, providers); fix or remove it`);
  return r;
}

/** Every rollover in the state folder (done ones too: status keeps showing the last). */
export async function readRollovers(stateDir: string): Promise<Rollover[]> {
  let files: string[];
  try {
    files = await readdir(rolloverDir(stateDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Rollover[] = [];
  for (const f of files.sort()) {
    if (!f.endsWith('.json') || f.startsWith(TEMP_PREFIX)) continue;
    const file = join(rolloverDir(stateDir), f);
    let r: Rollover;
    try {
      r = JSON.parse(await readFile(file, 'utf8')) as Rollover;
    } catch (err) {
      throw new RolloverStateError(`${file}: does not parse (${(err as Error).message}); fix or remove it`);
    }
    out.push(check(r, file));
  }
  return out;
}

/** HOST:PORT (port 53 when left out) in the form kept in the state. */
export function providerText(text: string): string {
  const t = text.trim();
  return formatEndpoint(parseEndpoint(/:\d+$/.test(t) ? t : t.includes(':') && !t.startsWith('[') ? `[${t}]:53` : `${t}:53`));
}

export function providerEndpoint(text: string): Endpoint {
  return parseEndpoint(text);
}
