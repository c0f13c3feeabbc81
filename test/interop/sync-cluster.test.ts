// Key sync and generalized NOTIFY with `tandem serve --workers 2` (cluster mode): a child's NOTIFY(CSYNC) reaches a
// worker of the parent, which forwards it to the primary (it owns the transfer service that keeps it, RFC 9859 §4);
// the primary serves the key sync routes. The child is an in-process tandem whose parent resolver is the parent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { CHECK_ZONE } from '../helpers/check-zone.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { syncZoneDir } from '../helpers/sync.js';
import { Name } from '../../src/dns/name.js';

let dir: string;
let p: ServeProcess;
let child: TestServer;
let api: string;
let parentId: string;
const token = 'sync-cluster-' + Math.random().toString(36).slice(2);
const get = async (path: string) => ((await (await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as any);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-sync-cluster-'));
  await mkdir(join(dir, 'zones'));
  const port = await freePort();
  await writeFile(join(dir, 'zones', 'test.yaml'), `zone:
  ttl: 2
  soa: { mname: ns1.test., rname: hostmaster.test., serial: 1, minimum: 2 }
  nameservers: [ns1.test.]
records:
  ns1: { type: A, value: 127.0.0.1 }
  notify: { type: A, value: 127.0.0.1 }
  _dsync: { type: DSYNC, values: ["CDS 1 ${port} notify.test.", "CSYNC 1 ${port} notify.test."] }
  ms: { type: NS, value: ns1.tandem.ms.test. }
`);
  p = await serve(['--listen', `127.0.0.1:${port}`, '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api-token', token], {}, 60_000);
  api = `http://${/"api":"([^"]+)"/.exec(p.logs())![1]}/client/v4`;
  parentId = (await get('/zones?name=test')).result[0].id;
  child = await startTestServer({ zones: await syncZoneDir({ sync: [] }), config: { parentResolver: { host: '127.0.0.1', port }, parentNotify: true } });
}, 90_000);
afterAll(async () => {
  await child?.stop();
  if (p?.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('generalized NOTIFY and key sync with --workers 2', () => {
  it('RFC 9859 §4: a child\'s NOTIFY(CSYNC) through a worker is kept by the primary (GET .../tandem/notifications)', async () => {
    const id = child.server.manager.zoneByName(Name.fromText(CHECK_ZONE))!.id;
    const res = await fetch(`${child.api}/client/v4/zones/${id}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${child.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'CSYNC', name: 'ms.test', content: `${child.server.manager.version(Name.fromText(CHECK_ZONE))!.serial} 3 A NS AAAA` }),
    });
    expect(((await res.json()) as { success: boolean }).success).toBe(true);
    const got = await waitFor(async () => {
      const n = (await get(`/zones/${parentId}/tandem/notifications`)).result as { type: string; child: string }[];
      return n.find((x) => x.type === 'CSYNC');
    }, 15_000, { what: 'NOTIFY(CSYNC) at the parent', intervalMs: 250 });
    expect(got.child).toBe('ms.test.');
    expect(p.logs()).toMatch(/NOTIFY\(CSYNC\) from a child: logged/);
  });

  it('the primary serves the key sync routes: a zone without peers', async () => {
    const s = await get(`/zones/${parentId}/tandem/sync`);
    expect(s.success).toBe(true);
    expect(s.result).toMatchObject({ zone: 'test.', peers: [] });
  });
});
