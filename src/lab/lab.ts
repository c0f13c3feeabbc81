// `tandem lab`: a multi-signer zone on loopback to rehearse with. `up` starts N tandem providers (and optionally
// Knot) of a test zone, each with its own keys, exchanges their keys, serves a signed parent holding one DS per
// provider KSK, writes the trust anchors and a validating resolver's config; `down` stops every process by the PID
// recorded in the lab's folder and removes it. `add-provider`, `remove-provider` and `break` rehearse the steps
// of RFC 8901 §8 and make negative controls for `tandem check`. Every wait is bounded.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { knotKeys, startKnotProvider } from './lab-knot.js';
import { pdnsKeys, startPdnsProvider } from './lab-pdns.js';
import { bindKeys, startBindProvider } from './lab-bind.js';
import { freePort, labProcessAlive, stopProcess, which } from './lab-procs.js';
import { startUnbound } from './lab-resolver.js';
import { labPids, readLab, writeLab, type LabProvider, type LabState, type ProviderKind } from './lab-state.js';
import { addDs, addNs, apiOf, exchangeKeys, nsNames, removeDs, removeParentNs, removeProviderNs, syncExternal, withdrawKeys, writeTrustFiles } from './lab-exchange.js';
import { labZoneText, parentZoneText, sameRdata, startTandem, TandemApi } from './lab-tandem.js';

export interface LabIo {
  say(text: string): void;
}

export class LabError extends Error {}

/** The tools each kind of provider needs, with the Debian package that has them. */
export const PROVIDER_TOOLS: Record<Exclude<ProviderKind, 'tandem'>, { tools: string[]; pkg: string }> = {
  knot: { tools: ['knotd', 'knotc', 'keymgr'], pkg: 'knot' },
  pdns: { tools: ['pdns_server', 'pdnsutil', 'sqlite3'], pkg: 'pdns-server pdns-backend-sqlite3 sqlite3' },
  bind: { tools: ['named', 'named-checkconf', 'nsupdate', 'dnssec-dsfromkey'], pkg: 'bind9 bind9-utils bind9-dnsutils' },
};

export interface UpOptions {
  dir: string;
  providers: number;
  with?: Exclude<ProviderKind, 'tandem'>;
  denial: 'compact' | 'nsec' | 'nsec3';
  union: boolean;
  zone: string;
  ttl: number;
  timeoutMs: number;
}

const mark = (dir: string) => `${resolve(dir)}/`;

/** Refuses a provider kind whose programs are not installed, naming them and their Debian packages. */
export async function requireTools(kind: Exclude<ProviderKind, 'tandem'>, find: (tool: string) => Promise<string | undefined> = which): Promise<void> {
  const t = PROVIDER_TOOLS[kind];
  const missing: string[] = [];
  for (const tool of t.tools) if (!(await find(tool))) missing.push(tool);
  if (missing.length) throw new LabError(`--with ${kind}: ${missing.join(', ')} not installed (Debian: apt-get install ${t.pkg}); start the lab without --with ${kind}, or install it`);
}

/** Tag range of the i-th tandem provider: providers never generate keys with the same tag (dnssec.key_tag_range). */
const tagRange = (i: number) => `${i * 8192}-${i * 8192 + 8191}`;

function provider(name: string, kind: ProviderKind, dir: string): LabProvider {
  return { name, kind, address: '127.0.0.1', port: 0, pid: 0, dir: join(dir, name), keys: [], ds: [] };
}

/** Starts one provider process and reads its keys; `p` is filled in (port, pid, keys, DS). */
async function startProvider(s: LabState, p: LabProvider, labDir: string, index: number, timeoutMs: number): Promise<void> {
  const zoneText = labZoneText(s, nsNames(s));
  const onSpawn = async (pid: number) => { p.pid = pid; await writeLab(labDir, s); };
  const ext = { name: p.name, dir: p.dir, zone: s.zone, zoneText, denial: s.denial, mark: mark(labDir), timeoutMs, onSpawn };
  if (p.kind === 'knot') {
    const r = await startKnotProvider(ext);
    Object.assign(p, { port: r.port, pid: r.pid }, await knotKeys(p.dir, s.zone, s.ttl));
    return;
  }
  if (p.kind === 'pdns') {
    const r = await startPdnsProvider(ext);
    Object.assign(p, { port: r.port, pid: r.pid }, await pdnsKeys(p.dir, s.zone, s.ttl));
    return;
  }
  if (p.kind === 'bind') {
    const r = await startBindProvider({ ...ext, ttl: s.ttl });
    Object.assign(p, { port: r.port, pid: r.pid }, await bindKeys(p.dir, s.zone, s.ttl));
    return;
  }
  const r = await startTandem({
    name: p.name, dir: p.dir, zone: s.zone, zoneText, ttl: s.ttl, denial: s.denial, multiSigner: true, tagRange: tagRange(index),
    token: s.token, parentResolver: s.parent.port ? `127.0.0.1:${s.parent.port}` : undefined, mark: mark(labDir), timeoutMs, onSpawn,
  });
  Object.assign(p, { port: r.port, pid: r.pid, api: r.api });
  Object.assign(p, await new TandemApi(r.api, s.token, s.zone).ownKeys(s.ttl));
}

async function startResolver(s: LabState, dir: string, timeoutMs: number, port?: number): Promise<void> {
  if (!(await which('unbound')) || !(await which('unbound-checkconf'))) return;
  const udir = join(dir, 'unbound');
  await mkdir(udir, { recursive: true });
  const r = await startUnbound(s, udir, mark(dir), s.parent.ds, timeoutMs, port, async (pid) => {
    s.resolver = { kind: 'unbound', address: '127.0.0.1', port: port ?? 0, controlPort: 0, pid, conf: join(udir, 'unbound.conf') };
    await writeLab(dir, s);
  });
  s.resolver = { kind: 'unbound', address: '127.0.0.1', port: r.port, controlPort: r.controlPort, pid: r.pid, conf: r.conf };
}

/** Restarts the resolver (same port) so its stub zones follow the provider set, and its cache starts empty. */
async function restartResolver(s: LabState, dir: string, timeoutMs: number): Promise<void> {
  if (!s.resolver) return;
  const port = s.resolver.port;
  await stopProcess(s.resolver.pid, mark(dir));
  s.resolver = undefined;
  await startResolver(s, dir, timeoutMs, port);
}

export async function labUp(o: UpOptions, io: LabIo): Promise<LabState> {
  const dir = resolve(o.dir);
  const existing = await readLab(dir);
  if (existing) {
    const alive = (await Promise.all(labPids(existing).map((p) => labProcessAlive(p.pid, mark(dir))))).some(Boolean);
    throw new LabError(`${o.dir} already holds a lab${alive ? ' that is running' : ''}: \`tandem lab down --dir ${o.dir}\` first`);
  }
  if (o.with) await requireTools(o.with);
  const zone = o.zone.endsWith('.') ? o.zone : `${o.zone}.`;
  const labels = zone.split('.').filter(Boolean);
  if (labels.length < 2) throw new LabError(`--zone ${o.zone}: the lab needs a parent zone, so a name of two labels at least (e.g. lab.test)`);
  // `down` removes the folder: only one the lab made (new, or empty) is taken, never a folder of the user's.
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
  if (entries.length > 0) throw new LabError(`${o.dir} exists and is not empty: give --dir a new folder (lab down removes it)`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s: LabState = {
    version: 1, zone, parentZone: `${labels.slice(1).join('.')}.`, denial: o.denial, union: o.union, ttl: o.ttl,
    token: randomBytes(18).toString('base64url'),
    parent: { name: 'parent', kind: 'tandem', address: '127.0.0.1', port: 0, pid: 0, dir: join(dir, 'parent'), keys: [], ds: [] },
    providers: [], broken: [], files: { ds: 'ds.txt', anchor: 'anchor.conf', parentAnchor: 'parent-anchor.conf' },
  };
  for (let i = 1; i <= o.providers; i++) s.providers.push(provider(`tandem-${i}`, 'tandem', dir));
  if (o.with) s.providers.push(provider(o.with, o.with, dir));
  await writeLab(dir, s);
  try {
    io.say(`starting ${s.providers.map((p) => `${p.name} (${p.kind})`).join(', ')} and the parent ${s.parentZone} in ${dir} ...\n`);
    s.parent.port = await freePort();
    const parentStart = startTandem({
      name: 'parent', dir: s.parent.dir, zone: s.parentZone, zoneText: parentZoneText(s, nsNames(s)), ttl: s.ttl, denial: 'compact',
      // It asks itself for its own DS: nothing of the lab leaves the machine.
      multiSigner: false, token: s.token, mark: mark(dir), timeoutMs: o.timeoutMs, port: s.parent.port, parentResolver: `127.0.0.1:${s.parent.port}`,
      onSpawn: async (pid) => { s.parent.pid = pid; await writeLab(dir, s); },
    }).then(async (r) => {
      Object.assign(s.parent, { port: r.port, pid: r.pid, api: r.api });
      await writeLab(dir, s);
      Object.assign(s.parent, await new TandemApi(r.api, s.token, s.parentZone).ownKeys(s.ttl));
    });
    const starts = [parentStart, ...s.providers.map(async (p, i) => {
      await startProvider(s, p, dir, i, o.timeoutMs);
      await writeLab(dir, s);
    })];
    const settled = await Promise.allSettled(starts);
    await writeLab(dir, s);
    const failed = settled.find((x) => x.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    io.say(`exchanging keys (ZSKs${s.union ? ' and KSKs' : ''}; CDS/CDNSKEY of every KSK at every provider) ...\n`);
    await exchangeKeys(s);
    for (const p of s.providers) await addDs(s, p);
    await writeTrustFiles(s, dir);
    await startResolver(s, dir, o.timeoutMs);
    await writeLab(dir, s);
  } catch (e) {
    io.say(`lab up failed: ${(e as Error).message}\nstopping what it started ...\n`);
    await labDown(dir, { say: () => undefined });
    throw e;
  }
  io.say(describe(s, dir, true));
  return s;
}

/** The human summary: who listens where, with which keys, and the commands that show it working. */
export function describe(s: LabState, dir: string, howto: boolean): string {
  const rows = [['NAME', 'KIND', 'ADDRESS', 'PORT', 'API', 'PID', 'KEYS'],
    ...[...s.providers, s.parent].map((p) => [p === s.parent ? `parent (${s.parentZone})` : p.name, p.kind, p.address, String(p.port), p.api ? String(p.api) : '-', String(p.pid),
      p.keys.map((k) => `${k.flags === 257 ? 'KSK' : 'ZSK'} ${k.tag}`).join(', ')]),
    ...(s.resolver ? [['resolver', 'unbound', s.resolver.address, String(s.resolver.port), '-', String(s.resolver.pid), `trusts ${s.parentZone}`]] : [])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n');
  const lines = [`lab ${s.zone} in ${dir}${s.broken.length ? ` (broken: ${s.broken.join(', ')})` : ''}`, table, '',
    `DS set at the parent: ${join(dir, s.files.ds)}; trust anchor (delv syntax): ${join(dir, s.files.anchor)}; parent's: ${join(dir, s.files.parentAnchor)}`];
  if (howto) {
    const p = s.providers[0];
    const zone = s.zone.slice(0, -1);
    lines.push('', 'Try:',
      `  dig @127.0.0.1 -p ${p.port} +dnssec www.${zone} A`,
      `  delv @127.0.0.1 -p ${p.port} -a ${join(dir, s.files.anchor)} +root=${zone} www.${zone} A`,
      `  tandem check ${zone} ${s.providers.map((x) => `--ns ${x.address}:${x.port}`).join(' ')} --anchor ${join(dir, s.files.anchor)}`,
      `  tandem check ${zone} ${s.providers.map((x) => `--ns ${x.address}:${x.port}`).join(' ')} --parent 127.0.0.1:${s.parent.port}`);
    if (s.resolver) {
      lines.push(`  dig @127.0.0.1 -p ${s.resolver.port} +dnssec www.${zone} A          # flags: ... ad (unbound validated from ${s.parentZone})`,
        `  delv @127.0.0.1 -p ${s.resolver.port} -a ${join(dir, s.files.parentAnchor)} +root=${s.parentZone.slice(0, -1)} www.${zone} A`);
    } else lines.push('  (unbound is not installed: no validating resolver; apt-get install unbound)');
    lines.push(`  tandem lab status --dir ${dir}`, `  tandem lab down --dir ${dir}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface StatusJson {
  zone: string;
  anchor: string;
  ds: string;
  providers: { name: string; address: string; port: number; kind: ProviderKind; api?: number; pid: number; running: boolean; keys: { tag: number; role: 'KSK' | 'ZSK'; dnskey: string }[]; ds: string[] }[];
  parent: { zone: string; address: string; port: number; pid: number; running: boolean; anchor: string };
  resolver?: { kind: 'unbound'; address: string; port: number; pid: number; running: boolean; conf: string };
  broken: string[];
}

export async function labStatus(dirArg: string): Promise<{ state: LabState; json: StatusJson; text: string }> {
  const dir = resolve(dirArg);
  const s = await readLab(dir);
  if (!s) throw new LabError(`no lab in ${dirArg} (\`tandem lab up --dir ${dirArg}\` starts one)`);
  const alive = (pid: number) => labProcessAlive(pid, mark(dir));
  const json: StatusJson = {
    zone: s.zone, anchor: join(dir, s.files.anchor), ds: join(dir, s.files.ds),
    providers: await Promise.all(s.providers.map(async (p) => ({
      name: p.name, address: p.address, port: p.port, kind: p.kind, ...(p.api ? { api: p.api } : {}), pid: p.pid, running: await alive(p.pid),
      keys: p.keys.map((k) => ({ tag: k.tag, role: k.flags === 257 ? 'KSK' as const : 'ZSK' as const, dnskey: `${s.zone} ${s.ttl} IN DNSKEY ${k.flags} 3 13 ${k.publicKey}` })), ds: p.ds,
    }))),
    parent: { zone: s.parentZone, address: s.parent.address, port: s.parent.port, pid: s.parent.pid, running: await alive(s.parent.pid), anchor: join(dir, s.files.parentAnchor) },
    ...(s.resolver ? { resolver: { kind: 'unbound' as const, address: s.resolver.address, port: s.resolver.port, pid: s.resolver.pid, running: await alive(s.resolver.pid), conf: s.resolver.conf } } : {}),
    broken: s.broken,
  };
  const down = [...json.providers.filter((p) => !p.running).map((p) => p.name), ...(json.parent.running ? [] : ['parent']), ...(json.resolver && !json.resolver.running ? ['unbound'] : [])];
  const text = describe(s, dir, false) + (down.length ? `not running: ${down.join(', ')}\n` : 'every process is running\n');
  return { state: s, json, text };
}

/** Stops every process of the lab by its PID and removes the lab's folder. */
export async function labDown(dirArg: string, io: LabIo): Promise<void> {
  const dir = resolve(dirArg);
  const s = await readLab(dir);
  if (!s) throw new LabError(`no lab in ${dirArg} (no ${join(dirArg, 'lab.json')}); nothing stopped, nothing removed`);
  const results = await Promise.all(labPids(s).map(async (p) => ({ ...p, r: await stopProcess(p.pid, mark(dir)) })));
  for (const r of results) io.say(`${r.name}: pid ${r.pid} ${r.r}\n`);
  await rm(dir, { recursive: true, force: true });
  io.say(`removed ${dir}\n`);
}

const waitTtl = async (io: LabIo, seconds: number, why: string) => {
  io.say(`waiting ${seconds} s: ${why}\n`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
};

async function loadRunning(dirArg: string): Promise<{ dir: string; s: LabState }> {
  const dir = resolve(dirArg);
  const s = await readLab(dir);
  if (!s) throw new LabError(`no lab in ${dirArg} (\`tandem lab up --dir ${dirArg}\` starts one)`);
  return { dir, s };
}

/**
 * A new provider joins (RFC 8901 §8, the reverse of leaving): its keys go to every provider and theirs to it,
 * then, once the DNSKEY TTL has passed, its DS goes to the parent, and after the DS TTL its nameserver joins the
 * NS sets.
 */
export async function labAddProvider(dirArg: string, kind: ProviderKind, io: LabIo, timeoutMs: number): Promise<LabProvider> {
  const { dir, s } = await loadRunning(dirArg);
  if (kind !== 'tandem') await requireTools(kind);
  const taken = new Set(s.providers.map((p) => p.name));
  let n = 1;
  while (taken.has(kind === 'tandem' ? `tandem-${n}` : n === 1 ? kind : `${kind}-${n}`)) n++;
  const p = provider(kind === 'tandem' ? `tandem-${n}` : n === 1 ? kind : `${kind}-${n}`, kind, dir);
  s.providers.push(p);
  await writeLab(dir, s);
  io.say(`starting ${p.name} (${kind}) ...\n`);
  await startProvider(s, p, dir, (n - 1) % 8, timeoutMs);
  await writeLab(dir, s);
  io.say(`${p.name} listens on 127.0.0.1:${p.port} (${p.keys.map((k) => `${k.flags === 257 ? 'KSK' : 'ZSK'} ${k.tag}`).join(', ')})\n`);
  io.say(`1. keys: ${p.name}'s ${s.union ? 'ZSK and KSK' : 'ZSK'} and CDS/CDNSKEY to every provider, theirs to ${p.name}\n`);
  await exchangeKeys(s, p);
  await waitTtl(io, s.ttl, `the DNSKEY TTL, so resolvers holding the old DNSKEY RRsets see ${p.name}'s ZSK before anything is signed for them by it`);
  io.say(`2. DS: ${p.name}'s DS at the parent\n`);
  await addDs(s, p);
  await writeTrustFiles(s, dir);
  await waitTtl(io, s.ttl, 'the DS TTL, so resolvers know the new DS set before they meet the new provider');
  io.say(`3. NS: ns1.${p.name}.${s.zone} at every provider and at the parent\n`);
  await addNs(s, p);
  await restartResolver(s, dir, timeoutMs);
  await writeLab(dir, s);
  io.say(describe(s, dir, false));
  return p;
}

/**
 * A provider leaves in RFC 8901 §8's order: its DS and its delegation at the parent first; after the DS TTL its
 * keys (and CDS/CDNSKEY) and its NS leave the other providers' RRsets; after the DNSKEY TTL it is stopped.
 */
export async function labRemoveProvider(dirArg: string, name: string, io: LabIo, timeoutMs: number): Promise<void> {
  const { dir, s } = await loadRunning(dirArg);
  const p = s.providers.find((x) => x.name === name);
  if (!p) throw new LabError(`no provider ${name} in the lab (${s.providers.map((x) => x.name).join(', ')})`);
  if (s.providers.length < 2) throw new LabError(`${name} is the last provider: \`tandem lab down\` ends the lab`);
  io.say(`1. DS: ${name}'s DS (${p.ds.map((d) => d.split(/\s+/)[4]).join(', ')}) and its NS leave the parent\n`);
  await removeDs(s, p.ds);
  await removeParentNs(s, p);
  s.providers = s.providers.filter((x) => x !== p);
  // Negative controls that involved it end with it.
  s.broken = s.broken.filter((b) => !b.split(':').slice(1, 3).includes(name));
  await writeLab(dir, s);
  await writeTrustFiles(s, dir);
  await restartResolver(s, dir, timeoutMs);
  await writeLab(dir, s);
  await waitTtl(io, s.ttl, `the DS TTL, so no resolver still holds a DS set that needs ${name}'s KSK`);
  io.say(`2. DNSKEY: ${name}'s keys, CDS/CDNSKEY and NS leave ${s.providers.map((x) => x.name).join(', ')}\n`);
  await withdrawKeys(s, p);
  await removeProviderNs(s, p);
  await waitTtl(io, s.ttl, `the DNSKEY TTL, so no resolver holds a DNSKEY RRset or answer that needs ${name} any more`);
  io.say(`3. ${name} stopped: pid ${p.pid} ${await stopProcess(p.pid, mark(dir))}\n`);
  await rm(p.dir, { recursive: true, force: true });
  io.say(describe(s, dir, false));
}

/** Negative controls `tandem check` must catch. */
export async function labBreak(dirArg: string, what: 'zsk' | 'ds', io: LabIo): Promise<void> {
  const { dir, s } = await loadRunning(dirArg);
  if (s.providers.length < 2) throw new LabError('a negative control needs two providers at least');
  // The ZSK of the first provider leaves the last one's DNSKEY RRset (Knot, PowerDNS or BIND when there is one).
  const a = s.providers[0];
  const b = s.providers[s.providers.length - 1];
  if (what === 'zsk') {
    const zsk = a.keys.find((k) => k.flags === 256)!;
    s.broken.push(`zsk:${a.name}:${b.name}:${zsk.tag}`);
    if (b.kind !== 'tandem') await syncExternal(s, b, [`DNSKEY 256 3 13 ${zsk.publicKey}`]);
    else await apiOf(s, b).remove('DNSKEY', s.zone, (c) => sameRdata(c, `256 3 13 ${zsk.publicKey}`));
    io.say(`${b.name}'s DNSKEY RRset no longer holds ${a.name}'s ZSK ${zsk.tag}: resolvers that cached ${b.name}'s keys fail on ${a.name}'s answers (RFC 8901 §3); \`tandem check\` must report zsk-missing\n`);
  } else {
    const last = s.providers[s.providers.length - 1];
    await removeDs(s, last.ds);
    s.broken.push(`ds:${last.name}`);
    await writeTrustFiles(s, dir);
    io.say(`the parent no longer serves ${last.name}'s DS (${last.ds.map((d) => d.split(/\s+/)[4]).join(', ')}), nor do ${s.files.ds} and ${s.files.anchor}: ${last.name}'s DNSKEY RRset no longer validates; \`tandem check\` must report it\n`);
  }
  await writeLab(dir, s);
}
