// Key sync with real signers (issue 12, RFC 8901 model 2): tandem, configured with one `zone.sync` peer of method
// `ddns`, pushes its ZSK and the CDS/CDNSKEY of its KSK by TSIG-signed UPDATE into Knot (dnskey-management:
// incremental), BIND (a dynamic zone under dnssec-policy) and PowerDNS (dnsupdate, direct-dnskey) — each takes
// a foreign DNSKEY by UPDATE here — and pulls the peer's DNSKEY RRset over DNS (TSIG-signed question, validated
// with the DS set once the parent has it). Nobody copies a key by hand: `tandem check` (runCheck) then passes
// between the two with the parent's DS set. The parent is a second tandem serving `test.` with DSYNC records:
// the CDS change the pull makes reaches it as NOTIFY(CDS) (RFC 9859).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, requireTool } from '../helpers/dig.js';
import { startBind } from '../helpers/bind.js';
import { CHECK_ZONE, otherZone } from '../helpers/check-zone.js';
import { startKnot } from '../helpers/knot.js';
import { startPdns } from '../helpers/pdns.js';
import { waitFor } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startParent, SYNC_KEY, SYNC_SECRET, syncTsig, syncZoneDir, type Parent } from '../helpers/sync.js';
import { runAdminCommand } from '../../src/cli/admin.js';
import { Name } from '../../src/dns/name.js';
import { runCheck } from '../../src/lab/check.js';
import type { CheckReport } from '../../src/lab/report.js';
import type { SyncStatusView } from '../../src/update/sync/types.js';

const zone = Name.fromText(CHECK_ZONE);

interface Peer {
  host: string;
  port: number;
  /** DS RRs of its KSK(s). */
  ds(): Promise<string[]>;
  stop(): Promise<void>;
}

const peers: { name: string; label: string; tools: [string, string][]; start: () => Promise<Peer> }[] = [
  {
    name: 'knot', label: 'Knot 3.2 (dnskey-management: incremental, acl action update)',
    tools: [['knotd', 'knot'], ['keymgr', 'knot']],
    async start() {
      const k = await startKnot({ zone: CHECK_ZONE, zoneText: otherZone(), foreignApexRecords: [], updateKey: SYNC_KEY });
      return { host: k.host, port: k.port, ds: () => k.ds(), stop: () => k.stop() };
    },
  },
  {
    name: 'bind', label: 'BIND 9.18 (dynamic zone, dnssec-policy, allow-update key)',
    tools: [['named', 'bind9'], ['dnssec-dsfromkey', 'bind9-utils']],
    async start() {
      const b = await startBind({ zone: CHECK_ZONE, zoneText: otherZone(2), denial: 'nsec3', updateKey: SYNC_KEY });
      return { host: b.host, port: b.port, ds: () => b.ds(), stop: () => b.stop() };
    },
  },
  {
    name: 'pdns', label: 'PowerDNS 4.7 (gsqlite3, dnsupdate, direct-dnskey, TSIG-ALLOW-DNSUPDATE)',
    tools: [['pdns_server', 'pdns-server'], ['pdnsutil', 'pdns-server'], ['sqlite3', 'sqlite3']],
    async start() {
      const p = await startPdns({ zone: CHECK_ZONE, zoneText: otherZone(), denial: 'nsec3', updateKey: SYNC_KEY });
      return { host: p.host, port: p.port, ds: async () => (await p.keys()).ds, stop: () => p.stop() };
    },
  },
];

async function api(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${t.api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return r.json();
}

/** The apex RRset of `type` as `a b c KEYDATA` (dig splits long base64 and hex fields with spaces: joined again). */
const apex = async (at: { host: string; port: number }, type: string) =>
  (await dig(at, ['+norec', CHECK_ZONE, type])).answer.filter((a) => a.type === type).map((a) => {
    const f = a.data.trim().split(/\s+/);
    return [...f.slice(0, 3), f.slice(3).join('')].join(' ').toLowerCase();
  });
const errors = (r: CheckReport) => r.findings.filter((f) => f.level === 'error').map((f) => `${f.code}: ${f.message}\n  ${(f.details ?? []).join('\n  ')}`);

for (const p of peers) {
  describe(`key sync by UPDATE with ${p.label}`, () => {
    let peer: Peer;
    let parent: Parent;
    let t: TestServer;
    let id: string;
    let ours: { zsk: string; ksk: string; cds: string; ds: string };
    const status = async (): Promise<SyncStatusView> => (await api(t, 'GET', `/zones/${id}/tandem/sync`)).result;
    const run = async (): Promise<SyncStatusView> => (await api(t, 'POST', `/zones/${id}/tandem/sync`, {})).result;

    beforeAll(async () => {
      for (const [tool, pkg] of p.tools) requireTool(tool, pkg);
      [peer, parent] = await Promise.all([p.start(), startParent()]);
      t = await startTestServer({
        zones: await syncZoneDir({ sync: [`{ name: ${p.name}, method: ddns, address: "127.0.0.1:${peer.port}", key: sync-key }`] }),
        config: { tsig: [syncTsig()], parentResolver: { host: parent.host, port: parent.port }, parentNotify: true },
      });
      id = t.server.manager.zoneByName(zone)!.id;
      const d = (await api(t, 'GET', `/zones/${id}/dnssec`)).result;
      const zsk = (await api(t, 'GET', `/zones/${id}/dnssec/zsk`)).result.find((k: any) => k.Tag === 'active').DNSKEY;
      ours = {
        zsk: `256 3 13 ${zsk.PublicKey}`.toLowerCase(), ksk: `257 3 13 ${d.public_key}`.toLowerCase(),
        cds: `${d.key_tag} 13 2 ${d.digest}`.toLowerCase(), ds: d.ds,
      };
    }, 120_000);
    afterAll(async () => {
      await Promise.all([t?.stop(), peer?.stop(), parent?.stop()]);
    });

    it(`pushes our ZSK, CDS and CDNSKEY into ${p.name} by UPDATE (RFC 2136) and imports its keys as sync:${p.name}, with no manual step`, async () => {
      // A first sync that fails on a busy machine (the peer still signing, an UPDATE timing out) is retried after
      // 30 s (update/sync/service.ts): the wait covers one retry, and a failure says where the sync stood.
      let last: SyncStatusView | undefined;
      const s = await waitFor(async () => {
        last = await status();
        return last.peers[0]?.state === 'in sync' ? last : undefined;
      }, 75_000, { what: `key sync with ${p.name} in sync`, intervalMs: 250 }).catch((err: Error) => {
        throw new Error(`${err.message}; status: ${JSON.stringify(last?.peers[0])}`);
      });
      const v = s.peers[0];
      expect(v.lastPush?.ok, JSON.stringify(v)).toBe(true);
      expect(v.published.map((k) => k.type)).toEqual(['DNSKEY', 'CDS', 'CDNSKEY']);
      // The peer serves what we pushed, signed by its own KSK.
      expect(await apex(peer, 'DNSKEY')).toContain(ours.zsk);
      expect(await apex(peer, 'CDS')).toContain(ours.cds);
      expect(await apex(peer, 'CDNSKEY')).toContain(ours.ksk);
      // Its two keys are in our DNSKEY RRset, held by the sync (claims.ts).
      expect(v.imported, JSON.stringify(v, null, 1)).toHaveLength(2);
      const recs = (await api(t, 'GET', `/zones/${id}/dns_records?type=DNSKEY`)).result as any[];
      expect(recs.map((r) => r.meta?.key_sources)).toEqual([[`sync:${p.name}`], [`sync:${p.name}`]]);
      const theirs = (await apex(peer, 'DNSKEY')).filter((k) => k !== ours.zsk);
      for (const k of theirs) expect(await apex(t, 'DNSKEY')).toContain(k);
      expect(v.differences).toEqual([]);
    }, 90_000);

    it('the pulled DNSKEY RRset is validated with the DS set once the parent publishes it (RFC 4035 §5.2)', async () => {
      await parent.addDs([ours.ds, ...await peer.ds()]);
      const s = await run();
      expect(s.peers[0].lastPull?.validated).toMatch(/^DS at the parent for its KSK \d+/);
      expect(s.peers[0].state).toBe('in sync');
    });

    it('RFC 8901 §3: tandem check passes between tandem and the peer, with the parent\'s DS set', async () => {
      const r = await runCheck({
        zone, providers: [{ label: 'tandem', server: { host: t.host, port: t.port } }, { label: p.name, server: { host: peer.host, port: peer.port } }],
        parent: { server: { host: parent.host, port: parent.port }, label: 'parent' }, now: () => Math.floor(Date.now() / 1000),
      });
      expect(errors(r)).toEqual([]);
      expect(r.pairs.map((x) => x.failed)).toEqual([0, 0, 0, 0]);
    });

    it('RFC 9859 §4: the CDS change of the import reached the parent tandem as NOTIFY(CDS) at its DSYNC target', async () => {
      const n = await waitFor(() => parent.notifies().find((x) => x.type === 'CDS'), 15_000, { what: 'NOTIFY(CDS) at the parent' });
      expect(n.child).toBe('ms.test.');
      const s = await status();
      expect(s.parentNotify.some((e) => e.type === 'CDS' && e.result === 'sent' && e.target === `127.0.0.1:${parent.port}`)).toBe(true);
    });

    if (p.name === 'knot') {
      it('tandem push-keys --ksk: one push by hand of our KSK too, by UPDATE; the peer serves it', async () => {
        let out = '';
        const code = await runAdminCommand('push-keys', [CHECK_ZONE, '--to', `127.0.0.1:${peer.port}`, '--tsig', `hmac-sha256:sync-key:${SYNC_SECRET}`, '--ksk', '--api', t.api, '--token', t.token],
          { out: (x) => { out += x; }, err: (x) => { out += x; }, env: {} });
        expect(code, out).toBe(0);
        expect(out).toMatch(/pushed DNSKEY 256 \d+, DNSKEY 257 \d+, CDS \d+, CDNSKEY \d+ to 127\.0\.0\.1:\d+ \(key sync-key\): NOERROR/);
        await waitFor(async () => (await apex(peer, 'DNSKEY')).includes(ours.ksk) || undefined, 10_000, { what: 'Knot serving our KSK' });
      });

      it('push-keys with a wrong secret: the peer refuses, the command says so (exit 1)', async () => {
        let out = '';
        const code = await runAdminCommand('push-keys', [CHECK_ZONE, '--to', `127.0.0.1:${peer.port}`, '--tsig', 'sync-key:d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyEhIQ==', '--api', t.api, '--token', t.token],
          { out: (x) => { out += x; }, err: (x) => { out += x; }, env: {} });
        expect(code).toBe(1);
        expect(out).toMatch(/tandem push-keys: .*(NOTAUTH|TSIG)/);
      });
    }
  });
}
