// Self-test of the resolver harness with real tools alone: unbound validates Knot answers from a DS anchor, fails
// with a wrong one, and pinProviders makes "DNSKEY from one provider, data from the other" deterministic: two
// independent Knot signers fail until each publishes the other's ZSK (RFC 8901 §2.1.1), then pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../helpers/dig.js';
import { startKnot, type KnotInstance } from '../helpers/knot.js';
import { startUnbound, type UnboundInstance } from '../helpers/unbound.js';
import { corruptDs, reportErrors, validateAnswers } from '../helpers/validate.js';

const ZONE = 'pair.test.';
const ZONE_TEXT = `$TTL 300
@    IN SOA ns1 hostmaster 1 3600 600 86400 300
@    IN NS  ns1
ns1  IN A   127.0.0.1
www  IN A   192.0.2.1
`;

const addr = (k: KnotInstance) => `${k.host}@${k.port}`;

describe('harness: unbound validating two Knot providers', () => {
  let a: KnotInstance;
  let b: KnotInstance;
  let dsA: string[];
  let dsB: string[];
  const resolvers: UnboundInstance[] = [];

  beforeAll(async () => {
    for (const [tool, pkg] of [['knotd', 'knot'], ['unbound', 'unbound'], ['unbound-control', 'unbound']]) requireTool(tool, pkg);
    [a, b] = await Promise.all([startKnot({ zone: ZONE, zoneText: ZONE_TEXT }), startKnot({ zone: ZONE, zoneText: ZONE_TEXT })]);
    [dsA, dsB] = await Promise.all([a.ds(), b.ds()]);
  });
  afterAll(async () => {
    await Promise.all(resolvers.map((r) => r.stop()));
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('RFC 4035 §3.2.3: unbound sets AD for a Knot answer with Knot DS as trust anchor', async () => {
    const u = await startUnbound({ trustAnchors: dsA, stubs: [{ zone: ZONE, addrs: [addr(a)] }] });
    resolvers.push(u);
    const r = await u.query(`www.${ZONE}`, 'A');
    expect(r.status, u.logs()).toBe('NOERROR');
    expect(r.flags).toContain('ad');
    expect(r.answer.find((rr) => rr.type === 'A')?.data).toBe('192.0.2.1');
    expect(await u.control(['status'])).toMatch(/is running/);
  });

  it('negative control: unbound answers SERVFAIL with a wrong trust anchor (RFC 4035 §5.5)', async () => {
    const u = await startUnbound({ trustAnchors: dsA.map(corruptDs), stubs: [{ zone: ZONE, addrs: [addr(a)] }] });
    resolvers.push(u);
    const r = await u.query(`www.${ZONE}`, 'A');
    expect(r.status).toBe('SERVFAIL');
    expect(r.answer).toHaveLength(0);
  });

  it('RFC 8901 §2.1.1: pinned DNSKEY-from-A / data-from-B fails until each provider publishes the other ZSK', async () => {
    const u = await startUnbound({ trustAnchors: [...dsA, ...dsB], stubs: [{ zone: ZONE, addrs: [addr(a), addr(b)] }] });
    resolvers.push(u);
    // Same provider for keys and data: secure.
    for (const k of [a, b]) {
      const keys = await u.pinProviders(ZONE, addr(k), addr(k));
      expect(keys.flags).toContain('ad');
      const r = await u.query(`www.${ZONE}`, 'A');
      expect(r.flags, `${addr(k)}: ${r.raw}`).toContain('ad');
    }
    // Crossed, before the ZSK exchange: A's DNSKEY RRset lacks B's ZSK, so B's RRSIGs cannot validate. Every time.
    for (const [x, y] of [[a, b], [b, a]] as const) {
      await u.pinProviders(ZONE, addr(x), addr(y));
      const r = await u.query(`www.${ZONE}`, 'A');
      expect(r.status, `keys ${addr(x)} data ${addr(y)}`).toBe('SERVFAIL');
      const py = await validateAnswers({ zone: ZONE, dnskeyFrom: x, dataFrom: y, ds: [...dsA, ...dsB], queries: [{ name: `www.${ZONE}`, type: 'A' }] });
      expect(py.ok).toBe(false);
      expect(py.dnskey.valid).toBe(true);
      expect(py.results[0].rrsets[0]).toMatchObject({ signed: true, valid: false });
    }
    // Exchange ZSKs (way 1: public-only import), then every ordered pair validates.
    const zsk = async (k: KnotInstance) => (await k.keys()).find((x) => x.zsk && !x.ksk && !x.publicOnly)!;
    const [zskA, zskB] = await Promise.all([zsk(a), zsk(b)]);
    await a.importPublicKey(`${zskB.dnskey.replace(' DNSKEY ', ' IN DNSKEY ')}\n`);
    await b.importPublicKey(`${zskA.dnskey.replace(' DNSKEY ', ' IN DNSKEY ')}\n`);
    for (const [x, y] of [[a, b], [b, a], [a, a], [b, b]] as const) {
      const keys = await u.pinProviders(ZONE, addr(x), addr(y));
      expect(keys.flags).toContain('ad');
      for (const [name, type, status] of [[`www.${ZONE}`, 'A', 'NOERROR'], [`nope.${ZONE}`, 'A', 'NXDOMAIN'], [`www.${ZONE}`, 'TXT', 'NOERROR']]) {
        const r = await u.query(name, type);
        expect(r.status, `keys ${addr(x)} data ${addr(y)} ${name} ${type}`).toBe(status);
        expect(r.flags).toContain('ad');
      }
      const py = await validateAnswers({
        zone: ZONE, dnskeyFrom: x, dataFrom: y, ds: [...dsA, ...dsB],
        queries: [{ name: `www.${ZONE}`, type: 'A' }, { name: `nope.${ZONE}`, type: 'A' }],
      });
      expect(reportErrors(py)).toEqual([]);
      expect(py.ok).toBe(true);
    }
  });
});
