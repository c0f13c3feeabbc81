// Issue 5's restart proof: every change the API acknowledged is there after a restart, and the served DNSKEY
// RRset (and its signatures' validity) is the same.
import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { defaults } from '../../src/config/server.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { generateKey } from '../../src/dnssec/keys.js';
import { dig } from '../helpers/dig.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function start(zones: string, state: string, token: string): Promise<{ server: RunningServer; api: string }> {
  const server = await startServer({
    config: { ...defaults, zones, state, listen: [{ host: '127.0.0.1', port: 0 }], api: { host: '127.0.0.1', port: 0 }, logLevel: 'silent', apiToken: token },
    logger: pino({ level: 'silent' }),
    env: {},
  });
  return { server, api: `http://${server.api!.host}:${server.api!.port}/client/v4` };
}

describe('restart', () => {
  it('every acknowledged change survives a restart; the DNSKEY RRset is the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-restart-'));
    dirs.push(dir);
    const zones = join(dir, 'zones');
    const state = join(dir, 'state');
    await cp(EXAMPLE_ZONES, zones, { recursive: true });
    const token = 'restart-token';
    const call = async (api: string, method: string, path: string, body?: unknown) => {
      const r = await fetch(api + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const j = (await r.json()) as { success: boolean; result: any; errors: unknown[] };
      expect(j.success, JSON.stringify(j.errors)).toBe(true);
      return j.result;
    };

    let { server, api } = await start(zones, state, token);
    const id = (await call(api, 'GET', '/zones?name=example.com'))[0].id;
    await call(api, 'PATCH', `/zones/${id}/dnssec`, { status: 'active', dnssec_multi_signer: true });
    const k = generateKey(256);
    const key = await call(api, 'POST', `/zones/${id}/dns_records`, {
      type: 'DNSKEY', name: 'example.com', ttl: 3600, data: { flags: 256, protocol: 3, algorithm: 13, public_key: Buffer.from(k.publicKey).toString('base64') },
    });
    const ns = await call(api, 'POST', `/zones/${id}/dns_records`, { type: 'NS', name: 'example.com', content: 'ns1.other.example', ttl: 86400 });
    const a = await call(api, 'POST', `/zones/${id}/dns_records`, { type: 'A', name: 'new.example.com', content: '192.0.2.77', ttl: 120 });
    await call(api, 'PATCH', `/zones/${id}/dns_settings`, { multi_provider: true });
    await call(api, 'POST', `/zones/${id}/dnssec/parent_ds`, { present: true });
    const before = {
      dnssec: await call(api, 'GET', `/zones/${id}/dnssec`),
      records: (await call(api, 'GET', `/zones/${id}/dns_records?per_page=500`)).map((r: { id: string; content: string }) => `${r.id} ${r.content}`).sort(),
      dnskey: (await dig({ host: '127.0.0.1', port: server.addresses[0].port }, ['+norec', 'example.com', 'DNSKEY'])).answer.map((x) => x.data).sort(),
      ns: (await dig({ host: '127.0.0.1', port: server.addresses[0].port }, ['+norec', 'example.com', 'NS'])).answer.map((x) => x.data).sort(),
    };
    expect(before.dnskey).toHaveLength(3);
    expect(before.ns).toContain('ns1.other.example.');
    await server.stop();

    ({ server, api } = await start(zones, state, token));
    try {
      const after = {
        dnssec: await call(api, 'GET', `/zones/${id}/dnssec`),
        records: (await call(api, 'GET', `/zones/${id}/dns_records?per_page=500`)).map((r: { id: string; content: string }) => `${r.id} ${r.content}`).sort(),
        dnskey: (await dig({ host: '127.0.0.1', port: server.addresses[0].port }, ['+norec', 'example.com', 'DNSKEY'])).answer.map((x) => x.data).sort(),
        ns: (await dig({ host: '127.0.0.1', port: server.addresses[0].port }, ['+norec', 'example.com', 'NS'])).answer.map((x) => x.data).sort(),
      };
      expect(after).toEqual(before);
      expect(after.dnssec.status).toBe('active');
      for (const r of [key, ns, a]) expect(await call(api, 'GET', `/zones/${id}/dns_records/${r.id}`)).toMatchObject({ id: r.id });
    } finally {
      await server.stop();
    }
  });
});
