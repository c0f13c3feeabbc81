// Loading a pre-signed zone (`zone.dnssec.presigned: true`): the setting, the record policy, the checks at load
// (no DNSKEY: not loaded; signatures outside their validity: error log; no chain or unsigned data: warnings)
// and the manager's view. Zones signed by BIND's dnssec-signzone in the test.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseZoneFile } from '../../../src/config/zonefile.js';
import { ZoneFileError } from '../../../src/config/errors.js';
import { Name } from '../../../src/dns/name.js';
import { parseRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { keyTag } from '../../../src/dnssec/keys.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { preparePresignedZone } from '../../../src/state/presigned.js';
import { prepareZone } from '../../../src/state/prepare.js';
import { lookup } from '../../../src/zone/lookup.js';
import { requireTool } from '../../helpers/dig.js';
import { captureLogs, presignedLoaded, presignedYaml, signZone, type SignedZone } from '../../helpers/presigned.js';
import { thrown } from '../config/helpers.js';

const ORIGIN = Name.fromText('example.org.');
/** 2025-02-01T00:00:00Z, inside the signatures' validity below. */
const FEB = Date.UTC(2025, 1, 1) / 1000;
const clockAt = (t: number) => ({ now: () => t });

let signed: SignedZone;
beforeAll(async () => {
  requireTool('dnssec-signzone', 'bind9-utils');
  signed = await signZone({ signer: 'bind', chain: 'nsec3', inception: '20250101000000', expiration: '20250301000000' });
});

describe('zone.dnssec.presigned', () => {
  const header = (dnssec: string, more = '') => `zone:\n  origin: example.org.\n  soa: { mname: ns1.example.org., rname: hostmaster.example.org. }\n${more}  dnssec: ${dnssec}\nrecords:\n`;
  const parse = (dnssec: string, body = '', more = '') => parseZoneFile('zones/example.org.yaml', header(dnssec, more) + body);

  it('accepts the DNSSEC records a signer makes: RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY, CDS, CDNSKEY', () => {
    const z = parse('{ presigned: true }', [
      '  "@":',
      '    - { type: DNSKEY, value: "257 3 13 aGVsbG8=" }',
      '    - { type: NSEC3PARAM, value: "1 0 0 -" }',
      '    - { type: CDS, value: "1 13 1 0123456789ABCDEF0123456789ABCDEF01234567" }',
      '    - { type: CDNSKEY, value: "257 3 13 aGVsbG8=" }',
      '    - { type: NSEC, value: "www.example.org. SOA RRSIG NSEC" }',
      '    - { type: RRSIG, value: "SOA 13 2 300 20300101000000 20200101000000 1 example.org. AAAA" }',
      '  8um1kjcjmofvvmq7cb0op7jt39lg8r9j: { type: NSEC3, value: "1 0 0 - 92HKCG4EKUVGGDBRHQU4Q2PBQGBEEI8O A" }',
    ].join('\n'));
    expect(z.config.dnssec.presigned).toBe(true);
    expect(z.input.records.map((r) => r.type).sort((a, b) => a - b)).toEqual([
      RRType.SOA, RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, RRType.NSEC3, RRType.NSEC3PARAM, RRType.CDS, RRType.CDNSKEY]);
  });

  it('without it, RRSIG and NSEC3 records are still refused (RFC 4035 §2: the signer makes them)', () => {
    expect(thrown(() => parse('{ enabled: true }', '  www: { type: RRSIG, value: "A 13 3 300 20300101000000 20200101000000 1 example.org. AAAA" }')).message)
      .toMatch(/made by the signer .* unless zone\.dnssec\.presigned is true/);
  });

  it('excludes signing it ourselves: enabled or multi_signer beside it is an error naming both', () => {
    expect(thrown(() => parse('{ presigned: true, enabled: true }')).message).toMatch(/zone\.dnssec\.presigned and zone\.dnssec\.enabled exclude each other/);
    expect(thrown(() => parse('{ multi_signer: true, presigned: true }')).message).toMatch(/presigned and zone\.dnssec\.multi_signer exclude each other/);
    expect(parse('{ presigned: true, enabled: false }').config.dnssec.presigned).toBe(true);
  });

  it('refuses the signing settings and the nameserver settings, which would change signed data', () => {
    expect(thrown(() => parse('{ presigned: true, denial: nsec3 }')).message).toMatch(/zone\.dnssec\.denial does not apply to a pre-signed zone/);
    expect(thrown(() => parse('{ presigned: true }', '', '  nameservers: [ns1.example.org.]\n')).message)
      .toMatch(/zone\.nameservers cannot be used with zone\.dnssec\.presigned/);
  });
});

describe('preparePresignedZone: checks at load', () => {
  it('builds the zone as given, with no keys of ours, and answers from its chain', async () => {
    const logs = captureLogs('debug');
    const p = await preparePresignedZone(presignedLoaded(ORIGIN, signed.records), { clock: clockAt(FEB), logger: logs.logger });
    expect(p.keys).toBeUndefined();
    expect(p.signing).toBeUndefined();
    expect(p.presigned).toMatchObject({ denial: 'nsec3', expired: 0, notYetValid: 0, unsigned: 0, earliestExpiration: Date.UTC(2025, 2, 1) / 1000 });
    expect(p.presigned!.signatures).toBe(signed.records.filter((r) => r.type === RRType.RRSIG).length);
    expect(lookup(p.zone, Name.fromText('www.example.org.'), RRType.A).kind).toBe('answer');
    expect(logs.lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('RFC 4035 §2.1: without a DNSKEY RRset at the apex the zone is not loaded; the error names zone and file', async () => {
    const loaded = presignedLoaded(ORIGIN, signed.records.filter((r) => r.type !== RRType.DNSKEY), 'zones/example.org.signed');
    const err = await preparePresignedZone(loaded, { clock: clockAt(FEB), logger: pino({ level: 'silent' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZoneFileError);
    expect((err as Error).message).toMatch(/^zones\/example\.org\.signed: @ DNSKEY: zone example\.org\. is pre-signed .* no DNSKEY RRset at its apex/);
  });

  it('RFC 4034 §3.1.5: expired signatures at load are logged at error level with their count and the earliest expiry; the zone is served', async () => {
    const logs = captureLogs('warn');
    const after = Date.UTC(2025, 2, 2) / 1000;
    const p = await preparePresignedZone(presignedLoaded(ORIGIN, signed.records), { clock: clockAt(after), logger: logs.logger });
    const errors = logs.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ zone: 'example.org.', expired: p.presigned!.signatures, notYetValid: 0, earliestExpiration: '2025-03-01T00:00:00Z' });
    expect(errors[0].msg).toMatch(/outside their validity period/);
    expect(p.zone.presigned).toBeDefined();
  });

  it('signatures not yet valid at load are counted the same way', async () => {
    const logs = captureLogs('warn');
    await preparePresignedZone(presignedLoaded(ORIGIN, signed.records), { clock: clockAt(Date.UTC(2024, 11, 31) / 1000), logger: logs.logger });
    expect(logs.lines.find((l) => l.level === 50)).toMatchObject({ expired: 0, notYetValid: expect.any(Number) });
  });

  it('RFC 4035 §3.1.3: a zone with no NSEC/NSEC3 chain is loaded with a warning', async () => {
    const loaded = presignedLoaded(ORIGIN, signed.records.filter((r) => r.type !== RRType.NSEC3 && r.type !== RRType.NSEC3PARAM && !(r.type === RRType.RRSIG && r.rdata[1] === RRType.NSEC3)));
    const p = await preparePresignedZone(loaded, { clock: clockAt(FEB), logger: pino({ level: 'silent' }) });
    expect(p.presigned!.denial).toBe('none');
    expect(loaded.warnings.join('\n')).toMatch(/no NSEC or NSEC3 chain/);
  });

  it('RFC 4035 §2.2: RRsets without an RRSIG are counted and named in a warning (delegation NS and glue need none)', async () => {
    const www = Name.fromText('www.example.org.');
    const loaded = presignedLoaded(ORIGIN, signed.records.filter((r) => !(r.type === RRType.RRSIG && r.name.equals(www))));
    const p = await preparePresignedZone(loaded, { clock: clockAt(FEB), logger: pino({ level: 'silent' }) });
    expect(p.presigned!.unsigned).toBe(2);
    expect(loaded.warnings.join('\n')).toMatch(/2 RRset\(s\) without an RRSIG \(www A, www AAAA\)/);
  });

  it('prepareZone takes this path for a zone whose settings say presigned', async () => {
    const p = await prepareZone(presignedLoaded(ORIGIN, signed.records), {
      zonesDir: '/nonexistent', stateDir: '/nonexistent', clock: clockAt(FEB), logger: pino({ level: 'silent' }), cache: new SignatureCache(),
    });
    expect(p.zone.presigned?.denial).toBe('nsec3');
  });
});

describe('a pre-signed zone file in the manager', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tandem-presigned-mgr-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is served from YAML as given; the API shows presigned: true with the zone\'s own keys, and refuses record changes', async () => {
    const zones = join(dir, 'zones');
    await mkdir(zones);
    await writeFile(join(zones, 'example.org.yaml'), presignedYaml(ORIGIN, signed.records));
    const { manager, errors } = await TandemZoneManager.open({
      zonesDir: zones, stateDir: join(dir, 'state'), clock: clockAt(FEB), logger: pino({ level: 'silent' }), cache: new SignatureCache(),
    });
    expect(errors).toEqual([]);
    const zone = manager.served().zones.get(ORIGIN)!;
    expect(zone.presigned?.denial).toBe('nsec3');
    expect(manager.served().signing.has(ORIGIN.key)).toBe(false);
    const id = manager.zoneByName(ORIGIN)!.id;
    const view = manager.dnssec(id);
    expect(view).toMatchObject({ presigned: true, status: 'active', multiSigner: false, useNsec3: true });
    expect(view.ksk).toBeUndefined();
    const dnskeys = signed.records.filter((r) => r.type === RRType.DNSKEY).map((r) => keyTag(r.rdata)).sort();
    expect(view.keys.map((k) => k.keyTag).sort()).toEqual(dnskeys);
    expect(view.keys.every((k) => k.source === 'external')).toBe(true);
    await expect(manager.createRecord(id, { name: Name.fromText('new.example.org.'), type: RRType.A, ttl: 300, rdata: parseRdata(RRType.A, '192.0.2.1', ORIGIN) }))
      .rejects.toMatchObject({ code: 1004, message: expect.stringMatching(/pre-signed zone come signed from its source/) });
    await expect(manager.patchDnssec(id, { presigned: true })).rejects.toMatchObject({ code: 1004 });
  });
});
