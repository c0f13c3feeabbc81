// The package as users get it: `npm pack` (run on exactly the files the Dockerfile's build stage COPYs), installed
// from the tarball into a fresh project, `npx tandem serve` and `npx tandem ds` from there; then the Dockerfile's
// CMD and the systemd unit's ExecStart run from that install as an unprivileged user, each in a network and mount
// namespace of its own (unshare), so port 53 and /var/lib/tandem are theirs. dig, curl and dnssec-dsfromkey decide.
// Not exercised here (no Docker engine, no systemd as PID 1): `docker build` itself (its RUN steps are emulated
// below: npm ci -> the checkout's node_modules, npm install -g -> a local install, useradd -> nobody) and the
// unit's sandboxing options, which only systemd applies (systemd-analyze verify checks they parse).
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.js';
import { freePort, runChecked, runCommand, spawnDaemon, startDaemonWithRetry, waitFor, type Daemon } from '../helpers/procs.js';
import { checkoutFiles, copyFiles, REPO } from '../helpers/repo.js';

const NOBODY = 65534;
let dir: string;
let tarball: string;
let packed: string[];
let consumer: string;
let installed: string;
const daemons: Daemon[] = [];

/** `npm ...` bounded; a timeout or failure says which step and why, instead of hanging the suite. */
async function npm(what: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const r = await runCommand('npm', args, { cwd, timeoutMs });
  if (r.code !== 0) {
    const why = r.code === -1 ? `did not finish within ${timeoutMs / 1000} s (is the npm registry reachable?)` : `exited ${r.code}`;
    throw new Error(`${what}: npm ${args.join(' ')} ${why}\n${r.stderr.slice(-3000)}`);
  }
  return r.stdout;
}

// ---- Dockerfile ---------------------------------------------------------------------------------------------

interface Instruction { op: string; args: string; }

/** Instructions of each stage (continuation lines joined, comments dropped). */
function dockerStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read ${line}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') stages.push([]);
    stages[stages.length - 1].push({ op, args: m[2].replace(/\s+/g, ' ') });
  }
  return stages;
}

/** Whether .dockerignore (`*` then `!path` / `!dir/` re-includes: the only forms this reader knows) keeps `file`. */
function contextKeeps(dockerignore: string, file: string): boolean {
  let keep = true;
  for (const raw of dockerignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const negate = raw.startsWith('!');
    const p = negate ? raw.slice(1) : raw;
    if (p !== '*' && /[*?[]/.test(p)) throw new Error(`.dockerignore pattern ${raw}: this test reads only '*', 'path' and 'dir/'`);
    const matches = p === '*' || file === p.replace(/\/$/, '') || (p.endsWith('/') && file.startsWith(p));
    if (matches) keep = negate;
  }
  return keep;
}

const dockerfile = () => readFile(join(REPO, 'Dockerfile'), 'utf8');

// ---- systemd unit -------------------------------------------------------------------------------------------

/** `[Service]` settings of the unit: key -> every value given (systemd's list settings may repeat). */
async function unitService(): Promise<Map<string, string[]>> {
  const text = await readFile(join(REPO, 'contrib/systemd/tandem.service'), 'utf8');
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) { section = s[1]; continue; }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv) throw new Error(`tandem.service: cannot read ${line}`);
    if (section === 'Service') out.set(kv[1], [...(out.get(kv[1]) ?? []), kv[2]]);
  }
  return out;
}

// ---- running a command as the container or the service would ------------------------------------------------

interface Sandbox {
  /** Folders to create (mode 0700, owned by nobody) on a private tmpfs over /var/lib. */
  dirs: string[];
  /** Demo zone files copied into this folder first. */
  zonesDir: string;
  /** Docker: any user may bind ports below 1024 (net.ipv4.ip_unprivileged_port_start=0). */
  unprivilegedPorts: boolean;
  /** setpriv options that make the user and capabilities. */
  setpriv: string[];
  umask?: string;
  argv: string[];
}

/** Starts `argv` as nobody in fresh network and mount namespaces (lo up, tmpfs on /var/lib); the pid is the server's. */
function sandboxed(s: Sandbox, name: string): Daemon {
  const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -e',
    'ip link set lo up',
    s.unprivilegedPorts ? 'sysctl -q -w net.ipv4.ip_unprivileged_port_start=0' : ':',
    'mount -t tmpfs -o mode=0755 tmpfs /var/lib',
    ...s.dirs.map((d) => `mkdir -p ${q(d)}`),
    `cp ${q(join(installed, 'demo/zones'))}/* ${q(s.zonesDir)}/`,
    ...s.dirs.map((d) => `chown -R ${NOBODY}:${NOBODY} ${q(d)} && chmod -R go-rwx ${q(d)}`),
    s.umask ? `umask ${s.umask}` : ':',
    `exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups ${s.setpriv.join(' ')} -- env PATH=${q(join(consumer, 'node_modules/.bin'))}:"$PATH" ${s.argv.map(q).join(' ')}`,
  ].join('\n');
  const d = spawnDaemon('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', script], { name });
  daemons.push(d);
  return d;
}

/** Runs a command inside the sandbox's namespaces. */
const inside = (d: Daemon, cmd: string[], timeoutMs = 15_000) => runCommand('nsenter', [`--net=/proc/${d.pid}/ns/net`, `--mount=/proc/${d.pid}/ns/mnt`, '--', ...cmd], { timeoutMs });

async function digInside(d: Daemon, server: string, name: string): Promise<string> {
  return waitFor(async () => {
    const r = await inside(d, ['dig', `@${server}`, '-p', '53', '+tries=1', '+time=2', '+short', name, 'A']);
    return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
  }, 30_000, { what: `${d.name} answering on ${server}:53`, abort: () => (d.exited() ? `exited: ${d.logs().slice(-2000)}` : undefined) });
}

async function procStatus(pid: number): Promise<{ uid: string; capEff: string }> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return { uid: /^Uid:\s+(\d+)/m.exec(s)![1], capEff: /^CapEff:\s+([0-9a-f]+)/m.exec(s)![1] };
}

async function canSandbox(): Promise<string | undefined> {
  for (const tool of ['unshare', 'nsenter', 'setpriv', 'ip']) {
    if ((await runCommand('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`])).code !== 0) return `${tool} is not installed (util-linux, iproute2)`;
  }
  const r = await runCommand('unshare', ['--net', '--mount', '--', 'true']);
  return r.code === 0 ? undefined : `cannot make namespaces here (unshare: ${r.stderr.trim()}); needs root with CAP_SYS_ADMIN`;
}

// ---- the tarball ------------------------------------------------------------------------------------------------

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-package-'));
  await chmod(dir, 0o755); // nobody runs the installed package from here
  // The Docker build context: the files the build stage COPYs, as .dockerignore lets them through.
  const build = dockerStages(await dockerfile())[0];
  const sources = build.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(' ').slice(0, -1));
  const ignore = await readFile(join(REPO, '.dockerignore'), 'utf8');
  const files = (await checkoutFiles()).filter((f) => sources.some((s) => f === s || (s.endsWith('/') && f.startsWith(s))) && contextKeeps(ignore, f));
  const context = join(dir, 'context');
  await copyFiles(files, context);
  await symlink(join(REPO, 'node_modules'), join(context, 'node_modules')); // the stage's `RUN npm ci`
  const out = join(dir, 'out');
  await mkdir(out);
  const json = JSON.parse(await npm('npm pack (prepack builds dist/)', ['pack', '--json', '--pack-destination', out], context, 180_000)) as { filename: string; files: { path: string }[] }[];
  tarball = join(out, json[0].filename);
  packed = json[0].files.map((f) => f.path).sort();

  consumer = join(dir, 'consumer');
  await mkdir(consumer);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'tandem-consumer', private: true }) + '\n');
  await npm('installing the packed tarball', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], consumer, 180_000);
  installed = join(consumer, 'node_modules/tandem');
}, 400_000);

afterAll(async () => {
  for (const d of daemons) await d.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds dist/ (JavaScript and type declarations), the UDP addon (source and build), README, LICENSE, package.json and the demo zone, nothing else', () => {
    const allowed = /^(dist\/.+\.(js|d\.ts)|native\/udpio\.(c|node)|demo\/zones\/[^/]+\.yaml|README\.md|LICENSE|package\.json)$/;
    expect(packed.filter((f) => !allowed.test(f))).toEqual([]);
    // native/udpio.node: prepack's build made it (this machine has cc and Node's headers), as in the Docker build stage.
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/fixture.js', 'dist/cli/main.js', 'native/udpio.node', 'demo/zones/example.com.yaml', 'README.md', 'LICENSE', 'package.json']) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => /(^|\/)(test|bench|\.ci|scripts|contrib)\//.test(f) || /\.private$|K.*\.key$/.test(f))).toEqual([]);
  });

  it('LICENSE is the MIT licence package.json names, with its author', async () => {
    const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { license: string; author: string };
    const license = await readFile(join(installed, 'LICENSE'), 'utf8');
    expect(pkg.license).toBe('MIT');
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toContain(`Copyright (c) 2026 ${pkg.author}`);
  });

  it('installed from the tarball: `npx tandem serve` answers (dig), `npx tandem ds` prints the DS dnssec-dsfromkey computes', async () => {
    const zones = join(dir, 'npx-zones');
    const state = join(dir, 'npx-state');
    await cp(join(installed, 'demo/zones'), zones, { recursive: true });
    let port = 0;
    const d = await startDaemonWithRetry({
      name: 'npx tandem serve',
      busy: /EADDRINUSE/,
      start: async () => {
        port = await freePort();
        const api = await freePort();
        const p = spawnDaemon('npx', ['tandem', 'serve', '--zones', zones, '--state', state, '--listen', `127.0.0.1:${port}`, '--api', `127.0.0.1:${api}`, '--workers', '1'], { cwd: consumer, env: { ...process.env, npm_config_yes: 'false' } });
        daemons.push(p);
        return p;
      },
      ready: (p) => waitFor(async () => (await dig({ host: '127.0.0.1', port }, ['www.example.com', 'A'])).answer.length > 0, 60_000, { what: 'npx tandem serve answering', abort: () => (p.exited() ? 'exited' : undefined) }),
    });
    const www = await dig({ host: '127.0.0.1', port }, ['www.example.com', 'A', '+dnssec']);
    expect(www.answer.filter((r) => r.type === 'A').map((r) => r.data)).toEqual(['192.0.2.1']);
    expect(www.answer.some((r) => r.type === 'RRSIG')).toBe(true);
    // The installed package's addon loads: UDP is read in batches.
    expect(d.logs()).toContain('"udpIo":"batched"');

    const ds = (await runChecked('npx', ['tandem', 'ds', 'example.com', '--state', state], { cwd: consumer, timeoutMs: 30_000 })).trim();
    expect(ds).toMatch(/^example\.com\. \d+ IN DS \d+ 13 2 [0-9A-F]{64}$/);
    const keyDir = join(state, 'keys/example.com');
    const ksk = [];
    for (const f of (await readdir(keyDir)).filter((x) => x.endsWith('.key'))) if (/ DNSKEY 257 /.test(await readFile(join(keyDir, f), 'utf8'))) ksk.push(f);
    expect(ksk).toHaveLength(1);
    const bind = (await runChecked('dnssec-dsfromkey', ['-2', join(keyDir, ksk[0])])).trim();
    const rdata = (s: string) => s.split(/ DS /)[1].replace(/\s+/g, ' ').toUpperCase();
    expect(rdata(ds)).toBe(rdata(bind));
    await d.stop(10_000);
    expect(d.exited()?.signal).not.toBe('SIGKILL'); // stopped by SIGTERM, not killed after the grace period
  }, 120_000);
});

describe('Dockerfile', () => {
  it('builds on node:20-slim, runs as a non-root user, exposes 53/udp, 53/tcp and 8053', async () => {
    const stages = dockerStages(await dockerfile());
    const runtime = stages[stages.length - 1];
    expect(stages.map((s) => s[0].args.split(' ')[0])).toEqual(['node:20-slim', 'node:20-slim']);
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    expect(runtime.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(' ')).sort()).toEqual(['53/tcp', '53/udp', '8053']);
  });

  it('every file it COPYs is in the build context (.dockerignore) and what it takes from the package is in the tarball', async () => {
    const [build, runtime] = dockerStages(await dockerfile());
    const ignore = await readFile(join(REPO, '.dockerignore'), 'utf8');
    const files = await checkoutFiles();
    for (const src of build.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(' ').slice(0, -1))) {
      const hits = files.filter((f) => f === src || (src.endsWith('/') && f.startsWith(src)));
      expect(hits.length, `COPY ${src}: not in the checkout`).toBeGreaterThan(0);
      expect(hits.filter((f) => !contextKeeps(ignore, f)), `COPY ${src}: left out by .dockerignore`).toEqual([]);
    }
    // The runtime stage reads the installed package (npm install -g: /usr/local/lib/node_modules/tandem/...).
    const run = runtime.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    const fromPackage = [...run.matchAll(/\/usr\/local\/lib\/node_modules\/tandem\/(\S+)/g)].map((m) => m[1].replace(/\/\*$/, '/'));
    expect(fromPackage).toEqual(['demo/zones/']);
    for (const p of fromPackage) expect(packed.some((f) => f.startsWith(p)), p).toBe(true);
  });

  it('its CMD, run as a non-root user the way Docker runs it, answers on port 53 and serves the admin API on 8053', async (ctx) => {
    const why = await canSandbox();
    if (why) ctx.skip(why);
    const stages = dockerStages(await dockerfile());
    const runtime = stages[stages.length - 1];
    const argv = JSON.parse(runtime.filter((i) => i.op === 'CMD').at(-1)!.args) as string[];
    const flag = (f: string) => argv[argv.indexOf(f) + 1];
    const run = runtime.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    expect(run).toContain(`mkdir -p ${flag('--zones')} ${flag('--state')}`);
    const d = sandboxed({
      dirs: [flag('--zones'), flag('--state')], zonesDir: flag('--zones'), unprivilegedPorts: true,
      setpriv: ['--inh-caps=-all', '--bounding-set=-all'], argv,
    }, 'docker CMD');
    expect(await digInside(d, '127.0.0.1', 'www.example.com')).toBe('192.0.2.1');
    expect(await procStatus(d.pid)).toEqual({ uid: String(NOBODY), capEff: '0000000000000000' });
    // The API starts after the DNS listeners: wait for it (bounded) rather than race it.
    const api = await waitFor(async () => {
      const r = await inside(d, ['sh', '-c', `curl -sS -H "Authorization: Bearer $(cat ${flag('--state')}/api-token)" http://127.0.0.1:8053/client/v4/zones`]);
      try {
        return (JSON.parse(r.stdout) as { success?: boolean }).success === true && r;
      } catch {
        return false;
      }
    }, 10_000, { what: 'the admin API in the sandbox' });
    expect(JSON.parse(api.stdout)).toMatchObject({ success: true, result: [{ name: 'example.com' }] });
    await d.stop(10_000); // docker stop: SIGTERM
    expect(d.exited()).toEqual({ code: 0, signal: null });
  }, 120_000);
});

describe('systemd unit', () => {
  it('systemd-analyze verify finds nothing to report', async (ctx) => {
    if ((await runCommand('sh', ['-c', 'command -v systemd-analyze'])).code !== 0) ctx.skip('systemd-analyze is not installed (Debian package systemd)');
    const unit = (await readFile(join(REPO, 'contrib/systemd/tandem.service'), 'utf8'));
    const exec = /^ExecStart=(\S+)/m.exec(unit)![1];
    // verify wants the binary to exist: point ExecStart at the installed package's.
    const copy = join(dir, 'tandem.service');
    await writeFile(copy, unit.replace(`ExecStart=${exec}`, `ExecStart=${join(consumer, 'node_modules/.bin/tandem')}`));
    const r = await runCommand('systemd-analyze', ['verify', copy], { timeoutMs: 30_000 });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.code).toBe(0);
  });

  it('runs as a user of its own, with CAP_NET_BIND_SERVICE as its only capability, no new privileges, state under /var/lib', async () => {
    const s = await unitService();
    expect(s.get('User')).toEqual(['tandem']);
    expect(s.get('AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(s.get('CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(s.get('NoNewPrivileges')).toEqual(['yes']);
    expect(s.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(s.get('StateDirectory')).toEqual(['tandem/zones tandem/state']);
    expect(s.get('ProtectSystem')).toEqual(['strict']);
    const exec = s.get('ExecStart')![0].split(' ');
    expect(exec.slice(1, 2)).toEqual(['serve']);
    expect(exec[exec.indexOf('--zones') + 1]).toBe('/var/lib/tandem/zones');
    expect(exec[exec.indexOf('--state') + 1]).toBe('/var/lib/tandem/state');
  });

  /** The unit's ExecStart under the unit's user and capability settings (User= -> nobody: no tandem user here). */
  async function startUnit(withCapability: boolean): Promise<{ d: Daemon; reload: string[] }> {
    const s = await unitService();
    const caps = (k: string) => (s.get(k)?.[0] ?? '').split(' ').filter(Boolean).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',');
    const setpriv = [
      `--inh-caps=-all${withCapability ? `,${caps('AmbientCapabilities')}` : ''}`,
      `--ambient-caps=-all${withCapability ? `,${caps('AmbientCapabilities')}` : ''}`,
      `--bounding-set=-all,${caps('CapabilityBoundingSet')}`,
      ...(s.get('NoNewPrivileges')?.[0] === 'yes' ? ['--no-new-privs'] : []),
    ];
    const argv = s.get('ExecStart')![0].split(' ');
    argv[0] = 'tandem'; // /usr/bin/tandem there; the installed package's bin here
    const dirs = s.get('StateDirectory')![0].split(' ').map((x) => `/var/lib/${x}`);
    const d = sandboxed({ dirs, zonesDir: argv[argv.indexOf('--zones') + 1], unprivilegedPorts: false, setpriv, umask: s.get('UMask')?.[0], argv }, withCapability ? 'systemd unit' : 'systemd unit without its capability');
    return { d, reload: s.get('ExecReload')![0].replace('$MAINPID', String(d.pid)).split(' ') };
  }

  it('its ExecStart binds port 53 (IPv4 and IPv6) as an unprivileged user with CAP_NET_BIND_SERVICE only; ExecReload reloads; SIGTERM stops it cleanly', async (ctx) => {
    const why = await canSandbox();
    if (why) ctx.skip(why);
    const { d, reload } = await startUnit(true);
    expect(await digInside(d, '127.0.0.1', 'www.example.com')).toBe('192.0.2.1');
    expect(await digInside(d, '::1', 'www.example.com')).toBe('192.0.2.1');
    // Bit 10 (CAP_NET_BIND_SERVICE) and no other.
    expect(await procStatus(d.pid)).toEqual({ uid: String(NOBODY), capEff: '0000000000000400' });
    await runChecked(reload[0], reload.slice(1));
    await waitFor(() => /"msg":"zones reloaded"/.test(d.logs()), 30_000, { what: 'the reload ExecReload asked for', abort: () => (d.exited() ? 'exited' : undefined) });
    expect(await digInside(d, '127.0.0.1', 'www.example.com')).toBe('192.0.2.1');
    await d.stop(30_000); // KillSignal=SIGTERM
    expect(d.exited()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('without the capability the same user cannot bind port 53: the capability is what makes it work', async (ctx) => {
    const why = await canSandbox();
    if (why) ctx.skip(why);
    const { d } = await startUnit(false);
    await waitFor(() => d.exited(), 30_000, { what: 'the server to give up' });
    expect(d.exited()!.code).not.toBe(0);
    expect(d.logs()).toMatch(/permission denied; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability/);
  }, 120_000);
});
