// Who holds each imported DNSKEY (issue 13). Several sources may publish one key: the zone file and the
// Cloudflare dns_records API (one source: the API edits the file), `tandem import-key`, each NS1 external key
// set, an RFC 2136 UPDATE, a zone transfer and each peer of tandem's own key sync (`sync:<peer>`). A key stays
// in the DNSKEY RRset while any source holds it; removing it through one source removes only that source's
// claim. In production the key of another provider must never go because a third party let go of it: answers
// signed with it would fail validation.
//
// Claims live in the admin state (`keyClaims`, base64 RDATA -> sources), written atomically with the rest;
// the zone file stays the source of truth for which keys exist (claimsAtLoad).
import type { AdminFile } from './admin-file.js';

/** A holder of an imported DNSKEY. */
export type KeySource = 'records' | 'cli' | 'ddns' | 'transfer' | `ns1:${string}` | `sync:${string}`;

/** Sources a client of the Cloudflare dns_records routes may name (header X-Tandem-Source). */
export const RECORD_SOURCES = ['records', 'cli'] as const;
export type RecordSource = (typeof RECORD_SOURCES)[number];

export const ns1Source = (set: string): KeySource => `ns1:${set}`;
/** The keys tandem's own key sync pulled from a peer (zone.sync, update/sync/). */
export const syncSource = (peer: string): KeySource => `sync:${peer}`;

/** The source in words, for messages and logs. */
export function describeSource(s: KeySource): string {
  if (s.startsWith('ns1:')) return `NS1 set '${s.slice(4)}'`;
  if (s.startsWith('sync:')) return `key sync with '${s.slice(5)}'`;
  switch (s) {
    case 'records': return 'the zone file / dns_records';
    case 'cli': return 'tandem import-key';
    case 'ddns': return 'DNS UPDATE (RFC 2136)';
    case 'transfer': return 'zone transfer';
    default: return s;
  }
}

export function describeSources(list: readonly KeySource[]): string {
  const words = list.map(describeSource);
  return words.length <= 1 ? (words[0] ?? 'nobody') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

export const keyId = (rdata: Uint8Array): string => Buffer.from(rdata).toString('base64');

/** The sources holding a key that is in the zone file (one with no recorded claim is the file's). */
export function holders(admin: AdminFile, rdata: Uint8Array): KeySource[] {
  const c = admin.keyClaims?.[keyId(rdata)];
  return c && c.length > 0 ? [...c] : ['records'];
}

/**
 * Makes the claims agree with the zone file at load: a claim on a key no longer in the file is dropped
 * (the file is the truth), so is its place in an NS1 set; NS1 sets decide the `ns1:` claims; a key in the
 * file that nobody claims is held by the file. Older state without claims keeps every key the file has
 * (`records`) besides the NS1 sets that list it: nothing is lost by an upgrade.
 */
export function claimsAtLoad(admin: AdminFile, fileKeys: Uint8Array[], transferred = false): void {
  const inFile = new Set(fileKeys.map(keyId));
  if (transferred) {
    // A secondary zone's DNSKEYs are held by its transfer alone (the API cannot change a secondary's records).
    admin.keyClaims = Object.fromEntries([...inFile].map((k): [string, KeySource[]] => [k, ['transfer']]));
    return;
  }
  for (const set of Object.values(admin.keySets)) set.keys = set.keys.filter((k) => inFile.has(k));
  const claims: Record<string, KeySource[]> = {};
  for (const k of inFile) {
    const stored: KeySource[] = admin.keyClaims?.[k] ?? ['records'];
    const sets = Object.entries(admin.keySets).filter(([, s]) => s.keys.includes(k)).map(([name]) => ns1Source(name));
    const all = [...new Set([...stored.filter((s) => !s.startsWith('ns1:') || sets.includes(s)), ...sets])];
    claims[k] = all.length > 0 ? all : ['records'];
  }
  admin.keyClaims = claims;
}
