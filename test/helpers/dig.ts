// Runs real DNS clients (dig, kdig, delv) and parses what they print. Interop tests decide with these tools.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  ednsFlags: string[];
  /** The EDNS "udp:" size the server advertised, when an OPT came back. */
  udp?: number;
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  ede?: string;
  raw: string;
}

function parseRecord(line: string): DigRecord | undefined {
  const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.trim());
  if (!m) return undefined;
  return { name: m[1], ttl: Number(m[2]), class: m[3], type: m[4], data: m[5].replace(/\s+/g, ' ').trim() };
}

/** Parses dig's (and kdig's) default output. */
export function parseDig(raw: string): DigResult {
  const out: DigResult = { status: '', flags: [], ednsFlags: [], answer: [], authority: [], additional: [], raw };
  let section: DigRecord[] | undefined;
  for (const line of raw.split('\n')) {
    const status = /status: ([A-Z]+)/.exec(line);
    if (status && /HEADER|opcode/i.test(line)) out.status = status[1];
    const flags = /^;; [Ff]lags: ([^;]*);/.exec(line);
    if (flags) out.flags = flags[1].trim().split(/\s+/).filter(Boolean);
    const edns = /^; EDNS: version: \d+, flags:([^;]*); udp: (\d+)/.exec(line);
    if (edns) {
      out.ednsFlags = edns[1].trim().split(/\s+/).filter(Boolean);
      out.udp = Number(edns[2]);
    }
    const kedns = /^;; Version: \d+; flags: ?([^;]*); UDP size: (\d+)/.exec(line);
    if (kedns) {
      out.ednsFlags = kedns[1].trim().split(/\s+/).filter(Boolean);
      out.udp = Number(kedns[2]);
    }
    const ede = /^; EDE: (.*)$/.exec(line) ?? /^;; EDE: (.*)$/.exec(line);
    if (ede) out.ede = ede[1];
    if (/^;; ANSWER SECTION:/.test(line)) { section = out.answer; continue; }
    if (/^;; AUTHORITY SECTION:/.test(line)) { section = out.authority; continue; }
    if (/^;; ADDITIONAL SECTION:/.test(line)) { section = out.additional; continue; }
    if (line.trim() === '' ) { section = undefined; continue; }
    if (section && !line.startsWith(';')) {
      const rr = parseRecord(line);
      if (rr) section.push(rr);
    }
  }
  return out;
}

export interface Target {
  host: string;
  port: number;
}

/** `dig @host -p port <args>`; never retries, short timeout, output parsed. */
export async function dig(t: Target, args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', [`@${t.host}`, '-p', String(t.port), '+tries=1', '+time=3', ...args], { timeout: 15_000 });
  return parseDig(stdout);
}

/** `kdig @host -p port <args>` (kdig's flags: +retry=N +timeout=T, not dig's). */
export async function kdig(t: Target, args: string[]): Promise<DigResult> {
  const { stdout } = await run('kdig', [`@${t.host}`, '-p', String(t.port), '+retry=0', '+timeout=3', ...args], { timeout: 15_000 });
  return parseDig(stdout);
}

export async function delv(t: Target, anchorFile: string, args: string[]): Promise<{ validated: boolean; out: string }> {
  const r = await run('delv', [`@${t.host}`, '-p', String(t.port), '-a', anchorFile, ...args], { timeout: 20_000 }).catch(
    (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
  const out = `${r.stdout}\n${r.stderr}`;
  return { validated: /; fully validated/.test(out), out };
}

export type DelvVerdict = 'positive' | 'negative' | 'insecure' | 'failed';

/**
 * delv's verdict over every RRset it printed: any unsigned one makes the answer insecure. A chain that ends in
 * a validated negative answer (a CNAME to a name that does not exist) ends with `resolution failed: ncache
 * nxdomain` (or nxrrset); any other resolution failure is a failed validation.
 */
export function delvVerdict(out: string): DelvVerdict {
  if (/resolution failed: (?!ncache nx(domain|rrset))/.test(out)) return 'failed';
  const lines = out.split('\n').filter((l) => /^; (fully validated|negative response, fully validated|unsigned answer)$/.test(l));
  if (lines.length === 0) return 'failed';
  if (lines.some((l) => l.includes('unsigned answer'))) return 'insecure';
  return lines.some((l) => l.includes('negative response')) || /resolution failed: ncache/.test(out) ? 'negative' : 'positive';
}

export function requireTool(name: string, pkg: string): void {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
  } catch {
    throw new Error(`${name} is not installed: apt-get install ${pkg} (the README's test command does it)`);
  }
}

/** dig and kdig print a zone transfer without section headers: every record line is the answer. */
export function transferRecords(r: DigResult): DigResult {
  const answer = r.raw.split('\n').filter((l) => l.trim() && !l.startsWith(';')).map(parseRecord).filter((x): x is DigRecord => x !== undefined);
  return { ...r, answer };
}

/** `dig ... AXFR|IXFR=N`, its records as `answer`. */
export async function digXfr(t: Target, args: string[]): Promise<DigResult> {
  return transferRecords(await dig(t, args));
}

/** `kdig ... AXFR|IXFR=N`, its records as `answer`; kdig exits non-zero on a failed transfer, so its output is kept, not thrown. */
export async function kdigXfr(t: Target, args: string[]): Promise<DigResult> {
  const r = await run('kdig', [`@${t.host}`, '-p', String(t.port), '+retry=0', '+timeout=3', ...args], { timeout: 15_000 }).catch(
    (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
  return transferRecords({ ...parseDig(r.stdout), raw: `${r.stdout}\n${r.stderr}` });
}
