// `tandem serve --workers 2` as a user runs it (issue 6): two worker processes share the listeners, an admin
// API change is answered by every worker as soon as the API returns, SIGTERM stops everything with exit 0.
// The workers hold no zone (issue 16): they answer from their caches and through the primary.
// dig decides what is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { waitFor } from '../helpers/procs.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { bigZone, EXAMPLE_ZONES } from '../helpers/zones.js';

let dir: string;
let p: ServeProcess;
let api: string;
const token = 'workers-test-' + Math.random().toString(36).slice(2);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-workers-'));
  await cp(EXAMPLE_ZONES, join(dir, 'zones'), { recursive: true });
  await writeFile(join(dir, 'zones', 'big.test.yaml'), bigZone(40_000)); // parsed on a worker thread
  // debug: one log line per query, with the answering worker's id.
  // Three processes and a 40,000-name zone: under a full test run on 2 cores this start has taken over 20 s.
  p = await serve(['--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api-token', token, '--log-level', 'debug'], {}, 90_000);
  api = `http://${/"api":"([^"]+)"/.exec(p.logs())![1]}/client/v4`;
}, 120_000);
afterAll(async () => {
  if (p?.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${api}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await r.json()) as { success: boolean; result: any };
};
const at = () => ({ host: '127.0.0.1', port: p.port });
/** Worker ids that logged a query for `qname` (lines of several processes share one pipe: match, do not parse). */
const answeredBy = (qname: string, from = 0) =>
  new Set(p.logs().slice(from).split('\n')
    .filter((l) => l.includes('"msg":"query"') && l.includes(`"qname":"${qname}"`))
    .map((l) => /"worker":(\d+)/.exec(l)?.[1])
    .filter((w): w is string => w !== undefined));

describe('tandem serve --workers 2', () => {
  it('starts a primary and two workers that all answer on the one address (UDP and TCP)', async () => {
    expect(p.logs()).toMatch(/"workers":2,"udpIo":"batched","msg":"listening \(udp\+tcp\); loading zones"/);
    for (let i = 0; i < 10; i++) {
      const udp = await dig(at(), [`u${i}.spread.example.com`, 'A']);
      expect(udp.status).toBe('NXDOMAIN');
      const tcp = await dig(at(), ['+tcp', `t${i}.spread.example.com`, 'A']);
      expect(tcp.status).toBe('NXDOMAIN');
    }
    // TCP connections are handed out round-robin: both workers answered some.
    const byTcp = new Set([...Array(10).keys()].flatMap((i) => [...answeredBy(`t${i}.spread.example.com.`)]));
    expect(byTcp.size).toBe(2);
  });

  it('an API change is served by every worker once the API has answered (20 queries, all see it)', async () => {
    const zone = (await call('GET', '/zones?name=example.com')).result[0].id as string;
    for (let i = 0; i < 20; i++) expect((await dig(at(), ['fresh.example.com', 'A'])).status).toBe('NXDOMAIN');
    const mark = p.logs().length;
    const created = await call('POST', `/zones/${zone}/dns_records`, { type: 'A', name: 'fresh.example.com', content: '192.0.2.123', ttl: 300 });
    expect(created.success).toBe(true);
    const seen = await Promise.all(Array.from({ length: 20 }, (_, i) => dig(at(), [...(i % 2 ? ['+tcp'] : []), 'fresh.example.com', 'A', '+dnssec'])));
    for (const r of seen) {
      expect(r.status).toBe('NOERROR');
      expect(r.answer.filter((a) => a.type === 'A').map((a) => a.data)).toEqual(['192.0.2.123']);
      expect(r.answer.some((a) => a.type === 'RRSIG')).toBe(true);
    }
    // Half of them over TCP, handed out round-robin: both workers answered after the change.
    expect(answeredBy('fresh.example.com.', mark).size).toBe(2);
  });

  it('a change to a large zone reaches every worker without the zone: the workers hold none, the primary answers (issue 16)', async () => {
    const zone = (await call('GET', '/zones?name=big.test')).result[0].id as string;
    const mark = p.logs().length;
    const created = await call('POST', `/zones/${zone}/dns_records`, { type: 'TXT', name: 'note.big.test', content: 'from the api', ttl: 300 });
    expect(created.success).toBe(true);
    const seen = await Promise.all(Array.from({ length: 10 }, (_, i) => dig(at(), [...(i % 2 ? ['+tcp'] : []), 'note.big.test', 'TXT'])));
    for (const r of seen) expect(r.answer.map((a) => a.data)).toEqual(['"from the api"']);
    expect(answeredBy('note.big.test.', mark).size).toBe(2);
    // Nothing of the zone went to a worker (no zone taken, no file read there): a new generation number did.
    expect(p.logs().slice(mark)).not.toMatch(/zone taken as the primary parsed it|zone in service.*"worker"/);
  }, 60_000);

  it('SIGHUP: a zone file added to the folder is answered by every worker, cached NXDOMAIN or not', async () => {
    // Cached in both workers first (REFUSED: no zone of ours yet), so the reload must drop those answers.
    for (let i = 0; i < 10; i++) expect((await dig(at(), [...(i % 2 ? ['+tcp'] : []), 'hup.test', 'SOA'])).status).toBe('REFUSED');
    await writeFile(join(dir, 'zones', 'hup.test.yaml'), 'zone:\n  soa: { mname: ns1.hup.test., rname: hostmaster.hup.test., serial: 7 }\n  nameservers: [ns1.hup.test.]\nrecords:\n  ns1: { type: A, value: 127.0.0.1 }\n');
    const mark = p.logs().length;
    p.child.kill('SIGHUP');
    await waitFor(() => /"msg":"zones reloaded"/.test(p.logs().slice(mark)), 60_000, { what: 'the reload' });
    const seen = await Promise.all(Array.from({ length: 10 }, (_, i) => dig(at(), [...(i % 2 ? ['+tcp'] : []), 'hup.test', 'SOA'])));
    for (const r of seen) expect(r.answer.map((a) => a.data.split(/\s+/)[2])).toEqual(['7']);
    expect(answeredBy('hup.test.', mark).size).toBe(2);
  }, 90_000);

  it('the workers hold no zone: each is much smaller than the primary, which holds the 40,000-name zone (issue 16)', () => {
    const pids = new Set(p.logs().split('\n').filter((l) => l.includes('"worker":')).map((l) => /"pid":(\d+)/.exec(l)?.[1]).filter((x): x is string => !!x));
    const rss = (pid: number | string) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
    const primary = rss(p.child.pid!);
    const live = [...pids].filter((pid) => existsSync(`/proc/${pid}`));
    expect(live.length).toBe(2);
    // A worker is a Node process with a response cache (about 130 MiB here); holding the zone it would be as large as the primary.
    for (const w of live) expect(rss(w)).toBeLessThan(primary * 0.75);
  });

  it('a worker killed with SIGKILL is replaced; both keep answering, from the cache and through the primary', async () => {
    const victim = /"worker":1[,}].*?"pid":(\d+)|"pid":(\d+)[^\n]*"worker":1[,}]/.exec(p.logs());
    const pid = Number(victim![1] ?? victim![2]);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => /"msg":"new worker serving every zone"/.test(p.logs()), 30_000, { what: 'the replacement worker' });
    const mark = p.logs().length;
    for (let i = 0; i < 8; i++) {
      const r = await dig(at(), ['+tcp', i % 2 ? 'fresh.example.com' : `gone${i}.example.com`, 'A']);
      expect(r.status).toBe(i % 2 ? 'NOERROR' : 'NXDOMAIN');
    }
    const by = answeredBy('fresh.example.com.', mark);
    for (let i = 0; i < 8; i += 2) for (const w of answeredBy(`gone${i}.example.com.`, mark)) by.add(w);
    expect(by.size).toBe(2);
    expect(by.has('1')).toBe(false);
  }, 60_000);

  it('SIGTERM stops the workers and the primary with exit code 0', async () => {
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.logs()).toMatch(/"msg":"stopped"/);
  });
});
