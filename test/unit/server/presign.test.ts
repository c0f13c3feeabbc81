// Presigning at zone load (issue 6): every RRset an answer signs is signed in the background, so the first
// queries find their signatures in the cache; delegation NS and glue are never signed (RFC 4035 §2.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadZoneFile } from '../../../src/config/zonefile.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { authoritativeRrsets, type ZoneSigningImpl } from '../../../src/dnssec/zonesigning.js';
import { prepareZone } from '../../../src/state/prepare.js';
import { exampleZoneDir } from '../../helpers/zones.js';

const logger = pino({ level: 'silent' });
const clock = { now: () => 1_800_000_000 };
let zonesDir: string;
let stateDir: string;

beforeAll(async () => {
  zonesDir = await exampleZoneDir();
  stateDir = await mkdtemp(join(tmpdir(), 'tandem-presign-'));
});
afterAll(async () => {
  await rm(zonesDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const has = (sets: { name: Name; type: number }[], name: string, type: number) => sets.some((s) => s.name.equals(Name.fromText(name)) && s.type === type);

describe('presign', () => {
  it('RFC 4035 §2.2: signs authoritative RRsets and the DS at a cut, not the delegation NS nor glue', async () => {
    const cache = new SignatureCache();
    const { zone } = await prepareZone(await loadZoneFile(join(zonesDir, 'example.com.yaml')), { zonesDir, stateDir, clock, logger, cache });
    const sets = authoritativeRrsets(zone);
    expect(has(sets, 'www.example.com.', RRType.A)).toBe(true);
    expect(has(sets, 'example.com.', RRType.DNSKEY)).toBe(true);
    expect(has(sets, 'example.com.', RRType.NS)).toBe(true);
    expect(has(sets, 'sub.example.com.', RRType.DS)).toBe(true);
    expect(has(sets, 'sub.example.com.', RRType.NS)).toBe(false);
    expect(has(sets, 'ns1.sub.example.com.', RRType.A)).toBe(false);
    // RFC 2308 §5: the SOA of negative answers has TTL min(SOA TTL, MINIMUM): a different RRset to sign.
    expect(sets.filter((s) => s.type === RRType.SOA).map((s) => s.ttl).sort((a, b) => a - b)).toEqual([300, 3600]);
    expect(cache.size).toBe(0); // nothing signed unless asked (presign is off by default)
  });

  it('with presign on, the signatures are made in the background and the first answer finds them cached', async () => {
    const cache = new SignatureCache();
    const { zone, signing } = await prepareZone(await loadZoneFile(join(zonesDir, 'example.com.yaml')), { zonesDir, stateDir, clock, logger, cache, presign: true });
    const total = authoritativeRrsets(zone).length;
    expect(cache.size).toBeLessThan(total); // prepareZone returned before signing
    const end = Date.now() + 5000;
    while (cache.size < total && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(cache.size).toBe(total);
    const misses = cache.stats.misses;
    const www = zone.nodes.get('www.example.com.')!.rrsets.get(RRType.A)!;
    await (signing as ZoneSigningImpl).signRrset(www);
    expect(cache.stats.misses).toBe(misses);
  });
});
