// `tandem serve --udp-io batched|dgram`: the same answers either way, to dig and to a burst of queries from one
// socket (read in batches by recvmmsg, answered by sendmmsg, when batched); `batched` says so in the listening
// line and in /metrics, `dgram` counts no batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { dig } from '../helpers/dig.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { scrape } from '../helpers/prom.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';
import { runCommand } from '../helpers/procs.js';

let dir: string;
const procs: ServeProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-udp-io-'));
  await cp(EXAMPLE_ZONES, join(dir, 'zones'), { recursive: true });
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A query for `name` A with EDNS DO, id `id`. */
function query(id: number, name: string): Buffer {
  const labels = name.split('.').filter(Boolean).flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, ...labels, 0, 0, 1, 0, 1, 0, 0, 41, 4, 208, 0, 0, 0x80, 0, 0, 0]);
}

/**
 * `n` queries from one socket in waves of 100 sent at once (a socket's receive buffer, 208 KiB by default, holds
 * some 250 small datagrams: a larger wave would lose some in either mode); per answer id, its rcode and answer count.
 */
async function burst(port: number, n: number): Promise<Map<number, [number, number]>> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const got = new Map<number, [number, number]>();
  let want = 0, wake = () => {};
  s.on('message', (m) => {
    got.set((m[0] << 8) | m[1], [m[3] & 15, (m[6] << 8) | m[7]]);
    if (got.size >= want) wake();
  });
  for (let start = 0; start < n; start += 100) {
    want = Math.min(n, start + 100);
    const answered = new Promise<void>((r) => { wake = r; setTimeout(r, 5000); });
    for (let i = start; i < want; i++) s.send(query(i, i % 2 ? 'www.example.com' : `nx${i}.example.com`), port, '127.0.0.1');
    await answered;
  }
  s.close();
  return got;
}

for (const mode of ['batched', 'dgram'] as const) {
  describe(`tandem serve --udp-io ${mode}`, () => {
    let p: ServeProcess;
    beforeAll(async () => {
      p = await serve(['--zones', join(dir, 'zones'), '--state', join(dir, `state-${mode}`), '--workers', '1', '--udp-io', mode]);
      procs.push(p);
    }, 30_000);

    it('says how it reads UDP, and answers dig', async () => {
      expect(p.logs()).toContain(`"udpIo":"${mode}"`);
      const r = await dig({ host: '127.0.0.1', port: p.port }, ['+dnssec', 'www.example.com', 'A']);
      expect(r.status).toBe('NOERROR');
      expect(r.answer.some((rr) => rr.type === 'RRSIG')).toBe(true);
    });

    it('answers every query of a 500-query burst from one socket, existing and non-existent names', async () => {
      const got = await burst(p.port, 500);
      expect(got.size).toBe(500);
      // Existing names: the A record and its RRSIG; the others a compact denial (NOERROR, no answer: RFC 9824).
      for (const [id, [rcode, an]] of got) expect([rcode, an], `id ${id}`).toEqual(id % 2 ? [0, 2] : [0, 0]);
      const apiAt = /"api":"([^"]+)"/.exec(p.logs())![1];
      const m = await scrape(`http://${apiAt}/metrics`);
      const received = m.value('tandem_udp_batched_datagrams_total', { direction: 'received' });
      if (mode === 'batched') {
        expect(received).toBeGreaterThanOrEqual(500);
        expect(m.value('tandem_udp_batched_datagrams_total', { direction: 'sent' })).toBeGreaterThanOrEqual(500);
        // Fewer reads than datagrams: a burst is read several at a time.
        expect(m.value('tandem_udp_batches_total')).toBeLessThan(received);
      } else {
        expect(received).toBe(0);
      }
    });
  });
}

/**
 * A link-local IPv6 client: its address means something only with its interface (the scope id), and an answer
 * sent without it does not go (EINVAL). Two ends of a veth pair in a network namespace of this test's own
 * (`unshare -n`, nothing leaves it): tandem on [::] with fe80::1 on v0, dig from fe80::2 on v1.
 */
describe('a link-local IPv6 client (a veth pair in a network namespace of its own)', () => {
  const canUnshare = async (): Promise<string | undefined> => {
    for (const tool of ['unshare', 'ip']) {
      if ((await runCommand('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`])).code !== 0) return `${tool} is not installed (util-linux, iproute2)`;
    }
    const r = await runCommand('unshare', ['-n', '--', 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    return r.code === 0 ? undefined : `cannot make a network namespace with a veth pair here (${r.stderr.trim()}); needs root`;
  };
  for (const mode of ['batched', 'dgram'] as const) {
    it(`--udp-io ${mode}: answered over the interface the query came in on; the log names the client as Node does (fe80::2%v0)`, async (ctx) => {
      const why = await canUnshare();
      if (why) ctx.skip(why);
      const log = join(dir, `linklocal-${mode}.log`);
      const script = [
        'set -e', 'export PATH="$PATH:/usr/sbin"',
        'ip link set lo up', 'ip link add v0 type veth peer name v1', 'ip link set v0 up', 'ip link set v1 up',
        'ip -6 addr add fe80::1/64 dev v0 nodad', 'ip -6 addr add fe80::2/64 dev v1 nodad',
        `"${process.execPath}" --import tsx src/cli/main.ts serve --zones "${join(dir, 'zones')}" --state "${join(dir, `state-ll-${mode}`)}" --listen '[::]:15353' --api off --workers 1 --udp-io ${mode} --log-level debug > "${log}" 2>&1 &`,
        'P=$!',
        `for i in $(seq 1 150); do grep -q '"zones loaded"' "${log}" && break; sleep 0.2; done`,
        'dig @fe80::1%v1 -p 15353 +tries=2 +time=2 www.example.com A || true',
        'kill $P; wait $P || true',
      ].join('\n');
      const r = await runCommand('unshare', ['-n', '--', 'sh', '-c', script], { timeoutMs: 60_000 });
      expect(r.stdout, r.stderr).toContain('status: NOERROR');
      expect(r.stdout).toMatch(/www\.example\.com\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/);
      const text = await readFile(log, 'utf8');
      expect(text).toContain(`"udpIo":"${mode}"`);
      expect(text).toMatch(/"client":"fe80::2%v0#\d+"/);
    }, 70_000);
  }
});
