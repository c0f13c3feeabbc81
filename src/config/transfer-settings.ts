// The zone-transfer parts of a zone's `zone:` section (issue 11): who may transfer the zone out and what
// they get (`transfer:`), who is told of changes (NOTIFY), how serials move (`serial_policy`), and for a
// secondary zone, where it comes from (`secondary:`). TSIG keys are named here and defined in the server
// config (`tsig:`); the zone manager checks that every name exists.
import { isIP } from 'node:net';
import { isSeq } from 'yaml';
import { SERIAL_POLICIES, type SerialPolicy } from '../transfer/serial.js';
import { asMap, checkKeys, entries, fail, isNull, scalarText, type Entry, type Source } from './yaml-nodes.js';

export type TransferContent = 'unsigned' | 'signed';
export type SecondaryDnssec = 'off' | 'live' | 'multi-signer' | 'presigned';

/** One `transfer.allow` entry: every condition given must hold (address AND key); entries are alternatives. */
export interface AclEntry {
  /** `192.0.2.0/24`, `2001:db8::/32` or one address (plain data: configs cross thread and process boundaries). */
  address?: Prefix;
  /** TSIG key name (the request must be signed with it). */
  key?: string;
  /** What this receiver gets; default the zone's `transfer.content`. */
  content?: TransferContent;
}

export interface Prefix {
  text: string;
  address: string;
  bits: number;
  family: 'ipv4' | 'ipv6';
}

export interface RemoteServer {
  host: string;
  port: number;
  /** TSIG key name to sign with (and to require from it). */
  key?: string;
}

export interface TransferConfig {
  allow: AclEntry[];
  notify: RemoteServer[];
  /** Also NOTIFY the addresses of the apex NS hosts (RFC 1996 §3.6 "implicit" list), except our own. */
  notifyApexNs: boolean;
  content: TransferContent;
  /** `unsigned` transfers carry our ZSK and imported keys; with this, our KSK too. */
  includeKsk: boolean;
  /** IXFR journal: how many changes are kept (older ones fall back to AXFR). */
  journal: number;
}

export interface SecondaryConfig {
  primaries: RemoteServer[];
  dnssec: SecondaryDnssec;
  /**
   * UPDATE sent to us for this zone is forwarded to the primaries (RFC 2136 §6), as received; absent: REFUSED.
   * `allow`: the client addresses whose UPDATE is forwarded (empty: every client; the primary decides).
   */
  forwardUpdates?: { allow: Prefix[] };
}

export interface TransferSettings {
  serialPolicy: SerialPolicy;
  transfer?: TransferConfig;
  secondary?: SecondaryConfig;
}

const TRANSFER_KEYS = ['allow', 'notify', 'notify_apex_ns', 'content', 'include_ksk', 'journal'] as const;
const ACL_KEYS = ['address', 'key', 'content'] as const;
const REMOTE_KEYS = ['address', 'key'] as const;
const SECONDARY_KEYS = ['primaries', 'dnssec', 'forward_updates'] as const;
const FORWARD_KEYS = ['allow'] as const;
const CONTENTS: readonly TransferContent[] = ['unsigned', 'signed'];
const SECONDARY_DNSSEC: readonly SecondaryDnssec[] = ['off', 'live', 'multi-signer', 'presigned'];
export const DEFAULT_JOURNAL = 100;

export function parseTransferSettings(src: Source, get: (k: string) => Entry | undefined): TransferSettings {
  const policyEntry = get('serial_policy');
  let serialPolicy: SerialPolicy = 'unixtime';
  if (policyEntry) serialPolicy = oneOf(src, policyEntry.value, SERIAL_POLICIES, 'zone.serial_policy');
  const t = get('transfer');
  const s = get('secondary');
  return {
    serialPolicy,
    ...(t && !isNull(t.value) ? { transfer: parseTransfer(src, t.value) } : {}),
    ...(s && !isNull(s.value) ? { secondary: parseSecondary(src, s.value) } : {}),
  };
}

function parseTransfer(src: Source, node: unknown): TransferConfig {
  const items = entries(src, asMap(src, node, 'zone.transfer'));
  checkKeys(src, items, TRANSFER_KEYS, 'zone.transfer');
  const out: TransferConfig = { allow: [], notify: [], notifyApexNs: false, content: 'unsigned', includeKsk: false, journal: DEFAULT_JOURNAL };
  for (const e of items) {
    switch (e.key) {
      case 'allow': out.allow = list(src, e.value, 'zone.transfer.allow').map((n) => aclEntry(src, n)); break;
      case 'notify': out.notify = list(src, e.value, 'zone.transfer.notify').map((n) => remote(src, n, 'zone.transfer.notify', 53)); break;
      case 'notify_apex_ns': out.notifyApexNs = bool(src, e.value, 'zone.transfer.notify_apex_ns'); break;
      case 'content': out.content = oneOf(src, e.value, CONTENTS, 'zone.transfer.content'); break;
      case 'include_ksk': out.includeKsk = bool(src, e.value, 'zone.transfer.include_ksk'); break;
      case 'journal': {
        const v = Number(scalarText(e.value));
        if (!Number.isInteger(v) || v < 0 || v > 100_000) fail(src, e.value, 'zone.transfer.journal must be the number of changes kept, 0..100000');
        out.journal = v;
        break;
      }
    }
  }
  return out;
}

function parseSecondary(src: Source, node: unknown): SecondaryConfig {
  const items = entries(src, asMap(src, node, 'zone.secondary'));
  checkKeys(src, items, SECONDARY_KEYS, 'zone.secondary');
  const p = items.find((e) => e.key === 'primaries');
  if (!p) fail(src, node, 'zone.secondary.primaries is required: the servers this zone is transferred from');
  const primaries = list(src, p.value, 'zone.secondary.primaries').map((n) => remote(src, n, 'zone.secondary.primaries', 53));
  if (primaries.length === 0) fail(src, p.value, 'zone.secondary.primaries is empty');
  const d = items.find((e) => e.key === 'dnssec');
  const dnssec = d ? oneOf(src, d.value, SECONDARY_DNSSEC, 'zone.secondary.dnssec') : 'off';
  const f = items.find((e) => e.key === 'forward_updates');
  const forwardUpdates = f ? parseForwardUpdates(src, f.value) : undefined;
  return { primaries, dnssec, ...(forwardUpdates ? { forwardUpdates } : {}) };
}

/** `forward_updates: true | false | { allow: [PREFIX, ...] }` (the map form turns forwarding on). */
function parseForwardUpdates(src: Source, node: unknown): SecondaryConfig['forwardUpdates'] {
  const what = 'zone.secondary.forward_updates';
  if (scalarText(node) !== undefined) return bool(src, node, what) ? { allow: [] } : undefined;
  const items = entries(src, asMap(src, node, `${what} (true, false or { allow: [ADDRESS/PREFIX, ...] })`));
  checkKeys(src, items, FORWARD_KEYS, what);
  const a = items.find((e) => e.key === 'allow');
  const allow = a ? list(src, a.value, `${what}.allow`).map((n) => {
    const text = scalarText(n);
    if (typeof text !== 'string' || text === '') fail(src, n, `${what}.allow entries are addresses or prefixes such as 192.0.2.0/24`);
    return prefix(src, n, text, `${what}.allow`);
  }) : [];
  return { allow };
}

function list(src: Source, node: unknown, what: string): unknown[] {
  if (isNull(node)) return [];
  if (!isSeq(node)) fail(src, node, `${what} must be a list`);
  return node.items;
}

function aclEntry(src: Source, node: unknown): AclEntry {
  const items = entries(src, asMap(src, node, 'a zone.transfer.allow entry ({ address: PREFIX } and/or { key: NAME })'));
  checkKeys(src, items, ACL_KEYS, 'zone.transfer.allow');
  const out: AclEntry = {};
  for (const e of items) {
    const text = scalarText(e.value);
    if (typeof text !== 'string' || text === '') fail(src, e.value, `zone.transfer.allow ${e.key} must be a non-empty string`);
    if (e.key === 'address') out.address = prefix(src, e.value, text);
    else if (e.key === 'key') out.key = text;
    else out.content = oneOf(src, e.value, CONTENTS, 'zone.transfer.allow content');
  }
  if (!out.address && !out.key) fail(src, node, 'a zone.transfer.allow entry needs an address (prefix) or a TSIG key, or both');
  return out;
}

/** `ADDRESS[/PREFIX]`. */
function prefix(src: Source, node: unknown, text: string, what = 'zone.transfer.allow'): Prefix {
  const [addr, bits, extra] = text.split('/');
  const family = isIP(addr);
  const max = family === 6 ? 128 : 32;
  const prefix = bits === undefined ? max : Number(bits);
  if (family === 0 || extra !== undefined || !/^\d*$/.test(bits ?? '') || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    fail(src, node, `${what} address ${JSON.stringify(text)} is not an address or prefix such as 192.0.2.0/24 or 2001:db8::/32`);
  }
  return { text, address: addr, bits: prefix, family: family === 6 ? 'ipv6' : 'ipv4' };
}

/** `HOST:PORT`, `[v6]:PORT`, a bare address (port `defaultPort`), or `{ address, key }`. */
function remote(src: Source, node: unknown, what: string, defaultPort: number): RemoteServer {
  let text: string | null | undefined;
  let key: string | undefined;
  if (isNull(node)) fail(src, node, `${what}: empty entry`);
  const plain = scalarText(node);
  if (plain !== undefined) text = plain;
  else {
    const items = entries(src, asMap(src, node, `a ${what} entry ("ADDRESS:PORT" or { address, key })`));
    checkKeys(src, items, REMOTE_KEYS, what);
    const a = items.find((e) => e.key === 'address');
    if (!a) fail(src, node, `${what}: an entry needs an address`);
    text = scalarText(a.value);
    const k = items.find((e) => e.key === 'key');
    if (k) {
      const kt = scalarText(k.value);
      if (typeof kt !== 'string' || kt === '') fail(src, k.value, `${what}: key must be a TSIG key name`);
      key = kt;
    }
  }
  const parsed = typeof text === 'string' ? parseHostPort(text, defaultPort) : undefined;
  if (!parsed) fail(src, node, `${what}: ${JSON.stringify(text ?? null)} is not ADDRESS, ADDRESS:PORT or [IPv6]:PORT (an IP address, not a host name)`);
  return { ...parsed, ...(key ? { key } : {}) };
}

/** An IP address with an optional port; undefined when it is not one. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const t = text.trim();
  if (isIP(t)) return { host: t, port: defaultPort };
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(t);
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (!isIP(host) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

function oneOf<T extends string>(src: Source, node: unknown, allowed: readonly T[], what: string): T {
  const v = scalarText(node);
  if (!allowed.includes(v as T)) fail(src, node, `${what} ${JSON.stringify(v ?? null)} is not one of ${allowed.join(', ')}`);
  return v as T;
}

function bool(src: Source, node: unknown, what: string): boolean {
  const t = scalarText(node);
  if (t === 'true') return true;
  if (t === 'false') return false;
  fail(src, node, `${what} must be true or false, not ${JSON.stringify(t ?? null)}`);
}
