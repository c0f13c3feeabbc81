// Presigning at zone load (issue 6): every RRset an answer signs is signed in the background, so the first
// queries find their signatures in the cache; delegation NS and glue are never signed (RFC 4035 §2.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

  it('a small denial chain is signed before the RRsets are presigned (the workers take a chain whole only once it is signed)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-presign-chain-'));
    try {
      const file = join(dir, 'chain.test.yaml');
      let text = 'zone:\n  soa: { mname: ns1, rname: h }\n  nameservers: [ns1.chain.test.]\n  dnssec: { enabled: true, denial: nsec3-chain }\nrecords:\n  ns1: { type: A, value: 192.0.2.1 }\n';
      for (let i = 0; i < 300; i++) text += `  n${i}: { type: A, value: 192.0.2.${i & 255} }\n`;
      await writeFile(file, text);
      // Background signatures counted as they are made; at the chain's log line, the count then.
      let background = 0;
      const seen: { msg: string; signed?: number; background: number }[] = [];
      const log = pino({ level: 'debug' }, { write: (line: string) => { const o = JSON.parse(line); seen.push({ msg: o.msg, signed: o.signed, background }); } });
      const observer = { signed: (_s: number, bg: boolean) => { if (bg) background++; }, failed: () => undefined };
      const { zone } = await prepareZone(await loadZoneFile(file), { zonesDir: dir, stateDir: dir, clock, logger: log, cache: new SignatureCache(), presign: true, signingObserver: observer });
      const end = Date.now() + 10_000;
      while (!seen.some((l) => l.msg === 'presigned') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const chain = seen.find((l) => l.msg === 'denial chain signed')!;
      const presigned = seen.find((l) => l.msg === 'presigned')!;
      expect(chain.signed).toBe(302); // a link per name: the apex, ns1, n0..n299 (RFC 5155 §7.1)
      expect(chain.background).toBe(chain.signed); // nothing else was signed before the chain was
      expect(presigned.signed).toBe(authoritativeRrsets(zone).length);
      expect(background).toBe(chain.signed! + presigned.signed!);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
