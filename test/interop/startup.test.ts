// Start-up as an operator meets it, with the built `node dist/cli/main.js` (issue 13, "Start-up and errors"):
// the listeners bind before any zone is read, so an address in use ends the start at once; each zone is served
// as soon as it is loaded, a large one beside a small one delaying nothing (dig decides); progress and
// "in service" lines; every misconfiguration a message that names the thing and the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, requireTool } from '../helpers/dig.js';
import { buildTandem, type BuiltTandem } from '../helpers/built.js';
import { runCommand, spawnDaemon, waitFor, type Daemon } from '../helpers/procs.js';
import { bigZone, EXAMPLE_ZONE_FILE } from '../helpers/zones.js';

/** 300,000 names: about 13 MB, loaded for a few seconds (the records reader made 150,000 too quick for this test), long after example.com is served. */
const NAMES = 300_000;

let built: BuiltTandem;
let dir: string;
/** example.com (50 records) beside big.test (150,000). */
let zones: string;

beforeAll(async () => {
  requireTool('dig', 'bind9-dnsutils');
  built = await buildTandem();
  dir = await mkdtemp(join(tmpdir(), 'tandem-startup-'));
  await chmod(dir, 0o755); // readable by the unprivileged user of the state-folder test
  zones = join(dir, 'zones');
  await mkdir(zones);
  await cp(EXAMPLE_ZONE_FILE, join(zones, 'example.com.yaml'));
  await writeFile(join(zones, 'big.test.yaml'), bigZone(NAMES));
}, 300_000);
afterAll(async () => {
  await built?.remove();
  await rm(dir, { recursive: true, force: true });
});

const tandem = (args: string[], timeoutMs = 20_000) => runCommand(process.execPath, [built.main, ...args], { timeoutMs });

/** `serve` with a fresh state folder, on any free ports. */
function serve(name: string, extra: string[]): Daemon {
  return spawnDaemon(process.execPath, [
    built.main, 'serve', '--zones', zones, '--state', join(dir, `state-${name}`), '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--api-token', 'startup-test', ...extra,
  ], { name: `tandem ${name}` });
}

const lines = (d: Daemon) => d.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const inService = (d: Daemon, zone: string) => lines(d).some((l) => l.msg === 'zone in service' && l.zone === zone);
/** The port of the early line: the listeners are bound, the zones not loaded yet. */
async function listening(d: Daemon): Promise<number> {
  return waitFor(() => {
    const l = lines(d).find((x) => x.msg === 'listening (udp+tcp); loading zones');
    return l && Number(/:(\d+)$/.exec((l.listen as string[])[0])![1]);
  }, 30_000, { what: `${d.name} listening`, abort: () => (d.exited() ? `exited: ${d.logs()}` : undefined) });
}

describe('an address in use ends the start at once, before any zone is read', () => {
  let holder: Server;
  let busy: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    busy = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  for (const workers of ['1', '2']) {
    it(`--workers ${workers}: exit 1 within seconds with a message naming the address and the flag; no zone loaded`, async () => {
      const started = Date.now();
      const r = await tandem(['serve', '--workers', workers, '--zones', zones, '--state', join(dir, `state-busy-${workers}`), '--listen', `127.0.0.1:${busy}`, '--api', '127.0.0.1:0']);
      const took = Date.now() - started;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`tandem: cannot listen on 127.0.0.1:${busy} for DNS over TCP: the address is already in use`);
      expect(r.stderr).toContain('choose another address with --listen');
      expect(r.stdout).not.toContain('zone in service');
      expect(r.stdout).not.toContain('loading zone');
      // Loading big.test alone takes longer than this (see the next test's progress lines).
      expect(took).toBeLessThan(10_000);
    });
  }

  it('the admin API port in use: the same, naming --api', async () => {
    const r = await tandem(['serve', '--workers', '1', '--zones', zones, '--state', join(dir, 'state-busy-api'), '--listen', '127.0.0.1:0', '--api', `127.0.0.1:${busy}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tandem: cannot listen on 127.0.0.1:${busy} for the admin API: the address is already in use`);
    expect(r.stderr).toContain('--api');
    expect(r.stdout).not.toContain('zone in service');
  });
});

describe('each zone is served as soon as it is loaded: a large zone beside a small one delays nothing', () => {
  for (const workers of ['1', '2']) {
    it(`--workers ${workers}: example.com answers while big.test is still loading (SERVFAIL), then big.test too; progress and in-service lines`, async () => {
      const d = serve(`load-${workers}`, ['--workers', workers, ...(workers === '2' ? ['--log-level', 'debug'] : [])]);
      try {
        const at = { host: '127.0.0.1', port: await listening(d) };
        // The first answer for example.com comes before big.test is in service.
        const small = await waitFor(async () => {
          const r = await dig(at, ['example.com.', 'SOA', '+norec']);
          return r.status === 'NOERROR' && r;
        }, 30_000, { what: 'example.com answered', abort: () => (d.exited() ? `exited: ${d.logs()}` : undefined) });
        expect(small.flags).toContain('aa');
        expect(inService(d, 'big.test.')).toBe(false);
        // The line follows (with workers too: they hold no zone and ask the primary, issue 16).
        await waitFor(() => inService(d, 'example.com.'), 10_000, { what: 'example.com in service' });
        expect(inService(d, 'big.test.')).toBe(false);
        // A zone still loading is ours but not ready: SERVFAIL (as BIND answers), not REFUSED.
        expect((await dig(at, ['h1.big.test.', 'A', '+norec'])).status).toBe('SERVFAIL');
        expect((await dig(at, ['example.org.', 'A', '+norec'])).status).toBe('REFUSED');
        if (workers === '2') {
          // In service means in service in every worker (they ask the primary): TCP connections go round-robin to both.
          const mark = d.logs().length;
          for (let i = 0; i < 8; i++) expect((await dig(at, ['+tcp', `w${i}.example.com.`, 'A', '+norec'])).status).toBe('NXDOMAIN');
          const by = new Set(d.logs().slice(mark).split('\n').filter((l) => l.includes('"msg":"query"')).map((l) => /"worker":(\d+)/.exec(l)?.[1]));
          expect(by.size).toBe(2);
        }

        await waitFor(() => inService(d, 'big.test.'), 120_000, { what: 'big.test in service', abort: () => (d.exited() ? `exited: ${d.logs()}` : undefined) });
        for (let i = 0; i < 4; i++) {
          const r = await dig(at, [...(i % 2 ? ['+tcp'] : []), `h${NAMES - 1 - i}.big.test.`, 'A', '+norec']);
          expect(r.status).toBe('NOERROR');
        }
        const log = lines(d);
        // Progress of the large load: records read, share of the file, records per second.
        const progress = log.filter((l) => l.msg === 'loading zone' && l.zone === 'big.test.');
        expect(progress.length).toBeGreaterThan(0);
        for (const p of progress) {
          expect(p.records).toBeGreaterThan(0);
          expect(p.percent).toBeGreaterThanOrEqual(0);
          expect(p.percent).toBeLessThan(100);
          expect(p.rate).toBeGreaterThan(0);
        }
        if (workers === '2') {
          // A worker that dies is replaced by one that binds at once (it holds no zone, issue 16): no answer
          // is ever missing a zone (the other worker answers meanwhile).
          const victim = log.find((l) => l.msg === 'query' && l.worker === 1)!;
          process.kill(victim.pid as number, 'SIGKILL');
          const statuses = new Set<string>();
          await waitFor(async () => {
            statuses.add((await dig(at, ['+tcp', 'h1.big.test.', 'A', '+norec'])).status);
            return lines(d).some((l) => l.msg === 'new worker serving every zone' && l.replaces === 1);
          }, 120_000, { what: 'the replacement worker' });
          expect([...statuses]).toEqual(['NOERROR']);
          const mark = d.logs().length;
          for (let i = 0; i < 8; i++) expect((await dig(at, ['+tcp', `h${i}.big.test.`, 'A', '+norec'])).status).toBe('NOERROR');
          const by = new Set(d.logs().slice(mark).split('\n').filter((l) => l.includes('"msg":"query"')).map((l) => /"worker":(\d+)/.exec(l)?.[1]));
          expect(by).toEqual(new Set(['2', '3']));
        }
        const big = log.find((l) => l.msg === 'zone in service' && l.zone === 'big.test.')!;
        expect(big).toMatchObject({ records: NAMES + 2, signed: true, denial: 'nsec', serial: 1 });
        // Smallest first; then one summary line.
        const order = log.filter((l) => l.msg === 'zone in service').map((l) => l.zone);
        expect(order).toEqual(['example.com.', 'big.test.']);
        await waitFor(() => lines(d).some((l) => l.msg === 'zones loaded' && l.zones === 2 && l.failed === 0), 10_000, { what: 'zones loaded' });
      } finally {
        await d.stop();
      }
      expect(d.exited()?.code).toBe(0);
    }, 240_000);
  }
});

describe('misconfigurations are messages that name the thing and the fix', () => {
  it('a missing zones folder (not ENOENT ... scandir)', async () => {
    const r = await tandem(['serve', '--workers', '1', '--zones', join(dir, 'nope'), '--state', join(dir, 'state-nozones'), '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tandem: zones folder ${join(dir, 'nope')}: does not exist; create it and put zone files in it (<zone>.yaml or <zone>.zone), or point --zones (config \`zones:\`) at yours\n`);
  });

  it('a state folder group or others can write is refused, unchanged, with the chmod that fixes it', async () => {
    const state = join(dir, 'state-open');
    await mkdir(state);
    await chmod(state, 0o777);
    const r = await tandem(['serve', '--workers', '1', '--zones', zones, '--state', state, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tandem: state folder ${state}: is writable by its group and everyone (mode 0777) and holds private keys, so tandem will not use it: run \`chmod 700 ${state}\`\n`);
    expect(statSync(state).mode & 0o777).toBe(0o777);
  });

  it('a state folder this user cannot write (not EPERM ... chmod)', async () => {
    const state = join(dir, 'state-theirs');
    await mkdir(state);
    await chmod(state, 0o755);
    // As root every folder is writable: run tandem as nobody, who may read but not write this root-owned folder.
    const root = process.getuid?.() === 0;
    if (!root) await chmod(state, 0o500);
    const serveArgs = [built.main, 'serve', '--workers', '1', '--zones', zones, '--state', state, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0'];
    const [cmd, args] = root ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...serveArgs]] : [process.execPath, serveArgs];
    const r = await runCommand(cmd, args, { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^tandem: state folder ${state}: is not writable by this user \\(uid \\d+\\); give it to this user \\(chown\\) or choose another --state\\n$`));
  });

  it('--udp-io batched where native/udpio.node is not built: exit 1 naming the file, the build and the other modes; no zone loaded', async () => {
    const r = await tandem(['serve', '--workers', '1', '--zones', zones, '--state', join(dir, 'state-udpio'), '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--udp-io', 'batched']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tandem: cannot listen on 127\.0\.0\.1:\d+ for DNS over UDP: udp-io batched: \S+\/native\/udpio\.node is not built \(npm run build\); or serve with --udp-io auto/);
    expect(r.stdout).not.toContain('zone in service');
  });

  it('an empty zones folder is a warning (the server runs, answers REFUSED); a file it does not read is a warning too', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'README.txt'), 'notes\n');
    const d = spawnDaemon(process.execPath, [built.main, 'serve', '--workers', '1', '--zones', empty, '--state', join(dir, 'state-empty'), '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0'], { name: 'tandem empty' });
    try {
      const at = { host: '127.0.0.1', port: await listening(d) };
      await waitFor(() => lines(d).some((l) => l.msg === 'zones loaded'), 20_000, { what: 'zones loaded' });
      const warns = lines(d).filter((l) => l.level === 40);
      expect(warns).toContainEqual(expect.objectContaining({ zones: empty, msg: expect.stringContaining('no zone files in the zones folder') }));
      expect(warns).toContainEqual(expect.objectContaining({ file: join(empty, 'README.txt'), msg: expect.stringContaining('not a zone file, not read') }));
      expect((await dig(at, ['example.com.', 'SOA', '+norec'])).status).toBe('REFUSED');
      // This build has no native/udpio.node (built.ts compiles dist/ only): udp-io auto reads UDP with dgram.
      expect(lines(d)).toContainEqual(expect.objectContaining({ msg: 'listening (udp+tcp); loading zones', udpIo: 'dgram' }));
      // And says why, once, at info.
      const why = lines(d).filter((l) => l.msg === 'udp-io auto: reading UDP with dgram, one call per datagram');
      expect(why).toHaveLength(1);
      expect(why[0].why).toMatch(/native\/udpio\.node is not built \(npm run build\)/);
    } finally {
      await d.stop();
    }
  }, 60_000);
});

describe('the command line', () => {
  it('tandem --version prints the version of package.json', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const r = await tandem(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `tandem ${pkg.version}\n` });
  });

  it('tandem serve --help is help (exit 0), not an error', async () => {
    const r = await tandem(['serve', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tandem serve \[options\]/);
    for (const flag of ['--config', '--zones', '--state', '--listen', '--api', '--api-token', '--log-level', '--workers', '--parent-resolver']) expect(r.stdout).toContain(flag);
  });

  it('an unknown flag: the message and the command\'s usage on stderr, exit 2', async () => {
    const r = await tandem(['serve', '--zone', zones]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tandem serve: unknown option '--zone'\n\nUsage: tandem serve \[options\]/);
    expect(r.stdout).toBe('');
  });

  it('a token that starts with "-" is given as --api-token=TOKEN (a base64url token does, one time in 64: the lab\'s did)', async () => {
    const token = '-dash_token';
    expect((await tandem(['serve', '--api-token', token, '--zones', zones])).stderr).toMatch(/^tandem serve: /); // the space form takes it for a flag
    const d = spawnDaemon(process.execPath, [built.main, 'serve', '--workers', '1', '--zones', zones, '--state', join(dir, 'state-dash'), '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', `--api-token=${token}`], { name: 'tandem dash' });
    try {
      await listening(d);
      const api = await waitFor(() => lines(d).find((l) => l.msg === 'admin API listening')?.address as string | undefined, 20_000, { what: 'admin API listening' });
      const get = (t: string) => fetch(`http://${api}/client/v4/zones`, { headers: { authorization: `Bearer ${t}` } });
      expect((await get(token)).status).toBe(200);
      expect((await get('dash_token')).status).not.toBe(200);
    } finally {
      await d.stop();
    }
  }, 60_000);

  it('an admin command that cannot read the token file says so (no request is sent)', async () => {
    const state = join(dir, 'no-state');
    const r = await runCommand('env', ['-u', 'TANDEM_TOKEN', '-u', 'TANDEM_API_TOKEN', '-u', 'TANDEM_AUTH_EMAIL', '-u', 'TANDEM_AUTH_KEY', process.execPath, built.main, 'status', '--state', state, '--api', 'http://127.0.0.1:1'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tandem status: no API token: --token and TANDEM_TOKEN are not set and the server's token file ${join(state, 'api-token')} cannot be read (no such file); give --token, --token-file FILE, or --state DIR naming the state folder of the running server\n`);
  });
});
