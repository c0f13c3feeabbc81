// What key sync remembers per zone, `<state>/sync/<zone>.json` (written whole with writeFileAtomic): per peer,
// what we published there (so a key of ours that is gone can be withdrawn), every key of ours ever published
// (never imported back from the peer, even after it left our own set), the last push and pull and what they
// found, and a provider removal in progress (removal.ts). The keys the peers' pulls hold are claims in the
// zone's admin state (`sync:<peer>`, state/claims.ts), not here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Name } from '../../dns/name.js';
import { ensureDir, writeFileAtomic } from '../../state/atomic.js';
import type { Removal } from './removal.js';

/** Base64 RDATA per type. */
export interface Published {
  dnskey: string[];
  cds: string[];
  cdnskey: string[];
}

export interface Outcome {
  at: string;
  ok: boolean;
  error?: string;
}

export interface PeerState {
  published: Published;
  /** Every DNSKEY of ours ever published at this peer (base64). */
  ours: string[];
  lastPush?: Outcome;
  lastPull?: Outcome & {
    /** How the peer's DNSKEY RRset was trusted (DS, its own signature, TSIG, the API). */
    validated?: string;
    /** The peer's keys as last seen (base64 DNSKEY RDATA, ours included). */
    keys?: string[];
  };
  /** What differs between us and the peer now (RFC 8901 §3: every ZSK everywhere), one line each. */
  differences: string[];
  removal?: Removal;
}

export interface SyncFile {
  version: 1;
  peers: Record<string, PeerState>;
}

export const emptyPublished = (): Published => ({ dnskey: [], cds: [], cdnskey: [] });
export const freshPeer = (): PeerState => ({ published: emptyPublished(), ours: [], differences: [] });

export function syncPath(stateDir: string, origin: Name): string {
  return join(stateDir, 'sync', `${origin.key === '.' ? '.root' : origin.key.slice(0, -1)}.json`);
}

export async function readSyncFile(stateDir: string, origin: Name): Promise<SyncFile> {
  const path = syncPath(stateDir, origin);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, peers: {} };
    throw err;
  }
  try {
    const f = JSON.parse(text) as SyncFile;
    if (f.version !== 1 || typeof f.peers !== 'object' || f.peers === null) throw new Error('not a key sync state file of version 1');
    for (const [name, p] of Object.entries(f.peers)) f.peers[name] = { ...freshPeer(), ...p, published: { ...emptyPublished(), ...p.published } };
    return f;
  } catch (err) {
    throw new Error(`${path}: key sync state does not parse (${(err as Error).message}); fix or remove it`);
  }
}

export async function writeSyncFile(stateDir: string, origin: Name, f: SyncFile): Promise<void> {
  await ensureDir(join(stateDir, 'sync'));
  await writeFileAtomic(syncPath(stateDir, origin), JSON.stringify(f, null, 2) + '\n');
}
