// The files `tandem lab` writes for people and tools: the trust anchors in delv's syntax (read back by the same
// parser `tandem check --anchor` uses), the DS set (`--ds`), the zone every provider serves (read by tandem's own
// master-file reader), the parent's delegation, unbound's config, and which records each provider must publish
// for the others (RFC 8901 §8).
import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { formatRdata } from '../../../src/dns/rdata.js';
import { RRType } from '../../../src/dns/types.js';
import { parseAnchorText, parseDsText } from '../../../src/lab/anchors.js';
import { foreignFor } from '../../../src/lab/lab-exchange.js';
import { unboundConf } from '../../../src/lab/lab-resolver.js';
import { anchorText, dsFileText, type LabProvider, type LabState } from '../../../src/lab/lab-state.js';
import { labZoneText, parentZoneText } from '../../../src/lab/lab-tandem.js';
import { parseMasterFile } from '../../../src/config/masterfile.js';
import { LabError, requireTools } from '../../../src/lab/lab.js';

const DS1 = 'lab.test. 10 IN DS 7821 13 2 BDC8437F2A9D5BC686641B10A0BC69935641DAE712E36F6841890C0842AA188D';
const DS2 = 'lab.test. 10 IN DS 14820 13 2 8749742CBF5C2EE0E1FCABC560D15B33439BEDA33308742B3E05416D551289D6';

const prov = (name: string, kind: LabProvider['kind'], port: number, tags: [number, number], ds: string): LabProvider => ({
  name, kind, address: '127.0.0.1', port, pid: 1, dir: `/lab/${name}`, ds: [ds],
  keys: [{ tag: tags[0], flags: 257, publicKey: `K${name}` }, { tag: tags[1], flags: 256, publicKey: `Z${name}` }],
});

function lab(union: boolean, broken: string[] = []): LabState {
  return {
    version: 1, zone: 'lab.test.', parentZone: 'test.', denial: 'compact', union, ttl: 10, token: 't',
    parent: { ...prov('parent', 'tandem', 5301, [1, 2], 'test. 10 IN DS 1 13 2 AA'), api: 8001 },
    providers: [prov('tandem-1', 'tandem', 5302, [7821, 392], DS1), prov('knot', 'knot', 5303, [14820, 11890], DS2)],
    broken, files: { ds: 'ds.txt', anchor: 'anchor.conf', parentAnchor: 'parent-anchor.conf' },
  };
}

describe('tandem lab: the files it writes', () => {
  const zone = Name.fromText('lab.test.');

  it('anchor.conf is delv\'s trust-anchors syntax with one static-ds per DS, and tandem check --anchor reads it back', () => {
    const text = anchorText('lab.test.', [DS1, DS2]);
    expect(text).toBe('trust-anchors {\n' +
      '  "lab.test." static-ds 7821 13 2 "BDC8437F2A9D5BC686641B10A0BC69935641DAE712E36F6841890C0842AA188D";\n' +
      '  "lab.test." static-ds 14820 13 2 "8749742CBF5C2EE0E1FCABC560D15B33439BEDA33308742B3E05416D551289D6";\n};\n');
    const back = parseAnchorText(text, 'anchor.conf', zone);
    expect(back.ds.map((d) => formatRdata(RRType.DS, d).split(' ')[0])).toEqual(['7821', '14820']);
  });

  it('ds.txt is the DS set as tandem check --ds reads it (a comment line, then one DS a line)', () => {
    const back = parseDsText(dsFileText(lab(false), [DS1, DS2]), 'ds.txt', zone);
    expect(back.ds).toHaveLength(2);
  });

  it('the zone every provider serves parses as a master file, with one NS (and its address) per provider', () => {
    const text = labZoneText({ zone: 'lab.test.', ttl: 10 }, ['tandem-1', 'tandem-2', 'knot']);
    const { records } = parseMasterFile('lab.test.zone', text, { origin: zone });
    const ns = records.filter((r) => r.type === RRType.NS && r.name.equals(zone));
    expect(ns.map((r) => formatRdata(r.type, r.rdata))).toEqual(['ns1.tandem-1.lab.test.', 'ns1.tandem-2.lab.test.', 'ns1.knot.lab.test.']);
    expect(records.every((r) => r.ttl <= 10)).toBe(true);
  });

  it('the parent delegates to every provider\'s nameserver with glue (the DS records come later, by the API)', () => {
    const text = parentZoneText({ zone: 'lab.test.', parentZone: 'test.', ttl: 10 }, ['tandem-1', 'knot']);
    expect(text).toMatch(/^lab {2}IN NS {2}ns1\.tandem-1\.lab\.test\.$/m);
    expect(text).toMatch(/^ns1\.knot\.lab {2}IN A {3}127\.0\.0\.1$/m);
    expect(text).not.toMatch(/ DS /);
  });

  it('RFC 8901 §8: each provider publishes the others\' ZSKs and CDS/CDNSKEY; KSKs only with --union; a broken ZSK is withheld', () => {
    const s = lab(false);
    expect(foreignFor(s, s.providers[1])).toEqual([
      'DNSKEY 256 3 13 Ztandem-1', `CDS ${DS1.split(' ').slice(-4).join(' ')}`, 'CDNSKEY 257 3 13 Ktandem-1',
    ]);
    expect(foreignFor(lab(true), s.providers[1]).filter((r) => r.startsWith('DNSKEY'))).toEqual(['DNSKEY 257 3 13 Ktandem-1', 'DNSKEY 256 3 13 Ztandem-1']);
    expect(foreignFor(lab(false, ['zsk:tandem-1:knot:392']), s.providers[1]).filter((r) => r.startsWith('DNSKEY'))).toEqual([]);
  });

  it('unbound trusts only the parent\'s DS, stubs the parent and every provider, and never leaves the machine', () => {
    const conf = unboundConf(lab(false), '/lab/unbound', 5400, 5401, 5402, ['test. 10 IN DS 1 13 2 AA']);
    expect(conf.match(/trust-anchor: .*/g)).toEqual(['trust-anchor: "test. 10 IN DS 1 13 2 AA"']);
    expect(conf).toContain('stub-zone:\n  name: "."\n  stub-addr: 127.0.0.1@5402\n');
    expect(conf).toContain('stub-zone:\n  name: "test."\n  stub-addr: 127.0.0.1@5301\n');
    expect(conf).toContain('stub-zone:\n  name: "lab.test."\n  stub-addr: 127.0.0.1@5302\n  stub-addr: 127.0.0.1@5303\n');
    expect(conf).toContain('local-zone: "test." nodefault');
    expect(conf).toContain('do-not-query-localhost: no');
  });
});

describe('tandem lab --with: a server that is not installed', () => {
  it.each([
    ['knot', 'knotd, knotc, keymgr not installed (Debian: apt-get install knot)'],
    ['pdns', 'pdns_server, pdnsutil, sqlite3 not installed (Debian: apt-get install pdns-server pdns-backend-sqlite3 sqlite3)'],
    ['bind', 'named, named-checkconf, nsupdate, dnssec-dsfromkey not installed (Debian: apt-get install bind9 bind9-utils bind9-dnsutils)'],
  ] as const)('--with %s is refused naming the missing programs and their packages', async (kind, message) => {
    await expect(requireTools(kind, async () => undefined)).rejects.toThrow(new LabError(`--with ${kind}: ${message}; start the lab without --with ${kind}, or install it`));
    await expect(requireTools(kind, async (t) => `/usr/sbin/${t}`)).resolves.toBeUndefined();
  });
});
