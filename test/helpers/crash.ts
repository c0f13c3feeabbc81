// Crash tests (issue 15): the real `tandem serve` (through tsx) in its own process group, killed with SIGKILL
// at a random moment and started again on the same folders; the checks every kill point shares (temp files
// left behind, the DS as `tandem ds` prints it, delv with that DS, RFC 1982 serial order).
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './repo.js';
import { spawnDaemon, waitFor, type Daemon } from './procs.js';
import { delv, dig } from './dig.js';
import { tandem } from './cli.js';
import { rng } from './random.js';

export interface Tandem {
  daemon: Daemon;
  /** The process group leader (the single process, or the cluster primary). */
  pid: number;
  port: number;
  /** `http://host:port/client/v4` */
  api: string;
  token: string;
  logs(): string;
  /** Resolves once the first read of the zones folder has ended ("zones loaded"). */
  loaded(timeoutMs?: number): Promise<void>;
  /** SIGKILL to the whole process group (primary and workers at once, as a power cut or the OOM killer of a cgroup). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

const LISTENING = /"listen":\["127\.0\.0\.1:(\d+)"\][^\n]*"api":"([\d.:]+)"[^\n]*"msg":"listening \(udp\+tcp\); loading zones"/;

/**
 * `tandem serve` on free ports; resolves once it listens (zones may still be loading: `loaded()`). `workers`:
 * 1 (one process, the default here) or more. The parent DS check asks a closed port, so it changes nothing.
 */
export async function startTandem(opts: {
  zones: string; state: string; workers?: number; token?: string; args?: string[]; timeoutMs?: number;
  /** A fixed DNS port (a peer sends NOTIFY there across restarts); default a free one each start. */
  port?: number;
  /** A command the node process runs under (e.g. unshare and mount for a small file system). */
  wrap?: string[];
}): Promise<Tandem> {
  const token = opts.token ?? 'crash-token';
  const args = [
    '--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'serve', '--zones', opts.zones, '--state', opts.state,
    '--listen', `127.0.0.1:${opts.port ?? 0}`, '--api', '127.0.0.1:0', '--api-token', token, '--workers', String(opts.workers ?? 1),
    '--parent-resolver', '127.0.0.1:9', ...(opts.args ?? []),
  ];
  const [cmd, ...pre] = opts.wrap ? [...opts.wrap, process.execPath] : [process.execPath];
  const daemon = spawnDaemon(cmd, [...pre, ...args], { cwd: REPO, name: 'tandem' });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const abort = () => (daemon.exited() ? `tandem exited (${JSON.stringify(daemon.exited())}):\n${daemon.logs()}` : undefined);
  const m = await waitFor(() => LISTENING.exec(daemon.logs()), timeoutMs, { what: 'tandem listening', abort, intervalMs: 20 }).catch(async (err: unknown) => {
    await daemon.stop();
    throw err;
  });
  const kill = async () => {
    try { process.kill(-daemon.pid, 'SIGKILL'); } catch { /* gone */ }
    await waitFor(() => daemon.exited() !== undefined, 10_000, { what: 'tandem killed' });
    // Cluster workers notice the lost primary and exit; wait until none answers any more (bounded).
    await waitFor(() => { try { process.kill(-daemon.pid, 0); return false; } catch { return true; } }, 10_000, { what: 'process group gone' });
  };
  return {
    daemon, pid: daemon.pid, port: Number(m[1]), api: `http://${m[2]}/client/v4`, token, logs: () => daemon.logs(),
    loaded: (ms = timeoutMs) => waitFor(() => /"msg":"zones loaded"/.test(daemon.logs()), ms, { what: 'zones loaded', abort, intervalMs: 20 }).then(() => undefined),
    kill,
    stop: () => daemon.stop(),
  };
}

/** One admin API call; `undefined` when the call did not complete (the server died under it). */
export async function apiCall(t: Tandem, method: string, path: string, body?: unknown): Promise<{ status: number; json: any } | undefined> {
  try {
    const r = await fetch(t.api + path, {
      method, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: r.status, json: await r.json() };
  } catch {
    return undefined;
  }
}

/** An API call that must succeed. */
export async function apiOk(t: Tandem, method: string, path: string, body?: unknown): Promise<any> {
  const r = await apiCall(t, method, path, body);
  if (!r || !r.json.success) throw new Error(`${method} ${path}: ${r ? `${r.status} ${JSON.stringify(r.json.errors)}` : 'no answer'}`);
  return r.json.result;
}

export async function zoneIdOf(t: Tandem, zone: string): Promise<string> {
  const list = await apiOk(t, 'GET', `/zones?name=${zone}`);
  if (!list[0]) throw new Error(`zone ${zone} not served`);
  return list[0].id;
}

/** The DS lines `tandem ds ZONE` prints from the state folder (the CLI the operator gives the registrar). */
export async function tandemDs(state: string, zones: string, zone: string): Promise<string[]> {
  const r = await tandem(['ds', zone, '--state', state, '--zones', zones]);
  if (r.code !== 0) throw new Error(`tandem ds ${zone}: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean);
}

/** A delv trust-anchor file for a DS line. */
export async function anchorFile(dir: string, zone: string, ds: string): Promise<string> {
  const [tag, alg, dt, ...digest] = ds.split(/\s+/).slice(4);
  const file = join(dir, `anchor-${zone}.conf`);
  await writeFile(file, `trust-anchors { "${zone}." static-ds ${tag} ${alg} ${dt} "${digest.join('')}"; };\n`);
  return file;
}

/** delv with the DS as its only trust anchor; the zone is its own root. */
export async function validates(t: { port: number }, anchor: string, zone: string, name: string, type: string): Promise<{ ok: boolean; out: string }> {
  const r = await delv({ host: '127.0.0.1', port: t.port }, anchor, [`+root=${zone}`, name, type]);
  return { ok: r.validated, out: r.out };
}

export async function soaSerialOf(t: { port: number }, zone: string): Promise<number | undefined> {
  const r = await dig({ host: '127.0.0.1', port: t.port }, ['+norec', `${zone}.`, 'SOA']);
  const soa = r.answer.find((a) => a.type === 'SOA');
  return soa ? Number(soa.data.split(/\s+/)[2]) : undefined;
}

/** RFC 1982 §3.2: `a` is `b` or newer. */
export function serialAtLeast(a: number, b: number): boolean {
  return a === b || (a < b && b - a > 2 ** 31) || (a > b && a - b < 2 ** 31);
}

/** Every `.tmp-*` file or folder under `dir` (what writeFileAtomic or the key store leaves when killed mid-write). */
export async function leftovers(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let ents;
    try { ents = await readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (e.name.startsWith('.tmp-')) out.push(join(d, e.name));
      else if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Writes a file the way an operator's editor or deploy tool should: a temp file renamed over the old one. */
export async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.new~`, text);
  await rename(`${path}.new~`, path);
}

/** The seed of a randomised crash test (logged; CRASH_SEED=<n> replays it) and its generator. */
export function crashSeed(what: string): { seed: number; random: () => number; between: (lo: number, hi: number) => number } {
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`${what}: seed ${seed} (replay with CRASH_SEED=${seed})`);
  const random = rng(seed);
  return { seed, random, between: (lo, hi) => Math.floor(lo + random() * (hi - lo)) };
}

/** `count` A records (h0 .. h{count-1}) under `origin` as YAML records lines; with `settings` for the zone: section. */
export function zoneYaml(origin: string, settings: string, count: number, serial = 1): string {
  const lines = [
    'zone:',
    `  soa: { mname: ns1.${origin}., rname: hostmaster.${origin}., serial: ${serial}, refresh: 3600, retry: 600, expire: 2w, minimum: 300 }`,
    `  nameservers: [ns1.${origin}.]`,
    ...settings.split('\n').filter(Boolean).map((l) => `  ${l}`),
    'records:',
    '  ns1: { type: A, value: 127.0.0.1 }',
  ];
  for (let i = 0; i < count; i++) lines.push(`  h${i}: { type: A, value: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`);
  return lines.join('\n') + '\n';
}
