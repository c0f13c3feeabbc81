// Independent DNSSEC validators for interop tests: dnspython over the network (test/fixtures/dnsvalidate.py),
// ldns-verify-zone over a whole zone file, and delv against one server. None of them shares code with tandem.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './procs.js';

/** Debian's interpreter: the one with dnspython (the python3 on PATH has none, see lab notes). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const DNSVALIDATE_PY = fileURLToPath(new URL('../fixtures/dnsvalidate.py', import.meta.url));

/** A server as `{host, port}` or `"127.0.0.1@5300"`. */
export type ServerAddr = { host: string; port: number } | string;

export function addrString(a: ServerAddr): string {
  return typeof a === 'string' ? a : `${a.host}@${a.port}`;
}

export function parseAddr(a: ServerAddr): { host: string; port: number } {
  if (typeof a !== 'string') return a;
  const at = a.lastIndexOf('@');
  return at < 0 ? { host: a, port: 53 } : { host: a.slice(0, at), port: Number(a.slice(at + 1)) };
}

/** A resource record in presentation form, split: `owner [ttl] [class] TYPE rdata...` (no parentheses). */
export interface RrText {
  owner: string;
  ttl?: number;
  type: string;
  rdata: string[];
}

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS', 'ANY']);

export function parseRrText(text: string): RrText {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length < 3) throw new Error(`not a resource record: ${text}`);
  let i = 1;
  let ttl: number | undefined;
  for (; i < 3 && i < tokens.length; i++) {
    if (/^\d+$/.test(tokens[i])) ttl = Number(tokens[i]);
    else if (!CLASSES.has(tokens[i].toUpperCase())) break;
  }
  return { owner: tokens[0], ttl, type: tokens[i].toUpperCase(), rdata: tokens.slice(i + 1) };
}

/**
 * RDATA as one comparable string for the key-ish types tests compare (DNSKEY, CDNSKEY, DS, CDS): the fixed
 * fields, then the base64/hex tail joined without spaces (hex lower-cased); other types: tokens joined by a space.
 */
export function rdataKey(type: string, rdata: string[]): string {
  const t = type.toUpperCase();
  if (t === 'DNSKEY' || t === 'CDNSKEY') return `${rdata.slice(0, 3).join(' ')} ${rdata.slice(3).join('')}`;
  if (t === 'DS' || t === 'CDS') return `${rdata.slice(0, 3).join(' ')} ${rdata.slice(3).join('').toLowerCase()}`;
  return rdata.join(' ');
}

export interface DsRecord {
  owner: string;
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
}

/** Parses `owner [ttl] [class] DS tag alg digesttype hex...`. */
export function parseDs(text: string): DsRecord {
  const rr = parseRrText(text);
  if (rr.type !== 'DS' || rr.rdata.length < 4) throw new Error(`not a DS record: ${text}`);
  const owner = rr.owner.endsWith('.') ? rr.owner : `${rr.owner}.`;
  return { owner, keyTag: Number(rr.rdata[0]), algorithm: Number(rr.rdata[1]), digestType: Number(rr.rdata[2]), digest: rr.rdata.slice(3).join('').toLowerCase() };
}

export function dsToText(ds: DsRecord, ttl = 3600): string {
  return `${ds.owner} ${ttl} IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}`;
}

/** The same DS with one digest nibble changed: a trust anchor that matches no key (negative controls). */
export function corruptDs(ds: string): string {
  const d = parseDs(ds);
  return dsToText({ ...d, digest: (d.digest[0] === '0' ? '1' : '0') + d.digest.slice(1) });
}

// ---------------------------------------------------------------------------------------------------------------
// dnspython

export interface ValidateQuery {
  name: string;
  type: string;
}

export interface ValidateOptions {
  zone: string;
  /** Where the DNSKEY RRset comes from. */
  dnskeyFrom: ServerAddr;
  /** Where the answers come from (default: dnskeyFrom). */
  dataFrom?: ServerAddr;
  /** Trust anchors: DS RRs in presentation form; only those owned by `zone` count. */
  ds: string[];
  queries: ValidateQuery[];
  /** Validation time, seconds since the epoch (default: now). */
  now?: number;
  /** Per-query timeout in seconds (default 3). */
  timeoutSec?: number;
}

export interface RrsetCheck {
  section: 'answer' | 'authority';
  name: string;
  type: string;
  ttl: number;
  records: string[];
  signed: boolean;
  needsSignature: boolean;
  valid: boolean;
  signatures?: { keyTag: number; signer: string; valid: boolean }[];
  error?: string;
}

export interface QueryCheck {
  qname: string;
  qtype: string;
  from: string;
  rcode: string;
  aa?: boolean;
  rrsets: RrsetCheck[];
  error?: string;
}

export interface ValidationReport {
  ok: boolean;
  dnskey: { from: string; valid: boolean; tags: number[]; trustedTags: number[]; rcode?: string; error?: string };
  results: QueryCheck[];
  error?: string;
}

/**
 * Fetches the DNSKEY RRset from `dnskeyFrom`, validates it against the DS set, then validates every signed RRset
 * of every answer from `dataFrom` with it (RFC 4035 §5), and flags RRsets that should be signed but are not.
 */
export async function validateAnswers(opts: ValidateOptions): Promise<ValidationReport> {
  const input = JSON.stringify({
    zone: opts.zone.endsWith('.') ? opts.zone : `${opts.zone}.`,
    dnskeyFrom: addrString(opts.dnskeyFrom),
    dataFrom: addrString(opts.dataFrom ?? opts.dnskeyFrom),
    ds: opts.ds,
    queries: opts.queries,
    now: opts.now,
    timeout: opts.timeoutSec ?? 3,
  });
  const timeoutMs = 10_000 + opts.queries.length * 2 * 1000 * (opts.timeoutSec ?? 3);
  const r = await runCommand(SYSTEM_PYTHON, [DNSVALIDATE_PY], { input, timeoutMs });
  let report: ValidationReport;
  try {
    report = JSON.parse(r.stdout) as ValidationReport;
  } catch {
    throw new Error(`dnsvalidate.py failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  if (r.code !== 0) throw new Error(`dnsvalidate.py: ${report.error ?? r.stderr}`);
  return report;
}

/** One line per failed check, for assertion messages. */
export function reportErrors(report: ValidationReport): string[] {
  const out: string[] = [];
  if (report.error) out.push(report.error);
  if (!report.dnskey.valid) out.push(`DNSKEY from ${report.dnskey.from}: ${report.dnskey.error ?? 'invalid'}`);
  for (const q of report.results) {
    if (q.error) out.push(`${q.qname} ${q.qtype}: ${q.error}`);
    for (const s of q.rrsets) if (s.error) out.push(`${q.qname} ${q.qtype}: ${s.section} ${s.name} ${s.type}: ${s.error}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// ldns-verify-zone

export interface LdnsResult {
  ok: boolean;
  code: number;
  output: string;
}

/**
 * `ldns-verify-zone -k F1 -k F2 ... ZONEFILE`: checks every signature and the NSEC/NSEC3 chain of a whole signed
 * zone, with the given DS or DNSKEY RRs (presentation form, one per -k file) as trusted keys.
 */
export async function ldnsVerifyZone(zoneFileText: string, dsOrKeys: string[], opts: { extraArgs?: string[]; timeoutMs?: number } = {}): Promise<LdnsResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-ldns-'));
  try {
    const zoneFile = join(dir, 'zone.db');
    await writeFile(zoneFile, zoneFileText);
    const args: string[] = [];
    for (const [i, rr] of dsOrKeys.entries()) {
      const f = join(dir, `trusted-${i}.key`);
      await writeFile(f, `${rr.trim()}\n`);
      args.push('-k', f);
    }
    const r = await runCommand('ldns-verify-zone', [...args, ...(opts.extraArgs ?? []), zoneFile], { timeoutMs: opts.timeoutMs ?? 20_000 });
    return { ok: r.code === 0, code: r.code, output: `${r.stdout}${r.stderr}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// delv

/** BIND 9.18 trust-anchors clause for delv -a: `trust-anchors { "zone." static-ds 12345 13 2 "hex"; };`. */
export function delvAnchorFile(anchors: string[]): string {
  const lines = anchors.map((a) => {
    const ds = parseDs(a);
    return `  "${ds.owner}" static-ds ${ds.keyTag} ${ds.algorithm} ${ds.digestType} "${ds.digest}";`;
  });
  return `trust-anchors {\n${lines.join('\n')}\n};\n`;
}

/**
 * `delv @host -p PORT -a ANCHORFILE +root=ZONE NAME TYPE`, where ZONE is the anchors' owner. `validated` is true
 * only when delv printed "; fully validated".
 */
export async function delvValidated(server: ServerAddr, anchors: string[], name: string, type: string): Promise<{ validated: boolean; output: string }> {
  if (anchors.length === 0) throw new Error('delvValidated: no trust anchors');
  const { host, port } = parseAddr(server);
  const root = parseDs(anchors[0]).owner;
  const dir = await mkdtemp(join(tmpdir(), 'tandem-delv-'));
  try {
    const anchorFile = join(dir, 'anchors.conf');
    await writeFile(anchorFile, delvAnchorFile(anchors));
    const r = await runCommand('delv', [`@${host}`, '-p', String(port), '-a', anchorFile, `+root=${root}`, name, type], { timeoutMs: 20_000 });
    const output = `${r.stdout}\n${r.stderr}`;
    return { validated: /^; fully validated$/m.test(output), output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
