// Zone transfers with `tandem serve --workers 2` (issue 11 in cluster mode): AXFR, IXFR and NOTIFY reach a
// worker, which forwards them to the primary (it owns the manager, the journals and the secondary zones);
// a transfer into a secondary zone is served by every worker. dig and Knot decide.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig as digRaw, digXfr, requireTool } from '../helpers/dig.js';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { freePort, waitFor } from '../helpers/procs.js';

const xfr = digXfr;

let dir: string;
let p: ServeProcess;
let knot: KnotXfr;
let api: string;
const token = 'xfr-cluster-' + Math.random().toString(36).slice(2);

beforeAll(async () => {
  requireTool('knotd', 'knot');
  dir = await mkdtemp(join(tmpdir(), 'tandem-xfr-cluster-'));
  await mkdir(join(dir, 'zones'));
  const port = await freePort();
  knot = await startKnotXfr({
    zones: [{ domain: 'in.test', role: 'primary', notify: [{ host: '127.0.0.1', port }], zoneText: '$ORIGIN in.test.\n$TTL 300\n@ SOA ns1 hm 1 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n' }],
  });
  await writeFile(join(dir, 'zones', 'out.test.yaml'), `zone:
  soa: { mname: ns1.out.test., rname: hostmaster.out.test., serial: 100 }
  nameservers: [ns1.out.test.]
  serial_policy: increment
  transfer:
    allow: [{ address: 127.0.0.1 }]
records:
  ns1: { type: A, value: 192.0.2.1 }
`);
  await writeFile(join(dir, 'zones', 'in.test.yaml'), `zone:\n  secondary:\n    primaries: ["127.0.0.1:${knot.port}"]\n`);
  p = await serve(['--listen', `127.0.0.1:${port}`, '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api-token', token], {}, 60_000);
  api = `http://${/"api":"([^"]+)"/.exec(p.logs())![1]}/client/v4`;
}, 90_000);
afterAll(async () => {
  if (p?.child.exitCode === null) p.child.kill('SIGKILL');
  await knot?.stop();
  await rm(dir, { recursive: true, force: true });
});

const at = () => ({ host: '127.0.0.1', port: p.port });

describe('zone transfers with --workers 2', () => {
  it('AXFR through a worker; an API change is an incremental IXFR', async () => {
    const first = await xfr(at(), ['out.test', 'AXFR']);
    expect(first.answer.filter((a) => a.type === 'SOA').map((a) => a.data.split(/\s+/)[2])).toEqual(['100', '100']);
    const zone = ((await (await fetch(`${api}/zones?name=out.test`, { headers: { authorization: `Bearer ${token}` } })).json()) as any).result[0].id;
    const res = await fetch(`${api}/zones/${zone}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'A', name: 'new.out.test', content: '192.0.2.7', ttl: 60 }),
    });
    expect(((await res.json()) as { success: boolean }).success).toBe(true);
    const ixfr = await waitFor(async () => {
      const r = await xfr(at(), ['out.test', 'IXFR=100']);
      return r.answer.some((a) => a.name === 'new.out.test.') && r;
    }, 10_000, { what: 'IXFR with the change' });
    expect(ixfr.answer.map((a) => (a.type === 'SOA' ? `SOA ${a.data.split(/\s+/)[2]}` : `${a.type} ${a.name}`))).toEqual(['SOA 101', 'SOA 100', 'SOA 101', 'A new.out.test.', 'SOA 101']);
  });

  it('a secondary zone transferred by the primary is answered by the workers; Knot\'s NOTIFY (to a worker) brings the next version', async () => {
    await waitFor(async () => (await digRaw(at(), ['+norec', 'www.in.test', 'A'])).status === 'NOERROR', 20_000, { what: 'in.test served' });
    await knot.edit('in.test', { set: ['later 300 A 192.0.2.99'] });
    for (let i = 0; i < 6; i++) {
      const r = await waitFor(async () => {
        const x = await digRaw(at(), ['+norec', `+${i % 2 ? 'tcp' : 'notcp'}`, 'later.in.test', 'A']);
        return x.status === 'NOERROR' && x;
      }, 15_000, { what: 'later.in.test served after NOTIFY' });
      expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.99']);
    }
  });
});
