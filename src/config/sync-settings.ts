// The `sync:` part of a zone's `zone:` section (issue 12): the other signers of a multi-signer zone (RFC 8901
// model 2) that tandem exchanges keys with by itself. Each peer is reached one way:
//
//   sync:
//     - { name: knot, method: ddns, address: "192.0.2.1:53", key: sync-key }
//     - { name: cf, method: cloudflare, base_url: "https://api.cloudflare.com/client/v4", zone_id: "...", token_env: CF_TOKEN }
//     - { name: n1, method: ns1, base_url: "https://api.nsone.net/v1", token_file: /etc/tandem/ns1.key }
//
// `ddns`: TSIG-signed UPDATE to ADDRESS (RFC 2136), the peer's DNSKEY RRset asked there over DNS; `cloudflare`:
// the /client/v4 dns_records and dnssec routes; `ns1`: NS1's external_keys. The base URL is configurable so that
// another tandem (its admin API speaks both) or a test server can stand in. `ksk: true` publishes our KSK too (the
// ZSK always goes), `cds: false` leaves out our CDS/CDNSKEY, `pull: false` does not import the peer's keys.
// Names stay plain data (configs cross thread and process boundaries); the TSIG key name is checked against the
// server config by the zone manager, the token is read when a sync runs (update/sync/).
import { isSeq } from 'yaml';
import { parseDuration } from './duration.js';
import { parseHostPort } from './transfer-settings.js';
import { asMap, checkKeys, entries, fail, isNull, scalarText, type Entry, type Source } from './yaml-nodes.js';

export const SYNC_METHODS = ['ddns', 'cloudflare', 'ns1'] as const;
export type SyncMethod = (typeof SYNC_METHODS)[number];

/** Where an API token comes from: an environment variable or a file (read at each sync, never stored). */
export type TokenSource = { env: string } | { file: string };

export interface SyncPeer {
  /** The peer's name: claims are `sync:<name>` (state/claims.ts); `tandem sync remove ZONE NAME`. */
  name: string;
  method: SyncMethod;
  /** ddns: where UPDATE goes and the DNSKEY RRset is asked (plain data). */
  address?: { host: string; port: number };
  /** ddns: TSIG key name (server config `tsig:`); UPDATE and the DNSKEY query are signed with it. */
  key?: string;
  /** cloudflare / ns1: the API's base URL, without a trailing slash. */
  baseUrl?: string;
  /** cloudflare: the zone's id there (default: looked up by name, GET /zones?name=). */
  zoneId?: string;
  /** ns1: the external key set our keys are published in (default `tandem`). */
  keySet?: string;
  /** cloudflare / ns1: the API token. */
  token?: TokenSource;
  /** Publish our KSK as well as our ZSK. */
  ksk: boolean;
  /** Publish our CDS/CDNSKEY (RFC 7344) for our KSK (ddns, cloudflare; NS1 has no such records). */
  cds: boolean;
  /** Import the peer's keys (claims `sync:<name>`). */
  pull: boolean;
  /** Seconds between syncs besides those our key changes start. */
  interval: number;
}

export const DEFAULT_SYNC_INTERVAL = 3600;
export const CLOUDFLARE_BASE_URL = 'https://api.cloudflare.com/client/v4';
export const NS1_BASE_URL = 'https://api.nsone.net/v1';
const PEER_KEYS = ['name', 'method', 'address', 'key', 'base_url', 'zone_id', 'key_set', 'token_env', 'token_file', 'ksk', 'cds', 'pull', 'interval'] as const;
/** Which keys each method takes (besides name, method, ksk, cds, pull, interval). */
const METHOD_KEYS: Record<SyncMethod, readonly string[]> = {
  ddns: ['address', 'key'],
  cloudflare: ['base_url', 'zone_id', 'token_env', 'token_file'],
  ns1: ['base_url', 'key_set', 'token_env', 'token_file'],
};
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `zone.sync` (a list of peers). */
export function parseSyncSettings(src: Source, node: unknown): SyncPeer[] {
  if (isNull(node)) return [];
  if (!isSeq(node)) fail(src, node, 'zone.sync must be a list of peers ({ name, method: ddns|cloudflare|ns1, ... })');
  const peers = node.items.map((item) => peer(src, item));
  const seen = new Set<string>();
  node.items.forEach((item, i) => {
    const n = peers[i].name.toLowerCase();
    if (seen.has(n)) fail(src, item, `zone.sync: two peers named ${JSON.stringify(peers[i].name)} (each peer's name is unique: it names its keys' claims)`);
    seen.add(n);
  });
  return peers;
}

function text(src: Source, e: Entry, what: string): string {
  const t = scalarText(e.value);
  if (typeof t !== 'string' || t.trim() === '') fail(src, e.value, `${what} must be a non-empty string`);
  return t.trim();
}

function bool(src: Source, e: Entry | undefined, what: string, dflt: boolean): boolean {
  if (!e) return dflt;
  const t = scalarText(e.value);
  if (t === 'true') return true;
  if (t === 'false') return false;
  fail(src, e.value, `${what} must be true or false, not ${JSON.stringify(t ?? null)}`);
}

function peer(src: Source, node: unknown): SyncPeer {
  const items = entries(src, asMap(src, node, 'a zone.sync entry ({ name, method, ... })'));
  checkKeys(src, items, PEER_KEYS, 'zone.sync');
  const get = (k: string) => items.find((e) => e.key === k);
  const n = get('name');
  if (!n) fail(src, node, 'zone.sync: each peer needs a name (letters, digits, _ . -)');
  const name = text(src, n, 'zone.sync name');
  if (!NAME.test(name)) fail(src, n.value, `zone.sync name ${JSON.stringify(name)}: 1-64 letters, digits, _ . -`);
  const m = get('method');
  if (!m) fail(src, node, `zone.sync ${name}: method is required (${SYNC_METHODS.join(', ')})`);
  const method = text(src, m, `zone.sync ${name} method`) as SyncMethod;
  if (!SYNC_METHODS.includes(method)) fail(src, m.value, `zone.sync ${name}: method ${JSON.stringify(method)} is not one of ${SYNC_METHODS.join(', ')}`);
  for (const e of items) {
    if (['name', 'method', 'ksk', 'cds', 'pull', 'interval'].includes(e.key) || METHOD_KEYS[method].includes(e.key)) continue;
    fail(src, e.keyNode, `zone.sync ${name}: ${e.key} is not used by method ${method} (it takes ${METHOD_KEYS[method].join(', ')})`);
  }
  const iv = get('interval');
  let interval = DEFAULT_SYNC_INTERVAL;
  if (iv) {
    const d = parseDuration(text(src, iv, `zone.sync ${name} interval`));
    if (d === undefined || d < 10 || d > 7 * 86400) fail(src, iv.value, `zone.sync ${name} interval must be a duration from 10s to 7d (e.g. 1h)`);
    interval = d;
  }
  const out: SyncPeer = {
    name, method,
    ksk: bool(src, get('ksk'), `zone.sync ${name} ksk`, false),
    cds: bool(src, get('cds'), `zone.sync ${name} cds`, method !== 'ns1'),
    pull: bool(src, get('pull'), `zone.sync ${name} pull`, true),
    interval,
  };
  if (method === 'ns1' && out.cds) fail(src, get('cds')!.value, `zone.sync ${name}: NS1 takes no CDS/CDNSKEY records (its external_keys hold DNSKEYs only); publish our KSK with ksk: true instead`);
  if (method === 'ddns') {
    const a = get('address');
    if (!a) fail(src, node, `zone.sync ${name}: method ddns needs address: HOST:PORT (where UPDATE goes and the DNSKEY RRset is asked)`);
    const at = parseHostPort(text(src, a, `zone.sync ${name} address`), 53);
    if (!at) fail(src, a.value, `zone.sync ${name}: address ${JSON.stringify(scalarText(a.value))} is not ADDRESS, ADDRESS:PORT or [IPv6]:PORT`);
    out.address = at;
    const k = get('key');
    if (!k) fail(src, node, `zone.sync ${name}: method ddns needs key: the name of a TSIG key (server config tsig:); unsigned UPDATE is not sent`);
    out.key = text(src, k, `zone.sync ${name} key`);
    return out;
  }
  const b = get('base_url');
  const base = b ? text(src, b, `zone.sync ${name} base_url`) : method === 'cloudflare' ? CLOUDFLARE_BASE_URL : NS1_BASE_URL;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    fail(src, b?.value ?? node, `zone.sync ${name}: base_url ${JSON.stringify(base)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(src, b?.value ?? node, `zone.sync ${name}: base_url must be http(s)`);
  out.baseUrl = base.replace(/\/+$/, '');
  const te = get('token_env');
  const tf = get('token_file');
  if (te && tf) fail(src, tf.keyNode, `zone.sync ${name}: give token_env or token_file, not both`);
  if (!te && !tf) fail(src, node, `zone.sync ${name}: method ${method} needs token_env: VARIABLE or token_file: PATH (the API token; never in the zone file)`);
  out.token = te ? { env: text(src, te, `zone.sync ${name} token_env`) } : { file: text(src, tf!, `zone.sync ${name} token_file`) };
  const z = get('zone_id');
  if (z) out.zoneId = text(src, z, `zone.sync ${name} zone_id`);
  const ks = get('key_set');
  if (ks) {
    out.keySet = text(src, ks, `zone.sync ${name} key_set`);
    if (!NAME.test(out.keySet)) fail(src, ks.value, `zone.sync ${name}: key_set: 1-64 letters, digits, _ . -`);
  }
  return out;
}

/** How the peer is reached, for logs and status. */
export function describePeer(p: SyncPeer): string {
  if (p.method === 'ddns') return `ddns ${p.address!.host.includes(':') ? `[${p.address!.host}]` : p.address!.host}:${p.address!.port} key ${p.key}`;
  return `${p.method} ${p.baseUrl}`;
}
