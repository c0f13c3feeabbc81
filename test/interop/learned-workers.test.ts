// `tandem serve --workers 2` with an nsec3-chain or nsec-chain zone: after the primary has answered some names
// that do not exist, the workers answer new ones themselves from the chain records they learned
// (server/learned.ts), and a real validator (delv, the zone's KSK as its only trust anchor) finds those answers
// fully validated negative responses (RFC 5155 §7.2.2, §8.4; RFC 4035 §3.1.3.2, §5.4). /metrics counts them
// (tandem_learned_denials_total).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, delv, delvVerdict, requireTool } from '../helpers/dig.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { scrape } from '../helpers/prom.js';
import { udpExchange } from '../helpers/client.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';
import { encodeQuery } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';

// A name's first characters random: an NSEC chain's spans are met in the order of the names (RFC 4034 §6.1).
const fresh = (i: number) => `${Math.random().toString(36).slice(2, 10)}-n${i}.example.com.`;

// compact: the workers learn gaps between the zone's names and sign each NSEC themselves (RFC 9824 §3.1: NOERROR
// with NXNAME; delv reports a validated negative response, no NXDOMAIN).
describe.each([
  { denial: 'nsec3-chain' as const, links: 10, rcode: 3 },
  { denial: 'nsec-chain' as const, links: 3, rcode: 3 },
  { denial: 'compact' as const, links: 3, rcode: 0 },
])('tandem serve --workers 2, $denial: workers answer names that do not exist from learned records', ({ denial, links, rcode }) => {
  let dir: string, zones: string;
  let p: ServeProcess;
  let base: string, api: string;
  const token = 'learned-workers-' + Math.random().toString(36).slice(2);

  beforeAll(async () => {
    requireTool('delv', 'bind9-dnsutils');
    dir = await mkdtemp(join(tmpdir(), 'tandem-learned-workers-'));
    zones = await exampleZoneDir(withDenial(denial));
    p = await serve(['--zones', zones, '--state', join(dir, 'state'), '--workers', '2', '--api-token', token, '--metrics', '127.0.0.1:0'], {}, 60_000);
    base = `http://${/"metrics":"([^"]+)"/.exec(p.logs())![1]}`;
    api = `http://${/"api":"([^"]+)"/.exec(p.logs())![1]}/client/v4`;
  }, 75_000);
  afterAll(async () => {
    if (p?.child.exitCode === null) p.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await rm(zones, { recursive: true, force: true });
  });

  it('learns from the primary\'s answers, then answers new names itself (counted in /metrics)', async () => {
    // 600 names that do not exist, 20 at a time: the primary answers the first ones, the workers learn its chain.
    for (let i = 0; i < 600; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) => udpExchange('127.0.0.1', p.port, encodeQuery(Name.fromText(fresh(i + j)), RRType.A, { udpSize: 1232, do: true, id: i + j }), 3000));
      for (const r of await Promise.all(batch)) expect(r && r[3] & 0xf).toBe(rcode); // NXDOMAIN (compact: NOERROR + NXNAME)
    }
    const m = await scrape(`${base}/metrics`);
    expect(m.value('tandem_learned_chain_links', {})).toBeGreaterThan(links);
    // After its first answer of the zone each worker that saw one asked for the zone's whole chain or gaps (chainpush.ts).
    expect(m.value('tandem_learned_zones_total', {})).toBeGreaterThanOrEqual(1);
    expect(m.value('tandem_learned_denials_total', {})).toBeGreaterThan(100);
    expect(m.value('tandem_queries_total', { zone: 'example.com.', type: 'A', rcode: rcode === 3 ? 'NXDOMAIN' : 'NOERROR' })).toBe(600);
  }, 60_000);

  it('delv validates the workers\' own answers as negative responses (the zone\'s KSK as the only anchor)', async () => {
    const at = { host: '127.0.0.1', port: p.port };
    // The DS of the served KSK (dnssec-dsfromkey prints KSKs only) as delv's anchor.
    const keys = (await dig(at, ['+norec', 'example.com', 'DNSKEY'])).answer.filter((r) => r.type === 'DNSKEY');
    await writeFile(join(dir, 'keys.txt'), keys.map((r) => `${r.name} ${r.ttl} IN DNSKEY ${r.data}\n`).join(''));
    const [tag, alg, dt, digest] = execFileSync('dnssec-dsfromkey', ['-2', '-f', join(dir, 'keys.txt'), 'example.com'], { encoding: 'utf8' }).trim().split(/\s+/).slice(3);
    const anchor = join(dir, 'anchor.conf');
    await writeFile(anchor, `trust-anchors { "example.com." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
    const before = (await scrape(`${base}/metrics`)).value('tandem_learned_denials_total', {});
    for (let i = 0; i < 8; i++) {
      const name = fresh(1000 + i);
      const r = await delv(at, anchor, ['+root=example.com', name, 'A']);
      expect(delvVerdict(r.out), r.out).toBe('negative');
      if (rcode === 3) expect(r.out).toMatch(/NXDOMAIN|ncache nxdomain/);
    }
    // Most of those came from the workers' learned records (a hash nothing learned covers still goes to the primary).
    const after = (await scrape(`${base}/metrics`)).value('tandem_learned_denials_total', {});
    expect(after - before).toBeGreaterThanOrEqual(4);
  }, 90_000);

  it('a name added through the API is answered at once by every worker: what the workers learned of the changed zone is patched', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return (await r.json()) as { success: boolean; result: any };
    };
    const name = fresh(5000);
    const ask = (id: number) => udpExchange('127.0.0.1', p.port, encodeQuery(Name.fromText(name), RRType.A, { udpSize: 1232, do: true, id }), 3000);
    for (const r of await Promise.all(Array.from({ length: 20 }, (_, i) => ask(i)))) expect(r && r[3] & 0xf).toBe(rcode);
    const zone = (await call('GET', '/zones?name=example.com')).result[0].id as string;
    expect((await call('POST', `/zones/${zone}/dns_records`, { type: 'A', name: name.replace(/\.$/, ''), content: '192.0.2.201', ttl: 300 })).success).toBe(true);
    // 40 datagrams over both workers: every one NOERROR with the address (none from a chain learned before the change).
    for (const r of await Promise.all(Array.from({ length: 40 }, (_, i) => ask(100 + i)))) {
      expect(r && r[3] & 0xf).toBe(0);
      expect(r && ((r[6] << 8) | r[7])).toBeGreaterThanOrEqual(1);
    }
    // And the workers answer fresh names of the zone again: a chain zone's changed links came as a patch, a compact
    // zone's gaps around the new name were dropped and its new SOA came (each worker kept the rest: chainpush.ts).
    const m = await scrape(`${base}/metrics`);
    expect(m.value('tandem_learned_patches_total', {})).toBeGreaterThanOrEqual(1);
    const before = m.value('tandem_learned_denials_total', {});
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => udpExchange('127.0.0.1', p.port, encodeQuery(Name.fromText(fresh(6000 + i + j)), RRType.A, { udpSize: 1232, do: true, id: i + j }), 3000)));
    }
    expect((await scrape(`${base}/metrics`)).value('tandem_learned_denials_total', {}) - before).toBeGreaterThan(100);
  }, 60_000);
});