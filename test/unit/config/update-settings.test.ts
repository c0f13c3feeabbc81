// zone.update (config/update-settings.ts): the BIND update-policy-like grants of RFC 2136 UPDATE, parsed with
// located errors; a zone naming a TSIG key the server config lacks is not loaded (state/manager.ts checkKeys).
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseZoneFile } from '../../../src/config/zonefile.js';
import { describeRule } from '../../../src/config/update-settings.js';
import { RRType } from '../../../src/dns/types.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { FILE, HEADER, thrown } from './helpers.js';

const zone = (update: string, extra = '') => `${HEADER}${extra}  update:\n${update}records:\n  ns1: { type: A, value: 192.0.2.1 }\n`;
const parse = (update: string, extra = '') => parseZoneFile(FILE, zone(update, extra)).config.update;

describe('zone.update', () => {
  it('the issue\'s interface: a key and its rules, types as numbers', () => {
    const g = parse('    - key: sync-key\n      allow: [{ name: "@", types: [DNSKEY, CDS, CDNSKEY, NS, CSYNC] }]\n');
    expect(g).toEqual([{ key: 'sync-key', allow: [{ name: 'example.org.', match: 'exact', types: [RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY, RRType.NS, RRType.CSYNC] }] }]);
  });

  it('relative and absolute names, *.NAME (strictly below), subdomain: true, ANY', () => {
    const g = parse([
      '    - key: hosts',
      '      allow:',
      '        - { name: www, types: [A, AAAA] }',
      '        - { name: "*.dyn", types: [ANY] }',
      '        - { name: lab.example.org., subdomain: true, types: TXT }',
      '',
    ].join('\n'))!;
    expect(g[0].allow.map(describeRule)).toEqual(['www.example.org. A,AAAA', '*.dyn.example.org. ANY', 'lab.example.org. and below TXT']);
  });

  it('errors name the line and the rule', () => {
    expect(thrown(() => parse('    - allow: [{ name: "@", types: [NS] }]\n')).message).toMatch(/example\.org\.yaml:5: .*needs key/);
    expect(thrown(() => parse('    - key: k\n      allow: [{ name: other.net., types: [NS] }]\n')).message).toMatch(/not in the zone example\.org\./);
    expect(thrown(() => parse('    - key: k\n      allow: [{ name: "@", types: [NOPE] }]\n')).message).toMatch(/"NOPE" is not a record type/);
    expect(thrown(() => parse('    - key: k\n      allow: [{ name: "@", typs: [NS] }]\n')).message).toMatch(/unknown key "typs"/);
    expect(thrown(() => parse('    - key: k\n      allow: [{ name: "*.x", subdomain: true, types: [A] }]\n')).message).toMatch(/subdomain does not combine/);
  });

  it('not with a secondary zone: UPDATE goes to its primary', () => {
    const text = `zone:\n  secondary: { primaries: ["192.0.2.1"] }\n  update:\n    - { key: k, allow: [{ name: "@", types: [NS] }] }\n`;
    expect(thrown(() => parseZoneFile(FILE, text)).message).toMatch(/zone.update cannot be used with zone.secondary/);
  });

  it('a zone naming a key that the server config does not define is not loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-upd-cfg-'));
    try {
      await writeFile(join(dir, 'example.org.yaml'), zone('    - key: missing-key\n      allow: [{ name: "@", types: [NS] }]\n'));
      const { errors } = await TandemZoneManager.open({
        zonesDir: dir, stateDir: join(dir, 'state'), clock: { now: () => 1_700_000_000 }, logger: pino({ level: 'silent' }),
        cache: new SignatureCache(), knownKey: (k) => k === 'other-key',
      });
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/zone\.update: TSIG key "missing-key" is not defined in the server config/)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
