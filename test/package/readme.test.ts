// README.md, followed as a new user would: in a temporary copy of the repository, every ```sh block in order,
// with the real tools it names (npm, dig, delv, curl, jq), the server started in the background where the README
// starts it (on free ports instead of 5300 and 8053). Afterwards `git status` must be clean: following the README never changes a tracked file.
// Comments in the README source steer this test, on the lines right above a block:
//   <!-- walkthrough: skip: WHY -->      not run here (WHY is required)
//   <!-- walkthrough: background ... --> started in the background, awaited until it answers, stopped by PID
//   <!-- walkthrough: expect: REGEX -->  the block's output must match (repeatable)
//   <!-- walkthrough: same-as FILE -->   the block is FILE's text (any language; FILE is tested elsewhere)
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.js';
import { freePort, runChecked, runCommand, spawnDaemon, waitFor, type Daemon } from '../helpers/procs.js';
import { cloneWork, REPO } from '../helpers/repo.js';

interface Block {
  line: number;
  section: string;
  lang: string;
  text: string;
  skip?: string;
  background: boolean;
  expect: RegExp[];
  sameAs?: string;
}

/** The fenced blocks of the README with the walkthrough comments right above each. */
function readmeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let section = '';
  let pending: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^#{2,3} (.*)$/.exec(line);
    if (heading) section = heading[1];
    const directive = /^<!-- walkthrough: (.*?) -->$/.exec(line);
    if (directive) { pending.push(directive[1]); continue; }
    const fence = /^```(\S*)$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') pending = [];
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    const b: Block = { line: start + 1, section, lang: fence[1], text: body.join('\n') + '\n', background: false, expect: [] };
    for (const d of pending) {
      const m = /^(skip|background|expect|same-as)\b:?\s*(.*)$/.exec(d);
      if (!m) throw new Error(`README.md:${start + 1}: unknown walkthrough comment "${d}" (skip: WHY, background, expect: REGEX, same-as FILE)`);
      if (m[1] === 'skip') {
        if (!m[2].trim()) throw new Error(`README.md:${start + 1}: "walkthrough: skip" needs a reason`);
        b.skip = m[2].trim();
      } else if (m[1] === 'background') b.background = true;
      else if (m[1] === 'expect') b.expect.push(new RegExp(m[2]));
      else b.sameAs = m[2].trim();
    }
    pending = [];
    blocks.push(b);
  }
  return blocks;
}

const tcpOpen = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

/**
 * Free ports swapped into every command for the README's 5300 and 8053, and `npm start` told to use them: a
 * second run of this suite (another checkout) or a server someone started by hand must not collide with this one.
 */
async function choosePorts(): Promise<{ dns: number; api: number; rewrite: (cmd: string) => string }> {
  const dns = await freePort();
  const api = await freePort();
  return {
    dns, api,
    rewrite: (c) => c.replace(/\b5300\b/g, String(dns)).replace(/\b8053\b/g, String(api))
      .replace(/\bnpm start\b/g, `npm start -- --listen 127.0.0.1:${dns} --api 127.0.0.1:${api}`),
  };
}

const readme = () => readFile(join(REPO, 'README.md'), 'utf8');

describe('README.md', () => {
  it('every walkthrough comment is understood, every skip says why, and same-as blocks are their files', async () => {
    const blocks = readmeBlocks(await readme());
    expect(blocks.filter((b) => b.lang === 'sh').length).toBeGreaterThan(5);
    expect(blocks.filter((b) => b.background)).toHaveLength(1);
    for (const b of blocks.filter((x) => x.sameAs)) {
      expect(b.text, `README.md:${b.line} is not ${b.sameAs}`).toBe(await readFile(join(REPO, b.sameAs!), 'utf8'));
    }
    expect(blocks.filter((b) => b.sameAs).map((b) => b.sameAs)).toContain('examples/fixture.test.ts');
  });

  describe('walkthrough', () => {
    let dir: string | undefined;
    let server: Daemon | undefined;
    afterAll(async () => {
      await server?.stop(10_000);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('every shell block runs, in order, in a fresh copy, and leaves `git status` clean', async () => {
      dir = await mkdtemp(join(tmpdir(), 'tandem-readme-'));
      await cloneWork(dir);
      // What `npm install` would fetch, copied from this checkout so the step is quick and offline.
      await runChecked('cp', ['-a', join(REPO, 'node_modules'), join(dir, 'node_modules')], { timeoutMs: 120_000 });
      const ports = await choosePorts();
      const env = {
        ...process.env,
        PATH: `${process.env.PATH}:/usr/sbin`,
        npm_config_audit: 'false', npm_config_fund: 'false', npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false',
      };
      const blocks = readmeBlocks(await readme()).filter((b) => b.lang === 'sh');
      const ran: string[] = [];
      for (const b of blocks) {
        const where = `README.md:${b.line} (${b.section})`;
        if (b.skip) { ran.push(`${where}: skipped, ${b.skip}`); continue; }
        const script = ports.rewrite(b.text);
        if (b.background) {
          const d = spawnDaemon('bash', ['-c', script], { cwd: dir, env, name: where });
          server = d;
          await waitFor(async () => (await dig({ host: '127.0.0.1', port: ports.dns }, ['example.com', 'SOA'])).status === 'NOERROR' && (await tcpOpen(ports.api)),
            240_000, { what: `${where}: the server answering on ${ports.dns} with its API on ${ports.api}`, abort: () => (d.exited() ? `it exited:\n${d.logs().slice(-3000)}` : undefined) });
          ran.push(`${where}: started in the background`);
          continue;
        }
        const r = await runCommand('env', [...Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`), 'bash', '-e', '-o', 'pipefail', '-c', script], { cwd: dir, timeoutMs: 180_000 });
        const out = `${r.stdout}${r.stderr}`;
        const fail = (why: string) => new Error(`${where} ${why}\n--- block ---\n${script}--- output ---\n${out.slice(-4000)}\n` +
          'If the block cannot run in a test, put <!-- walkthrough: skip: WHY --> on the line above it.');
        if (r.code !== 0) throw fail(`exited ${r.code}`);
        for (const re of b.expect) if (!re.test(out)) throw fail(`printed nothing matching /${re.source}/`);
        // The admin API's answers say whether they succeeded (Cloudflare's envelope).
        if (/"success":\s*false/.test(r.stdout)) throw fail('got an API error');
        ran.push(`${where}: ran`);
      }
      expect(ran.some((r) => r.endsWith('started in the background'))).toBe(true);

      // The walkthrough's admin change landed in the served copy of the demo zone, not in a tracked file.
      expect(await readFile(join(dir, 'zones/example.com.yaml'), 'utf8')).toMatch(/multi_signer: true/);
      expect(await readFile(join(dir, 'demo/zones/example.com.yaml'), 'utf8')).toMatch(/multi_signer: false/);

      await server!.stop(10_000);
      expect(server!.exited()?.signal).not.toBe('SIGKILL');
      const status = await runCommand('git', ['status', '--porcelain'], { cwd: dir });
      const ignored = await runCommand('git', ['status', '--porcelain', '--ignored'], { cwd: dir });
      expect(status.stdout, `following the README changed the checkout:\n${status.stdout}\n(all: ${ignored.stdout})\n${ran.join('\n')}`).toBe('');
    }, 600_000);
  });
});
