// Where a parent wants generalized NOTIFYs (RFC 9859): its DSYNC records, found under `_dsync` in the parent
// zone. The child asks a resolver (the server's parent-resolver, like the parent DS check), in this order:
//   1. `<child's first label>._dsync.<child's parent name>`: the child-specific record (§3.2), or the parent's
//      wildcard `*._dsync.<parent>` (§3.1) answering for it;
//   2. when the negative answer's SOA shows the parent zone is higher up: `<child minus parent>._dsync.<parent>`;
//   3. `_dsync.<parent>`: the parent's default endpoint (§3).
// Records of another RRtype, or with a scheme other than 1 (NOTIFY; 0 is ignored by consumers), do not count.
// The target host is then resolved to its addresses; the NOTIFY goes to each address at the record's port.
import type { Endpoint } from '../config/server.js';
import { Name } from '../dns/name.js';
import { RRType, typeName } from '../dns/types.js';
import { formatRdata } from '../dns/rdata.js';
import type { Message } from '../dns/reader.js';
import { ask } from '../lab/ask.js';

/** RFC 9859 §3: scheme 1 = NOTIFY. */
export const DSYNC_SCHEME_NOTIFY = 1;
const DSYNC_LABEL = new TextEncoder().encode('_dsync');

export interface DsyncRecord {
  rrtype: number;
  scheme: number;
  port: number;
  target: Name;
}

export interface DsyncTarget {
  host: string;
  port: number;
  /** The DSYNC target name the address belongs to. */
  target: Name;
}

export type DsyncLookup =
  | { ok: true; owner: Name; targets: DsyncTarget[]; unresolved: string[] }
  | { ok: false; reason: string };

/** DSYNC RDATA (RFC 9859 §3.1): RRtype (16), scheme (8), port (16), target (an uncompressed name). */
export function decodeDsync(rdata: Uint8Array): DsyncRecord {
  if (rdata.length < 6) throw new Error('DSYNC RDATA is too short');
  const { name } = Name.read(rdata, 5);
  return { rrtype: (rdata[0] << 8) | rdata[1], scheme: rdata[2], port: (rdata[3] << 8) | rdata[4], target: name };
}

/** `<labels of child below parent>._dsync.<parent>` (RFC 9859 §3.2); `_dsync.<parent>` for none. */
export function dsyncName(child: Name, parent: Name): Name {
  const below = child.labels.slice(0, child.labelCount - parent.labelCount);
  return Name.fromLabels([...below, DSYNC_LABEL, ...parent.labels]);
}

/** The DSYNC records at `name` in an answer, and the SOA owner of a negative answer (the zone that answered). */
function read(m: Message, name: Name): { records: DsyncRecord[]; soaOwner?: Name } {
  const records: DsyncRecord[] = [];
  for (const rr of m.answer) {
    if (rr.type !== RRType.DSYNC || !rr.name.equals(name)) continue;
    try {
      records.push(decodeDsync(rr.rdata));
    } catch { /* a malformed record is no endpoint */ }
  }
  const soa = m.authority.find((rr) => rr.type === RRType.SOA);
  return { records, ...(soa ? { soaOwner: soa.name } : {}) };
}

export interface DsyncOptions {
  timeoutMs?: number;
}

/**
 * Finds the parent's NOTIFY endpoints for `rrtype` (CDS or CSYNC) of `child`, asking `resolver` (RD set).
 * `ok: false` with the reason when the parent publishes none or the resolver does not answer.
 */
export async function findDsync(resolver: Endpoint, child: Name, rrtype: number, opts: DsyncOptions = {}): Promise<DsyncLookup> {
  if (child.isRoot()) return { ok: false, reason: 'the root zone has no parent' };
  const timeoutMs = opts.timeoutMs ?? 3000;
  const q = async (name: Name, type: number) => {
    const a = await ask(resolver, name, type, { rd: true, dnssec: false, timeoutMs });
    if (!a.ok) throw new Error(a.reason);
    return a.message;
  };
  const wanted = (list: DsyncRecord[]) => list.filter((r) => r.rrtype === rrtype && r.scheme === DSYNC_SCHEME_NOTIFY);
  let parent = child.parent();
  const tried: string[] = [];
  try {
    let name = dsyncName(child, parent);
    let got = read(await q(name, RRType.DSYNC), name);
    tried.push(name.toString());
    let found = wanted(got.records);
    // The negative answer came from the zone above: the parent zone may be higher than the child's parent name.
    if (found.length === 0 && got.soaOwner && !got.soaOwner.equals(parent) && child.isSubdomainOf(got.soaOwner) && !child.equals(got.soaOwner)) {
      parent = got.soaOwner;
      name = dsyncName(child, parent);
      got = read(await q(name, RRType.DSYNC), name);
      tried.push(name.toString());
      found = wanted(got.records);
    }
    if (found.length === 0) {
      name = dsyncName(parent, parent);
      got = read(await q(name, RRType.DSYNC), name);
      tried.push(name.toString());
      found = wanted(got.records);
    }
    if (found.length === 0) return { ok: false, reason: `no DSYNC ${typeName(rrtype)} NOTIFY record (asked ${tried.join(', ')})` };
    const targets: DsyncTarget[] = [];
    const unresolved: string[] = [];
    for (const r of found) {
      const addrs: string[] = [];
      for (const type of [RRType.A, RRType.AAAA]) {
        const m = await q(r.target, type);
        for (const rr of m.answer) {
          if (rr.type !== type || !rr.name.equals(r.target)) continue;
          addrs.push(formatRdata(type, rr.rdata));
        }
      }
      if (addrs.length === 0) unresolved.push(r.target.toString());
      for (const host of addrs) targets.push({ host, port: r.port, target: r.target });
    }
    if (targets.length === 0) return { ok: false, reason: `the DSYNC target ${unresolved.join(', ')} has no address` };
    return { ok: true, owner: name, targets, unresolved };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
