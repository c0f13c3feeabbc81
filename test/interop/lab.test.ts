// `tandem lab`, run as a user runs it (the real command, as child processes): two tandem providers (plus Knot when
// installed), a signed parent holding one DS per provider KSK, the trust anchors and unbound. The correct lab
// passes `tandem check` and validates in delv (from the lab's anchor) and in unbound (from the parent's DS);
// a provider joins and leaves in RFC 8901 §8's order; `lab break zsk|ds` are negative controls `check` catches;
// `lab down` leaves no process (each recorded PID checked) and no folder.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delv, dig } from '../helpers/dig.js';
import { runCommand, waitFor, type RunResult } from '../helpers/procs.js';

const has = (tool: string) => { try { execFileSync('which', [tool], { stdio: 'ignore' }); return true; } catch { return false; } };
const KNOT = has('knotd') && has('keymgr');
const UNBOUND = has('unbound') && has('unbound-checkconf');

/** The real `tandem` command (from source, through tsx), with /usr/sbin on PATH for knotd and unbound. */
function tandem(args: string[], timeoutMs = 240_000): Promise<RunResult> {
  return runCommand('env', [`PATH=${process.env.PATH}:/usr/sbin`, process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args], { timeoutMs });
}

interface Status {
  zone: string;
  anchor: string;
  ds: string;
  providers: { name: string; address: string; port: number; kind: string; pid: number; running: boolean; keys: { tag: number; role: string }[] }[];
  parent: { port: number; pid: number; anchor: string };
  resolver?: { port: number; pid: number };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }));
  } catch {
    return false;
  }
};

describe(`tandem lab: 2 tandem providers${KNOT ? ' + Knot' : ''}, a signed parent${UNBOUND ? ', unbound' : ''}`, () => {
  let root: string;
  let dir: string;
  const pids = new Set<number>();
  const status = async (): Promise<Status> => {
    const r = await tandem(['lab', 'status', '--json', '--dir', dir]);
    const s = JSON.parse(r.stdout) as Status;
    for (const p of [...s.providers, s.parent, ...(s.resolver ? [s.resolver] : [])]) pids.add(p.pid);
    return s;
  };
  const check = (s: Status, trust: string[]) => tandem(['check', s.zone, ...s.providers.flatMap((p) => ['--ns', `${p.address}:${p.port}`]), ...trust, '--json'], 120_000);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tandem-lab-'));
    dir = join(root, 'lab');
    const up = await tandem(['lab', 'up', '--dir', dir, '--providers', '2', '--ttl', '2', ...(KNOT ? ['--with', 'knot'] : [])]);
    expect(up.code, `${up.stdout}${up.stderr}`).toBe(0);
    expect(up.stdout).toMatch(/delv @127\.0\.0\.1 -p \d+ -a \S+anchor\.conf \+root=lab\.test www\.lab\.test A/);
  }, 300_000);
  afterAll(async () => {
    // Whatever a failed test left: the lab's own down, then every PID seen, then the folder.
    if (existsSync(join(dir, 'lab.json'))) await tandem(['lab', 'down', '--dir', dir]);
    for (const pid of pids) if (alive(pid)) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    await rm(root, { recursive: true, force: true });
  });

  it('status --json: the zone, the anchor and DS files, every provider with address, port and kind, each running with a KSK and a ZSK', async () => {
    const s = await status();
    expect(s.zone).toBe('lab.test.');
    expect(s.anchor).toBe(join(dir, 'anchor.conf'));
    expect(s.ds).toBe(join(dir, 'ds.txt'));
    expect(s.providers.map((p) => [p.name, p.kind])).toEqual([['tandem-1', 'tandem'], ['tandem-2', 'tandem'], ...(KNOT ? [['knot', 'knot']] : [])]);
    for (const p of s.providers) {
      expect(p).toMatchObject({ address: '127.0.0.1', running: true });
      expect(p.keys.map((k) => k.role).sort()).toEqual(['KSK', 'ZSK']);
    }
    // One DS per provider KSK, in the file and at the parent.
    const ds = (await readFile(s.ds, 'utf8')).split('\n').filter((l) => !l.startsWith(';') && / DS /.test(l));
    expect(ds).toHaveLength(s.providers.length);
    const atParent = await dig({ host: '127.0.0.1', port: s.parent.port }, ['+norec', 'lab.test', 'DS']);
    expect(atParent.answer.filter((r) => r.type === 'DS')).toHaveLength(s.providers.length);
  });

  it('RFC 8901 §3: tandem check passes from the anchor file and from the parent; delv validates every provider from the lab\'s anchor', async () => {
    const s = await status();
    for (const trust of [['--anchor', s.anchor], ['--parent', `127.0.0.1:${s.parent.port}`]]) {
      const r = await check(s, trust);
      const report = JSON.parse(r.stdout) as { ok: boolean; findings: { level: string; code: string; message: string }[]; pairs: { failed: number }[] };
      expect(report.findings.filter((f) => f.level === 'error'), trust.join(' ')).toEqual([]);
      expect(r.code).toBe(0);
      expect(report.pairs).toHaveLength(s.providers.length ** 2);
    }
    for (const p of s.providers) {
      const v = await delv({ host: p.address, port: p.port }, s.anchor, ['+root=lab.test', 'www.lab.test', 'A']);
      expect(v.validated, `${p.name}: ${v.out}`).toBe(true);
    }
  });

  it.runIf(UNBOUND)('unbound, trusting only the parent\'s DS, answers with AD; delv through it validates from the parent\'s anchor', async () => {
    const s = await status();
    const r = await dig({ host: '127.0.0.1', port: s.resolver!.port }, ['+dnssec', 'www.lab.test', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('ad');
    const nx = await dig({ host: '127.0.0.1', port: s.resolver!.port }, ['+dnssec', 'nope.lab.test', 'A']);
    expect(nx.flags).toContain('ad');
    const v = await delv({ host: '127.0.0.1', port: s.resolver!.port }, s.parent.anchor, ['+root=test', 'www.lab.test', 'A']);
    expect(v.validated, v.out).toBe(true);
  });

  it('add-provider: keys, then DS, then NS (each wait printed); remove-provider: RFC 8901 §8 order, DS first, then DNSKEY after the TTLs; check passes after each', async () => {
    const add = await tandem(['lab', 'add-provider', '--dir', dir]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/1\. keys:[\s\S]*waiting 2 s: the DNSKEY TTL[\s\S]*2\. DS:[\s\S]*waiting 2 s: the DS TTL[\s\S]*3\. NS:/);
    let s = await status();
    const added = s.providers.find((p) => p.name === 'tandem-3')!;
    expect(added.running).toBe(true);
    let r = await check(s, ['--anchor', s.anchor]);
    expect(r.code, r.stdout.slice(0, 3000)).toBe(0);
    const ns = await dig({ host: s.providers[0].address, port: s.providers[0].port }, ['+norec', 'lab.test', 'NS']);
    expect(ns.answer.map((x) => x.data).sort()).toContain('ns1.tandem-3.lab.test.');

    const addedKsk = added.keys.find((k) => k.role === 'KSK')!.tag;
    const rm3 = await tandem(['lab', 'remove-provider', 'tandem-3', '--dir', dir]);
    expect(rm3.code, rm3.stderr).toBe(0);
    // The DS leaves first; the keys only after the DS TTL.
    expect(rm3.stdout).toMatch(/1\. DS: tandem-3's DS \(\d+\)[\s\S]*waiting 2 s: the DS TTL[\s\S]*2\. DNSKEY: [\s\S]*waiting 2 s: the DNSKEY TTL[\s\S]*3\. tandem-3 stopped/);
    expect(alive(added.pid)).toBe(false);
    s = await status();
    expect(s.providers.map((p) => p.name)).not.toContain('tandem-3');
    expect(await readFile(s.ds, 'utf8')).not.toMatch(new RegExp(` DS ${addedKsk} `));
    const keys = await dig({ host: s.providers[0].address, port: s.providers[0].port }, ['+norec', 'lab.test', 'DNSKEY']);
    expect(keys.answer.filter((x) => x.type === 'DNSKEY')).toHaveLength(s.providers.length + 1);
    r = await check(s, ['--anchor', s.anchor]);
    expect(r.code, r.stdout.slice(0, 3000)).toBe(0);
  }, 240_000);

  it('a second lab up in the same folder is refused, and the running lab is left alone', async () => {
    const r = await tandem(['lab', 'up', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds a lab that is running: `tandem lab down --dir /);
    expect((await status()).providers.every((p) => p.running)).toBe(true);
  });

  it(`negative control, lab break zsk: ${KNOT ? 'Knot' : 'tandem-2'} drops tandem-1's ZSK; check fails naming the missing ZSK (RFC 8901 §3)`, async () => {
    const s = await status();
    const b = await tandem(['lab', 'break', 'zsk', '--dir', dir]);
    expect(b.code, b.stderr).toBe(0);
    const zsk = s.providers[0].keys.find((k) => k.role === 'ZSK')!.tag;
    const last = s.providers[s.providers.length - 1];
    const r = await check(s, ['--anchor', s.anchor]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { level: string; code: string; message: string }[] };
    expect(report.findings.filter((f) => f.code === 'zsk-missing').map((f) => f.message)).toEqual([
      expect.stringContaining(`the DNSKEY RRset of 127.0.0.1:${last.port} lacks ZSK ${zsk} that 127.0.0.1:${s.providers[0].port} signs with`),
    ]);
  });

  it('negative control, lab break ds: the last provider\'s DS leaves the parent and the anchor; check fails naming its KSK', async () => {
    const s = await status();
    const last = s.providers[s.providers.length - 1];
    const ksk = last.keys.find((k) => k.role === 'KSK')!.tag;
    const b = await tandem(['lab', 'break', 'ds', '--dir', dir]);
    expect(b.code, b.stderr).toBe(0);
    for (const trust of [['--anchor', s.anchor], ['--parent', `127.0.0.1:${s.parent.port}`]]) {
      const r = await check(s, trust);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout) as { findings: { level: string; code: string; message: string }[] };
      expect(report.findings.find((f) => f.code === 'ds-missing')?.message, trust.join(' ')).toContain(`KSK ${ksk} of 127.0.0.1:${last.port}`);
    }
  });

  it('lab down stops every process it started (each recorded PID checked) and removes its folder', async () => {
    await status();
    expect(pids.size).toBeGreaterThanOrEqual(3);
    const d = await tandem(['lab', 'down', '--dir', dir]);
    expect(d.code, d.stderr).toBe(0);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const again = await tandem(['lab', 'status', '--dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no lab in/);
  });
});

// PowerDNS and BIND as the other provider, each in its own way of taking foreign keys (zone data reloaded with
// direct-dnskey; dynamic updates), with the other options: NSEC3 and --union (KSKs exchanged too).
const others: { kind: string; tools: string[]; args: string[] }[] = [
  { kind: 'pdns', tools: ['pdns_server', 'pdnsutil', 'sqlite3'], args: ['--denial', 'nsec3', '--union'] },
  { kind: 'bind', tools: ['named', 'nsupdate', 'dnssec-dsfromkey'], args: ['--denial', 'nsec'] },
];
for (const o of others) {
  describe.runIf(o.tools.every(has))(`tandem lab --with ${o.kind} ${o.args.join(' ')}`, () => {
    let root: string;
    let dir: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'tandem-lab-'));
      dir = join(root, 'lab');
    });
    afterAll(async () => {
      if (existsSync(join(dir, 'lab.json'))) await tandem(['lab', 'down', '--dir', dir]);
      await rm(root, { recursive: true, force: true });
    });

    it(`up: check passes (every pinned pair), delv validates ${o.kind}'s answers from the lab's anchor; break zsk is caught; down leaves no process`, async () => {
      const up = await tandem(['lab', 'up', '--dir', dir, '--providers', '1', '--ttl', '2', '--with', o.kind, ...o.args]);
      expect(up.code, `${up.stdout}${up.stderr}`).toBe(0);
      const s = JSON.parse((await tandem(['lab', 'status', '--json', '--dir', dir])).stdout) as Status;
      expect(s.providers.map((p) => p.kind)).toEqual(['tandem', o.kind]);
      const ns = s.providers.flatMap((p) => ['--ns', `${p.address}:${p.port}`]);
      const ok = await tandem(['check', s.zone, ...ns, '--anchor', s.anchor, '--json'], 120_000);
      const report = JSON.parse(ok.stdout) as { findings: { level: string; code: string }[]; pairs: { failed: number }[] };
      expect(report.findings.filter((f) => f.level === 'error')).toEqual([]);
      expect(report.pairs.map((p) => p.failed)).toEqual([0, 0, 0, 0]);
      const other = s.providers[1];
      const v = await delv({ host: other.address, port: other.port }, s.anchor, ['+root=lab.test', 'www.lab.test', 'A']);
      expect(v.validated, v.out).toBe(true);
      if (o.args.includes('--union')) {
        const keys = await dig({ host: other.address, port: other.port }, ['+norec', 'lab.test', 'DNSKEY']);
        expect(keys.answer.filter((x) => x.type === 'DNSKEY' && x.data.startsWith('257 '))).toHaveLength(2);
      }
      expect((await tandem(['lab', 'break', 'zsk', '--dir', dir])).code).toBe(0);
      const bad = await tandem(['check', s.zone, ...ns, '--anchor', s.anchor, '--json'], 120_000);
      expect(bad.code).toBe(1);
      expect((JSON.parse(bad.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code)).toContain('zsk-missing');
      expect((await tandem(['lab', 'down', '--dir', dir])).code).toBe(0);
      for (const p of [...s.providers, s.parent, ...(s.resolver ? [s.resolver] : [])]) expect(alive(p.pid), `pid ${p.pid}`).toBe(false);
      expect(existsSync(dir)).toBe(false);
    }, 300_000);
  });
}

/** PIDs of every process whose command line names `dir` (the lab's processes all do). */
async function processesNaming(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (cmd.replace(/\0/g, ' ').includes(`${dir}/`) && alive(Number(e))) out.push(Number(e));
  }
  return out;
}

describe('tandem lab: command line', () => {
  it('an interrupted lab up (killed while it waits for its processes) leaves nothing lab down does not stop: each PID is recorded at spawn', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tandem-lab-'));
    const dir = join(root, 'lab');
    try {
      const up = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'lab', 'up', '--dir', dir, '--providers', '1'], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
      const exited = new Promise((r) => up.once('exit', r));
      await waitFor(async () => {
        const s = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as { parent: { pid: number }; providers: { pid: number }[] };
        // Both started and recorded, neither ready yet (the lab's zones are signed a few seconds later).
        return s.parent.pid > 0 && s.providers.every((p) => p.pid > 0) && !('resolver' in s);
      }, 60_000, { what: 'the PIDs in lab.json', intervalMs: 20 });
      up.kill('SIGKILL');
      await exited;
      expect((await processesNaming(dir)).length).toBeGreaterThan(0);
      const d = await tandem(['lab', 'down', '--dir', dir]);
      expect(d.code, d.stderr).toBe(0);
      expect(await processesNaming(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    } finally {
      for (const pid of await processesNaming(dir)) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);


  it('a --with the lab does not know is a usage error (exit 2) that starts nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tandem-lab-'));
    try {
      const r = await tandem(['lab', 'up', '--dir', join(root, 'x'), '--with', 'nsd']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--with must be knot, pdns, bind, not 'nsd'/);
      expect(existsSync(join(root, 'x'))).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
