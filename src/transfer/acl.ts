// Who may transfer a zone out (zone.transfer.allow): entries are alternatives, and within one entry every
// condition given must hold — the source address lies in the prefix, the request is signed with the key.
import { BlockList } from 'node:net';
import type { AclEntry, Prefix, TransferConfig, TransferContent } from '../config/transfer-settings.js';
import type { TsigKey } from '../dns/tsig.js';
import { Name } from '../dns/name.js';

const lists = new WeakMap<Prefix, BlockList>();

function blockList(p: Prefix): BlockList {
  let l = lists.get(p);
  if (!l) {
    l = new BlockList();
    l.addSubnet(p.address, p.bits, p.family);
    lists.set(p, l);
  }
  return l;
}

/** An address as BlockList wants it: IPv4-mapped IPv6 (`::ffff:192.0.2.1`) as the IPv4 address. */
export function plainAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return { address: m[1], family: 'ipv4' };
  return { address, family: address.includes(':') ? 'ipv6' : 'ipv4' };
}

export function inPrefix(p: Prefix, address: string): boolean {
  const a = plainAddress(address);
  return a.family === p.family && blockList(p).check(a.address, a.family);
}

/** Whether a TSIG key (as verified) is the one a config entry names. */
export function sameKey(key: TsigKey | undefined, name: string): boolean {
  if (!key) return false;
  try {
    return key.name.equals(Name.fromText(name.endsWith('.') ? name : `${name}.`));
  } catch {
    return false;
  }
}

/** The first allow entry that admits this request, or undefined (REFUSED). */
export function admit(cfg: TransferConfig | undefined, address: string, key: TsigKey | undefined): AclEntry | undefined {
  if (!cfg) return undefined;
  return cfg.allow.find((e) => (!e.address || inPrefix(e.address, address)) && (!e.key || sameKey(key, e.key)));
}

/** What the admitted receiver gets. */
export function contentFor(cfg: TransferConfig, entry: AclEntry): TransferContent {
  return entry.content ?? cfg.content;
}
