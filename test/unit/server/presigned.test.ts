// The request path for a pre-signed zone (server/handle.ts): DO=1 answers come from the zone's own RRSIGs and
// chain, are cached no longer than their earliest RRSIG expiration, and a zone lacking records is reported
// once, not per query. Zones signed by BIND's dnssec-signzone with a fixed validity window and a fixed clock.
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { createHandler } from '../../../src/server/handle.js';
import { ResponseCache } from '../../../src/server/respcache.js';
import { preparePresignedZone } from '../../../src/state/presigned.js';
import { ZoneSet } from '../../../src/zone/zoneset.js';
import type { Zone } from '../../../src/zone/types.js';
import { decode } from '../../helpers/client.js';
import { requireTool } from '../../helpers/dig.js';
import { captureLogs, presignedLoaded, signZone, type SignedZone } from '../../helpers/presigned.js';

const EXPIRES = Date.UTC(2025, 2, 1) / 1000;
const clock = { t: Date.UTC(2025, 1, 1) / 1000, now() { return this.t; } };
const q = (name: string, type: number, dnssecOk = true) => Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, do: dnssecOk }));
const served = (zone: Zone) => ({ zones: new ZoneSet([zone]), signing: new Map() });

let signed: SignedZone;
beforeAll(async () => {
  requireTool('dnssec-signzone', 'bind9-utils');
  signed = await signZone({ signer: 'bind', chain: 'nsec', inception: '20250101000000', expiration: '20250301000000' });
});

async function zoneOf(records = signed.records): Promise<Zone> {
  return (await preparePresignedZone(presignedLoaded(signed.origin, records), { clock, logger: pino({ level: 'silent' }) })).zone;
}

describe('the request path for a pre-signed zone', () => {
  it('RFC 4035 §3.1.1: a DO=1 answer carries the stored RRSIG; DO=0 does not', async () => {
    const set = served(await zoneOf());
    const h = createHandler(() => set, pino({ level: 'silent' }), { clock, cache: false });
    const withDo = decode(Buffer.from((await h(q('www.example.org.', RRType.A), 'udp'))!));
    expect(withDo.answers!.map((a) => a.type)).toEqual(['A', 'RRSIG']);
    const without = decode(Buffer.from((await h(q('www.example.org.', RRType.A, false), 'udp'))!));
    expect(without.answers!.map((a) => a.type)).toEqual(['A']);
  });

  it('RFC 4034 §3.1.5: a cached answer is not served past the earliest expiration of its RRSIGs', async () => {
    const cache = new ResponseCache();
    const set = served(await zoneOf());
    const h = createHandler(() => set, pino({ level: 'silent' }), { clock, cache });
    const start = clock.t;
    try {
      await h(q('www.example.org.', RRType.A), 'udp');
      await h(q('www.example.org.', RRType.A, false), 'udp');
      clock.t = EXPIRES - 1;
      expect(h.cached(q('www.example.org.', RRType.A), 'udp')).toBeDefined();
      clock.t = EXPIRES;
      expect(h.cached(q('www.example.org.', RRType.A), 'udp')).toBeUndefined();
      // Without DO nothing in the answer expires.
      expect(h.cached(q('www.example.org.', RRType.A, false), 'udp')).toBeDefined();
    } finally {
      clock.t = start;
    }
  });

  it('a zone lacking a proof is answered with what it has and reported once (warn), not per query', async () => {
    const hostNew = Name.fromText('host.new.example.org.');
    const set = served(await zoneOf(signed.records.filter((r) => !(r.type === RRType.NSEC && r.name.equals(hostNew)))));
    const logs = captureLogs('warn');
    const h = createHandler(() => set, logs.logger, { clock, cache: false });
    for (const type of [RRType.A, RRType.AAAA, RRType.TXT]) {
      const r = decode(Buffer.from((await h(q('nope.example.org.', type), 'udp'))!));
      expect(r.rcode).toBe('NXDOMAIN');
      expect(r.authorities!.filter((a) => a.type === 'NSEC')).toHaveLength(1);
    }
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toMatchObject({ level: 40, zone: 'example.org.', missing: ['NSEC covering nope'] });
  });
});
