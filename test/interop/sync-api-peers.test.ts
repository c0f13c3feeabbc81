// Key sync through the `cloudflare` and `ns1` methods (issue 12): tandem A has tandem B as a `zone.sync` peer reached by B's
// admin API (the /client/v4 dns_records and dnssec routes, token from a file). A posts its ZSK and the CDS/CDNSKEY
// of its KSK there as dns_records and reads B's own keys from GET /dnssec and /dnssec/zsk; nobody copies a key by
// hand, and `tandem check` (RFC 8901 §3, §8) then passes between A and B with the parent's DS set. Then B leaves:
// `tandem sync remove` withdraws its keys from A in RFC 8901 §8 order (its KSK first, then, once the parent has
// dropped the DS and the TTLs have passed, its ZSK), saying what it waits for at each step. The same exchange
// through B's NS1 routes (an external key set) ends with the same check passing.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_ZONE } from '../helpers/check-zone.js';
import { dig } from '../helpers/dig.js';
import { waitFor } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startParent, syncZoneDir, type Parent } from '../helpers/sync.js';
import { runAdminCommand } from '../../src/cli/admin.js';
import { Name } from '../../src/dns/name.js';
import { runCheck } from '../../src/lab/check.js';
import type { CheckReport } from '../../src/lab/report.js';
import type { SyncPeerView, SyncStatusView } from '../../src/update/sync/types.js';

const zone = Name.fromText(CHECK_ZONE);

async function api(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${t.api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return r.json();
}

const keyOf = (data: string) => { const f = data.trim().split(/\s+/); return [...f.slice(0, 3), f.slice(3).join('')].join(' ').toLowerCase(); };
const apex = async (at: { host: string; port: number }, type: string) =>
  (await dig(at, ['+norec', CHECK_ZONE, type])).answer.filter((a) => a.type === type).map((a) => keyOf(a.data));
const errors = (r: CheckReport) => r.findings.filter((f) => f.level === 'error').map((f) => `${f.code}: ${f.message}\n  ${(f.details ?? []).join('\n  ')}`);

async function cli(t: TestServer, args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runAdminCommand(args[0], [...args.slice(1), '--api', t.api, '--token', t.token], { out: (x) => { out += x; }, err: (x) => { out += x; }, env: {} });
  return { code, out };
}

interface Keys { ksk: string; zsk: string; ds: string; tag: number }
async function ownKeys(t: TestServer, id: string): Promise<Keys> {
  const d = (await api(t, 'GET', `/zones/${id}/dnssec`)).result;
  const zsk = (await api(t, 'GET', `/zones/${id}/dnssec/zsk`)).result.find((k: any) => k.Tag === 'active').DNSKEY;
  return { zsk: `256 3 13 ${zsk.PublicKey}`.toLowerCase(), ksk: `257 3 13 ${d.public_key}`.toLowerCase(), ds: d.ds, tag: d.key_tag };
}

describe('key sync through the cloudflare method with a second tandem\'s admin API', () => {
  let a: TestServer;
  let b: TestServer;
  let parent: Parent;
  let aId: string;
  let bId: string;
  let ka: Keys;
  let kb: Keys;
  const status = async (): Promise<SyncStatusView> => (await api(a, 'GET', `/zones/${aId}/tandem/sync`)).result;

  beforeAll(async () => {
    [b, parent] = await Promise.all([
      startTestServer({ zones: await syncZoneDir({ sync: [], ours: 'ns1.other.ms.test.', other: 'ns1.tandem.ms.test.', dnskeyTtl: 2 }) }),
      startParent(),
    ]);
    bId = b.server.manager.zoneByName(zone)!.id;
    const tokenFile = join(b.dir, 'b-token');
    await writeFile(tokenFile, `${b.token}\n`);
    a = await startTestServer({
      zones: await syncZoneDir({ sync: [`{ name: b, method: cloudflare, base_url: "${b.api}/client/v4", token_file: "${tokenFile}" }`], dnskeyTtl: 2 }),
      config: { parentResolver: { host: parent.host, port: parent.port }, parentNotify: true },
    });
    aId = a.server.manager.zoneByName(zone)!.id;
    [ka, kb] = await Promise.all([ownKeys(a, aId), ownKeys(b, bId)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), parent?.stop()]);
  });

  it('A publishes its ZSK, CDS and CDNSKEY at B by the dns_records API and imports B\'s KSK and ZSK as sync:b, with no manual step', async () => {
    const s = await waitFor(async () => {
      const st = await status();
      return st.peers[0]?.state === 'in sync' ? st : undefined;
    }, 75_000, { what: 'key sync with b in sync', intervalMs: 250 });
    const v = s.peers[0];
    expect(v.lastPull?.validated).toBe('the peer\'s authenticated API');
    expect(v.theirKeys.map((k) => k.keyTag).sort()).toEqual([kb.tag, v.theirKeys.find((k) => k.flags === 256)!.keyTag].sort());
    // B serves A's ZSK and CDS/CDNSKEY (taken as dns_records), A serves B's two keys (claims sync:b).
    expect(await apex(b, 'DNSKEY')).toContain(ka.zsk);
    expect(await apex(b, 'CDNSKEY')).toContain(ka.ksk);
    expect(await apex(a, 'DNSKEY')).toContain(kb.ksk);
    const recs = (await api(a, 'GET', `/zones/${aId}/dns_records?type=DNSKEY`)).result as any[];
    expect(recs.map((r) => r.meta?.key_sources)).toEqual([['sync:b'], ['sync:b']]);
    expect(v.imported).toHaveLength(2);
  }, 90_000);

  it('RFC 8901 §3, §8: tandem check passes between A and B with the parent\'s DS set for both KSKs', async () => {
    await parent.addDs([ka.ds, kb.ds]);
    const r = await runCheck({
      zone, providers: [{ label: 'a', server: { host: a.host, port: a.port } }, { label: 'b', server: { host: b.host, port: b.port } }],
      parent: { server: { host: parent.host, port: parent.port }, label: 'parent' }, now: () => Math.floor(Date.now() / 1000),
    });
    expect(errors(r)).toEqual([]);
    expect(r.pairs.map((x) => x.failed)).toEqual([0, 0, 0, 0]);
  });

  it('tandem sync status ZONE shows the peer, what was published there and its keys; tandem sync run syncs now', async () => {
    const { code, out } = await cli(a, ['sync', 'status', CHECK_ZONE]);
    expect(code, out).toBe(0);
    expect(out).toContain(`b: cloudflare ${b.api}/client/v4 - in sync`);
    expect(out).toMatch(new RegExp(`their DNSKEY RRset: .*257 ${kb.tag}`));
    expect(out).toMatch(/published there: DNSKEY 256 \d+, CDS \d+, CDNSKEY 257 \d+/);
    // `sync run` syncs now: a newer push and pull than the status showed.
    const at = (await status()).peers[0].lastPush!.at;
    await new Promise((r) => setTimeout(r, 1100));
    const ran = await cli(a, ['sync', 'run', CHECK_ZONE, '--json']);
    expect(ran.code, ran.out).toBe(0);
    const v = (JSON.parse(ran.out) as SyncStatusView).peers[0];
    expect(v.lastPush!.at > at).toBe(true);
    expect(v.state).toBe('in sync');
  });

  it('POST .../tandem/sync/{peer}/remove: 404 for a peer neither configured nor holding a key, 400 for a bad body', async () => {
    const r = await api(a, 'POST', `/zones/${aId}/tandem/sync/nobody/remove`, {});
    expect(r.success).toBe(false);
    expect(r.errors[0].message).toMatch(/no peer nobody in ms\.test\.: it is not in zone\.sync and holds no key here/);
    const bad = await api(a, 'POST', `/zones/${aId}/tandem/sync/b/remove`, { ds_absent: 'yes' });
    expect(bad.success).toBe(false);
    expect(bad.errors[0].message).toMatch(/ds_absent/);
  });

  it('RFC 8901 §8: tandem sync remove takes B\'s KSK out first and waits for the parent to drop its DS', async () => {
    const { code, out } = await cli(a, ['sync', 'remove', CHECK_ZONE, 'b']);
    expect(code, out).toBe(0);
    expect(out).toContain(`removing b: wait-ds`);
    expect(out).toContain(`waiting for: the parent to drop the DS for KSK ${kb.tag}`);
    // B's KSK left A's DNSKEY RRset and so A's CDNSKEY; its ZSK is still served (answers signed with it validate).
    expect(await apex(a, 'DNSKEY')).not.toContain(kb.ksk);
    expect(await apex(a, 'CDNSKEY')).not.toContain(kb.ksk);
    const held = (await api(a, 'GET', `/zones/${aId}/dns_records?type=DNSKEY`)).result as any[];
    expect(held).toHaveLength(1);
    // Asked again while the parent still has the DS: the same step.
    const again = await cli(a, ['sync', 'remove', CHECK_ZONE, 'b']);
    expect(again.out).toContain('removing b: wait-ds');
  });

  it('RFC 8901 §8: once the parent dropped the DS, B\'s ZSK goes after the DS and DNSKEY TTLs, and the status says removed', async () => {
    await parent.removeDs(kb.tag);
    const r1 = await cli(a, ['sync', 'remove', CHECK_ZONE, 'b']);
    expect(r1.out).toMatch(/removing b: wait-ttl\nwaiting for: the caches to forget the DS \(TTL 2 s\) and our DNSKEY RRset \(TTL 2 s\)/);
    expect((await api(a, 'GET', `/zones/${aId}/dns_records?type=DNSKEY`)).result).toHaveLength(1);
    const v = await waitFor(async () => {
      const r = await api(a, 'POST', `/zones/${aId}/tandem/sync/b/remove`, {});
      return (r.result as SyncPeerView).state === 'removed' ? r.result as SyncPeerView : undefined;
    }, 15_000, { what: 'removal done', intervalMs: 500 });
    expect(v.removal?.waitingFor).toMatch(/^nothing: the peer holds no key in the zone/);
    expect((await api(a, 'GET', `/zones/${aId}/dns_records?type=DNSKEY`)).result).toHaveLength(0);
    expect(await apex(a, 'DNSKEY')).toHaveLength(2);
  });
});

describe('key sync through the ns1 method with a second tandem\'s /v1 routes', () => {
  let a: TestServer;
  let b: TestServer;
  let parent: Parent;
  let aId: string;

  beforeAll(async () => {
    [b, parent] = await Promise.all([
      startTestServer({ zones: await syncZoneDir({ sync: [], ours: 'ns1.other.ms.test.', other: 'ns1.tandem.ms.test.', dnskeyTtl: 2 }) }),
      startParent(),
    ]);
    const tokenFile = join(b.dir, 'b-token');
    await writeFile(tokenFile, b.token);
    a = await startTestServer({
      zones: await syncZoneDir({ sync: [`{ name: n, method: ns1, base_url: "${b.api}/v1", token_file: "${tokenFile}", ksk: true }`], dnskeyTtl: 2 }),
      config: { parentResolver: { host: parent.host, port: parent.port } },
    });
    aId = a.server.manager.zoneByName(zone)!.id;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), parent?.stop()]);
  });

  it('A puts its ZSK and KSK in the external key set `tandem` at B and imports B\'s keys; tandem check passes with both DS', async () => {
    let last: SyncStatusView | undefined;
    const s = await waitFor(async () => {
      last = (await api(a, 'GET', `/zones/${aId}/tandem/sync`)).result as SyncStatusView;
      return last.peers[0]?.state === 'in sync' ? last : undefined;
    }, 75_000, { what: 'key sync with n in sync', intervalMs: 250 }).catch((err: Error) => {
      throw new Error(`${err.message}; status: ${JSON.stringify(last?.peers[0])}`);
    });
    expect(s.peers[0].published.map((k) => `${k.type} ${k.flags}`)).toEqual(['DNSKEY 256', 'DNSKEY 257']);
    const set = await fetch(`${b.api}/v1/zones/ms.test/dnssec/external_keys/tandem`, { headers: { 'x-nsone-key': b.token } });
    expect(((await set.json()) as { dnskey: { data: unknown[] } }).dnskey.data).toHaveLength(2);
    const [ka, kb] = await Promise.all([ownKeys(a, aId), ownKeys(b, b.server.manager.zoneByName(zone)!.id)]);
    expect(await apex(b, 'DNSKEY')).toEqual(expect.arrayContaining([ka.zsk, ka.ksk]));
    expect(await apex(a, 'DNSKEY')).toEqual(expect.arrayContaining([kb.zsk, kb.ksk]));
    await parent.addDs([ka.ds, kb.ds]);
    const r = await runCheck({
      zone, providers: [{ label: 'a', server: { host: a.host, port: a.port } }, { label: 'b', server: { host: b.host, port: b.port } }],
      parent: { server: { host: parent.host, port: parent.port }, label: 'parent' }, now: () => Math.floor(Date.now() / 1000),
    });
    expect(errors(r)).toEqual([]);
  }, 90_000);
});
