// What one lab is, as `tandem lab` records it in its folder (lab.json): the zone, every process it started (PID,
// ports, kind), each provider's keys, and the files it wrote for the operator (DS set, trust anchors, resolver
// config). Written with the one durable write (writeFileAtomic), so a command that dies half-way leaves the last
// whole state, and `lab down` still finds every PID.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '../state/atomic.js';

export type ProviderKind = 'tandem' | 'knot' | 'pdns' | 'bind';

/** One key as a DNSKEY RR in presentation form, with its tag. */
export interface LabKey {
  tag: number;
  /** 257 (KSK) or 256 (ZSK). */
  flags: number;
  /** The public key field (base64). */
  publicKey: string;
}

export interface LabProvider {
  name: string;
  kind: ProviderKind;
  address: string;
  port: number;
  /** tandem's admin API port. */
  api?: number;
  pid: number;
  /** The provider's own folder inside the lab's. */
  dir: string;
  /** Its own keys (not the ones it imported). */
  keys: LabKey[];
  /** The DS (digest type 2) of each of its KSKs, as `ZONE. TTL IN DS tag 13 2 HEX`. */
  ds: string[];
}

export interface LabResolver {
  kind: 'unbound';
  address: string;
  port: number;
  controlPort: number;
  pid: number;
  conf: string;
}

export interface LabState {
  version: 1;
  zone: string;
  parentZone: string;
  denial: 'compact' | 'nsec' | 'nsec3';
  /** KSKs exchanged too (every provider's DNSKEY RRset holds every KSK). */
  union: boolean;
  /** TTL of every record of the lab, DNSKEY and DS included (short, so the RFC 8901 §8 waits are short). */
  ttl: number;
  /** The admin API token of every tandem the lab started. */
  token: string;
  parent: LabProvider;
  providers: LabProvider[];
  resolver?: LabResolver;
  /** Negative controls applied (`lab break`). */
  broken: string[];
  files: { ds: string; anchor: string; parentAnchor: string };
}

export const STATE_FILE = 'lab.json';

export async function readLab(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const s = JSON.parse(text) as LabState;
  if (s.version !== 1) throw new Error(`${join(dir, STATE_FILE)}: unknown lab version ${String(s.version)}`);
  return s;
}

// Writes of one lab's state, one at a time, each taking the state as it is when its turn comes: processes start
// in parallel and each records its PID at once, and an earlier write finishing last must not drop a later PID.
const writes = new Map<string, Promise<void>>();

export function writeLab(dir: string, s: LabState): Promise<void> {
  const prev = writes.get(dir) ?? Promise.resolve();
  // It holds the API token of the lab's servers.
  const next = prev.catch(() => undefined).then(() => writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(s, null, 2)}\n`, PRIVATE_FILE_MODE));
  writes.set(dir, next);
  void next.finally(() => { if (writes.get(dir) === next) writes.delete(dir); }).catch(() => undefined);
  return next;
}

/** Every process of the lab: providers, parent, resolver. */
export function labPids(s: LabState): { name: string; pid: number }[] {
  return [
    ...s.providers.map((p) => ({ name: p.name, pid: p.pid })),
    { name: s.parent.name, pid: s.parent.pid },
    ...(s.resolver ? [{ name: 'unbound', pid: s.resolver.pid }] : []),
  ].filter((p) => p.pid > 0);
}

/** `tag 13 2 HEX` of a DS line. */
export function dsRdataText(ds: string): string {
  return ds.trim().split(/\s+/).slice(-4).join(' ');
}

/** The DS set as `tandem check --ds` reads it. */
export function dsFileText(s: LabState, ds: readonly string[]): string {
  return `; the DS set of ${s.zone} at the lab's parent (${s.parentZone}), one per provider KSK\n${ds.join('\n')}\n`;
}

/** delv's trust-anchors syntax: one static-ds per DS. */
export function anchorText(zone: string, ds: readonly string[]): string {
  const lines = ds.map((d) => {
    const [tag, alg, dt, hex] = dsRdataText(d).split(' ');
    return `  "${zone}" static-ds ${tag} ${alg} ${dt} "${hex}";`;
  });
  return `trust-anchors {\n${lines.join('\n')}\n};\n`;
}
