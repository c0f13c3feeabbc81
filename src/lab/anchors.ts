// What the checker trusts: the zone's DS set (`--ds FILE`, `tandem ds` output or any DS RRs in presentation
// form), delv's trust-anchors file (`--anchor FILE`: trust-anchors / managed-keys / trusted-keys, with DS or
// DNSKEY anchors), or the DS RRset the parent serves (`--parent HOST[:PORT]`). Errors name the file and line.
import { namedConfTokens, NamedConfSyntaxError, type ConfToken } from '../config/namedconf.js';
import type { Endpoint } from '../config/server.js';
import { Name } from '../dns/name.js';
import { parseRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import { ask } from './ask.js';
import { groupRrsets } from './judge.js';

export interface TrustAnchors {
  /** Where they came from, for the report (a file, or the parent's address). */
  source: string;
  /** DS RDATAs (RFC 4034 §5.1) for the zone. */
  ds: Uint8Array[];
  /** DNSKEY RDATAs trusted as they are (delv static-key / initial-key). */
  keys: Uint8Array[];
  /** Anchors for other names, which the check leaves out. */
  otherOwners: string[];
}

export class AnchorError extends Error {}

const absolute = (text: string) => Name.fromText(text.endsWith('.') ? text : `${text}.`);

/** DS records in presentation form, one a line (`owner [ttl] [class] DS tag alg digest-type hex`); `;` starts a comment. */
export function parseDsText(text: string, file: string, zone: Name): TrustAnchors {
  const out: TrustAnchors = { source: file, ds: [], keys: [], otherOwners: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/;.*$/, '').trim();
    if (line === '') return;
    const tokens = line.split(/\s+/);
    const at = tokens.findIndex((t, k) => k > 0 && k <= 3 && t.toUpperCase() === 'DS');
    if (at < 0) throw new AnchorError(`${file}:${i + 1}: not a DS record (expected 'owner [ttl] [class] DS tag algorithm digest-type digest'): ${line}`);
    let owner: Name, rdata: Uint8Array;
    try {
      owner = absolute(tokens[0]);
      rdata = parseRdata(RRType.DS, tokens.slice(at + 1).join(' '), zone);
    } catch (err) {
      throw new AnchorError(`${file}:${i + 1}: ${(err as Error).message}`);
    }
    if (owner.equals(zone)) out.ds.push(rdata);
    else out.otherOwners.push(owner.toString());
  });
  if (out.ds.length === 0) throw new AnchorError(`${file}: no DS record for ${zone}${out.otherOwners.length ? ` (only for ${out.otherOwners.join(', ')})` : ''}`);
  return out;
}

type Tok = ConfToken;

function tokenize(text: string, file: string): Tok[] {
  try {
    return namedConfTokens(text);
  } catch (err) {
    if (err instanceof NamedConfSyntaxError) throw new AnchorError(`${file}:${err.line}: ${err.reason}`);
    throw err;
  }
}

const KINDS = new Set(['static-key', 'initial-key', 'static-ds', 'initial-ds']);

/**
 * delv's `-a FILE` syntax (BIND 9.18 trust-anchors; the older managed-keys and trusted-keys too):
 * `trust-anchors { "zone." static-ds 12345 13 2 "hex"; "zone." initial-key 257 3 13 "base64"; };`.
 */
export function parseAnchorText(text: string, file: string, zone: Name): TrustAnchors {
  const out: TrustAnchors = { source: file, ds: [], keys: [], otherOwners: [] };
  const t = tokenize(text, file);
  let i = 0;
  const want = (s: string) => {
    if (t[i]?.text !== s || t[i].quoted) throw new AnchorError(`${file}:${t[i]?.line ?? t.at(-1)?.line ?? 1}: expected '${s}'${t[i] ? `, found '${t[i].text}'` : ' at the end'}`);
    i++;
  };
  while (i < t.length) {
    const stmt = t[i++];
    if (!['trust-anchors', 'managed-keys', 'trusted-keys'].includes(stmt.text)) throw new AnchorError(`${file}:${stmt.line}: expected trust-anchors, managed-keys or trusted-keys, found '${stmt.text}'`);
    want('{');
    while (i < t.length && t[i].text !== '}') {
      const entry: Tok[] = [];
      while (i < t.length && !((t[i].text === ';' || t[i].text === '}') && !t[i].quoted)) entry.push(t[i++]);
      want(';');
      const line = entry[0]?.line ?? stmt.line;
      let k = 1;
      let kind = stmt.text === 'trusted-keys' ? 'static-key' : entry[1]?.text;
      if (stmt.text !== 'trusted-keys') k = 2;
      if (!kind || !KINDS.has(kind)) throw new AnchorError(`${file}:${line}: expected static-key, initial-key, static-ds or initial-ds, found '${kind ?? ''}'`);
      if (entry.length < k + 4) throw new AnchorError(`${file}:${line}: incomplete anchor`);
      const isDs = kind.endsWith('-ds');
      let owner: Name, rdata: Uint8Array;
      try {
        owner = absolute(entry[0].text);
        const fields = entry.slice(k, k + 3).map((x) => x.text).join(' ');
        const blob = entry.slice(k + 3).map((x) => x.text.replace(/\s+/g, '')).join('');
        rdata = parseRdata(isDs ? RRType.DS : RRType.DNSKEY, `${fields} ${blob}`, zone);
      } catch (err) {
        throw new AnchorError(`${file}:${line}: ${(err as Error).message}`);
      }
      if (!owner.equals(zone)) out.otherOwners.push(owner.toString());
      else if (isDs) out.ds.push(rdata);
      else out.keys.push(rdata);
    }
    want('}');
    if (t[i]?.text === ';') i++;
  }
  if (out.ds.length + out.keys.length === 0) throw new AnchorError(`${file}: no trust anchor for ${zone}${out.otherOwners.length ? ` (only for ${out.otherOwners.join(', ')})` : ''}`);
  return out;
}

/**
 * The DS RRset the parent serves for `zone` (asked with RD set, so a resolver works as well as the parent's
 * authoritative server). The parent's own signatures are not validated: the chain above is not this check's.
 */
export async function parentDs(parent: Endpoint, zone: Name, label: string, timeoutMs: number): Promise<TrustAnchors | { reason: string }> {
  const r = await ask(parent, zone, RRType.DS, { rd: true, timeoutMs });
  if (!r.ok) return { reason: r.reason };
  const ds = groupRrsets(r.message.answer).sets.find((s) => s.type === RRType.DS && s.name.equals(zone));
  if (!ds) return { reason: `the parent ${label} has no DS RRset for ${zone} (RCODE ${r.message.rcode}, ${r.message.answer.length} answer records)` };
  return { source: `the parent ${label}`, ds: ds.rdatas, keys: [], otherOwners: [] };
}
