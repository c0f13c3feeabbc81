// A validating unbound (started by the test, stub zone pointing at tandem, the zone's DS as its only trust
// anchor) returns AD for every kind of answer, in each denial mode; with a wrong anchor it returns SERVFAIL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { port53Address, startUnbound, type UnboundInstance } from '../helpers/unbound.js';
import { serveZones, unsignedChild, type ServedZones } from '../helpers/presigned.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';
import { Name } from '../../src/dns/name.js';
import type { DenialMode } from '../../src/zone/types.js';

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

// Every denial mode; nsec3-chain also with opt-out, where what an Opt-Out NSEC3 covers cannot be proven absent
// (RFC 5155 §9.2: the span may hide an unsigned delegation): unbound answers those insecure (right RCODE, no
// AD, not SERVFAIL): wildcard answers and wildcard NODATA (next closer name covered), no DS at an unsigned
// delegation, a nonexistent name.
const modes: { label: string; mode: DenialMode; optOut?: boolean }[] = [
  { label: 'compact', mode: 'compact' }, { label: 'nsec', mode: 'nsec' }, { label: 'nsec3', mode: 'nsec3' },
  { label: 'nsec3-chain', mode: 'nsec3-chain' }, { label: 'nsec-chain', mode: 'nsec-chain' },
  { label: 'nsec3-chain, opt-out', mode: 'nsec3-chain', optOut: true },
];

const OPT_OUT_INSECURE = new Set(['anything.wild.example.com. A', 'x.wild.example.com. MX', 'insecure.example.com. DS']);

for (const { label, mode, optOut } of modes) {
  describe(`unbound validates tandem's answers (${label} denial)`, () => {
    let s: TestServer;
    let u: UnboundInstance;
    let bad: UnboundInstance;
    beforeAll(async () => {
      requireTool('unbound', 'unbound');
      s = await startTestServer({ zones: await exampleZoneDir(withDenial(mode, { optOut })) });
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
      if (optOut && OPT_OUT_INSECURE.has(`${name} ${type}`)) expect(r.flags).not.toContain('ad'); // insecure, not bogus
      else expect(r.flags).toContain('ad');
    });

    it(`a nonexistent name is authenticated (${mode === 'compact' ? 'NOERROR, RFC 9824' : 'NXDOMAIN'}) with AD${optOut ? ' (opt-out: insecure, no AD)' : ''}`, async () => {
      const r = await u.query('nope.example.com.', 'A');
      expect(r.status).toBe(mode === 'compact' ? 'NOERROR' : 'NXDOMAIN');
      if (optOut) expect(r.flags).not.toContain('ad');
      else expect(r.flags).toContain('ad');
    });

    it('negative control: a wrong trust anchor gives SERVFAIL', async () => {
      const r = await bad.query('www.example.com.', 'A');
      expect(r.status).toBe('SERVFAIL');
    });
  });
}

const CHILD = await port53Address();

// A referral to an unsigned child (RFC 4035 §3.1.4): unbound follows it to the glue address on port 53, where a
// second listener serves the child unsigned. The referral's proof that the cut has no DS comes from the chain
// (the cut's own NSEC/NSEC3, or under opt-out the Opt-Out NSEC3 covering it, RFC 5155 §7.2.7): the child's
// answer is insecure, not bogus, and the parent's answers still validate.
describe.skipIf(CHILD === undefined)('unbound follows a referral to an unsigned child of a chain zone (needs port 53 on a loopback address)', () => {
  const child = CHILD!;
  let kid: ServedZones;
  beforeAll(async () => {
    requireTool('unbound', 'unbound');
    kid = await serveZones([unsignedChild(Name.fromText('kid.example.com.'), child)], { listen: { host: child, port: 53 } });
  });
  afterAll(() => kid?.stop());

  for (const { label, mode, optOut } of modes.filter((m) => m.mode.endsWith('-chain'))) {
    it(`RFC 4035 §3.1.4, RFC 5155 §7.2.7 (${label}): the referral proves the DS absent; the child's answer is insecure, the parent's validated`, async () => {
      const withKid = (t: string) => withDenial(mode, { optOut })(t).replace(/^records:\n/m, `records:\n  kid: { type: NS, value: ns.kid.example.com. }\n  ns.kid: { type: A, value: ${child} }\n`);
      const s = await startTestServer({ zones: await exampleZoneDir(withKid) });
      let u: UnboundInstance | undefined;
      try {
        const ds = s.server.manager.dnssec(s.server.manager.zoneByName(Name.fromText('example.com.'))!.id).ds!.text;
        u = await startUnbound({ trustAnchors: [ds], stubs: [{ zone: 'example.com.', addrs: [`${s.host}@${s.port}`] }] });
        const r = await u.query('www.kid.example.com.', 'A');
        expect(r.status, u.logs().slice(-2000)).toBe('NOERROR');
        expect(r.flags).not.toContain('ad');
        expect(r.answer.find((x) => x.type === 'A')?.data).toBe('192.0.2.81');
        expect((await u.query('www.example.com.', 'A')).flags).toContain('ad');
      } finally {
        await u?.stop();
        await s.stop();
      }
    });
  }
});
