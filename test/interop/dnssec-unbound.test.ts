// A validating unbound (started by the test, stub zone pointing at tandem, the zone's DS as its only trust
// anchor) returns AD for every kind of answer, in each denial mode; with a wrong anchor it returns SERVFAIL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startUnbound, type UnboundInstance } from '../helpers/unbound.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';
import { Name } from '../../src/dns/name.js';

const cases: [string, string, string][] = [
  ['www.example.com.', 'A', 'NOERROR'],
  ['alias.example.com.', 'A', 'NOERROR'],
  ['anything.wild.example.com.', 'A', 'NOERROR'],
  ['x.wild.example.com.', 'MX', 'NOERROR'],
  ['www.example.com.', 'MX', 'NOERROR'],
  ['b.deep.example.com.', 'A', 'NOERROR'],
  ['sub.example.com.', 'DS', 'NOERROR'],
  ['insecure.example.com.', 'DS', 'NOERROR'],
  ['example.com.', 'DNSKEY', 'NOERROR'],
  ['example.com.', 'CDS', 'NOERROR'],
  ['example.com.', 'CDNSKEY', 'NOERROR'],
];

for (const mode of ['compact', 'nsec', 'nsec3'] as const) {
  describe(`unbound validates tandem's answers (${mode} denial)`, () => {
    let s: TestServer;
    let u: UnboundInstance;
    let bad: UnboundInstance;
    beforeAll(async () => {
      requireTool('unbound', 'unbound');
      s = await startTestServer({ zones: await exampleZoneDir(withDenial(mode)) });
      const ds = s.server.manager.dnssec(s.server.manager.zoneByName(Name.fromText('example.com.'))!.id).ds!.text;
      const wrong = ds.replace(/[0-9A-F]$/, (c) => (c === '0' ? '1' : '0'));
      [u, bad] = await Promise.all([
        startUnbound({ trustAnchors: [ds], stubs: [{ zone: 'example.com.', addrs: [`${s.host}@${s.port}`] }] }),
        startUnbound({ trustAnchors: [wrong], stubs: [{ zone: 'example.com.', addrs: [`${s.host}@${s.port}`] }] }),
      ]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([u?.stop(), bad?.stop()]);
      await s?.stop();
    });

    it.each(cases)('%s %s: AD set', async (name, type, status) => {
      const r = await u.query(name, type);
      expect(r.status, u.logs().slice(-2000)).toBe(status);
      expect(r.flags).toContain('ad');
    });

    it(`a nonexistent name is authenticated (${mode === 'compact' ? 'NOERROR, RFC 9824' : 'NXDOMAIN'}) with AD`, async () => {
      const r = await u.query('nope.example.com.', 'A');
      expect(r.status).toBe(mode === 'compact' ? 'NOERROR' : 'NXDOMAIN');
      expect(r.flags).toContain('ad');
    });

    it('negative control: a wrong trust anchor gives SERVFAIL', async () => {
      const r = await bad.query('www.example.com.', 'A');
      expect(r.status).toBe('SERVFAIL');
    });
  });
}
