// zone.sync (config/sync-settings.ts): the other signers key sync talks to (issue 12), parsed with located errors.
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseZoneFile } from '../../../src/config/zonefile.js';
import { describePeer } from '../../../src/config/sync-settings.js';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { FILE, HEADER, thrown } from './helpers.js';

const DNSSEC = '  dnssec: { enabled: true, multi_signer: true }\n';
const zone = (sync: string, extra = DNSSEC) => `${HEADER}${extra}  sync:\n${sync}records:\n  ns1: { type: A, value: 192.0.2.1 }\n`;
const parse = (sync: string, extra?: string) => parseZoneFile(FILE, zone(sync, extra)).config.sync;

describe('zone.sync', () => {
  it('the issue\'s interface: ddns with address and key, cloudflare with base_url, zone_id and token_env; defaults', () => {
    const peers = parse([
      '    - { name: knot, method: ddns, address: "192.0.2.1:53", key: sync-key }',
      '    - { name: cf, method: cloudflare, base_url: "https://cf.example/client/v4/", zone_id: abc, token_env: CF_TOKEN }',
      '    - { name: n1, method: ns1, token_file: /etc/tandem/ns1.key, ksk: true, interval: 10m }',
      '',
    ].join('\n'));
    expect(peers).toEqual([
      { name: 'knot', method: 'ddns', address: { host: '192.0.2.1', port: 53 }, key: 'sync-key', ksk: false, cds: true, pull: true, interval: 3600 },
      { name: 'cf', method: 'cloudflare', baseUrl: 'https://cf.example/client/v4', zoneId: 'abc', token: { env: 'CF_TOKEN' }, ksk: false, cds: true, pull: true, interval: 3600 },
      { name: 'n1', method: 'ns1', baseUrl: 'https://api.nsone.net/v1', token: { file: '/etc/tandem/ns1.key' }, ksk: true, cds: false, pull: true, interval: 600 },
    ]);
    expect(peers!.map(describePeer)).toEqual(['ddns 192.0.2.1:53 key sync-key', 'cloudflare https://cf.example/client/v4', 'ns1 https://api.nsone.net/v1']);
  });

  it('an address without a port is port 53; IPv6 in brackets', () => {
    expect(parse('    - { name: a, method: ddns, address: "192.0.2.1", key: k }\n')![0].address).toEqual({ host: '192.0.2.1', port: 53 });
    expect(parse('    - { name: a, method: ddns, address: "[2001:db8::1]:5300", key: k }\n')![0].address).toEqual({ host: '2001:db8::1', port: 5300 });
  });

  it('errors name the line and the rule', () => {
    expect(thrown(() => parse('    - { method: ddns, address: "192.0.2.1", key: k }\n')).message).toMatch(/example\.org\.yaml:6: .*each peer needs a name/);
    expect(thrown(() => parse('    - { name: a, method: axfr }\n')).message).toMatch(/method "axfr" is not one of ddns, cloudflare, ns1/);
    expect(thrown(() => parse('    - { name: a, method: ddns, key: k }\n')).message).toMatch(/method ddns needs address/);
    expect(thrown(() => parse('    - { name: a, method: ddns, address: "192.0.2.1" }\n')).message).toMatch(/needs key: .*unsigned UPDATE is not sent/);
    expect(thrown(() => parse('    - { name: a, method: ddns, address: "192.0.2.1", key: k, token_env: X }\n')).message).toMatch(/token_env is not used by method ddns/);
    expect(thrown(() => parse('    - { name: a, method: cloudflare }\n')).message).toMatch(/needs token_env: VARIABLE or token_file: PATH/);
    expect(thrown(() => parse('    - { name: a, method: cloudflare, token_env: A, token_file: /b }\n')).message).toMatch(/token_env or token_file, not both/);
    expect(thrown(() => parse('    - { name: a, method: cloudflare, token_env: A, base_url: "ftp://x" }\n')).message).toMatch(/base_url must be http\(s\)/);
    expect(thrown(() => parse('    - { name: a, method: ns1, token_env: A, cds: true }\n')).message).toMatch(/NS1 takes no CDS\/CDNSKEY/);
    expect(thrown(() => parse('    - { name: a, method: ns1, token_env: A, interval: 1s }\n')).message).toMatch(/interval must be a duration from 10s to 7d/);
    expect(thrown(() => parse('    - { name: "a b", method: ns1, token_env: A }\n')).message).toMatch(/1-64 letters, digits/);
    expect(thrown(() => parse('    - { name: a, method: ns1, token_env: A }\n    - { name: A, method: ns1, token_env: B }\n')).message).toMatch(/two peers named "A"/);
  });

  it('RFC 8901 model 2 only: a zone that is not signed, or not multi-signer, takes no sync', () => {
    expect(thrown(() => parse('    - { name: a, method: ns1, token_env: A }\n', '')).message).toMatch(/zone\.sync cannot be used here: the zone is not signed/);
    expect(thrown(() => parse('    - { name: a, method: ns1, token_env: A }\n', '  dnssec: { enabled: true }\n')).message).toMatch(/imported only with dnssec\.multi_signer: true/);
  });

  it('a zone whose ddns peer names a TSIG key the server config does not define is not loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-sync-cfg-'));
    try {
      await writeFile(join(dir, 'example.org.yaml'), zone('    - { name: knot, method: ddns, address: "192.0.2.1", key: missing-key }\n'));
      const { errors } = await TandemZoneManager.open({
        zonesDir: dir, stateDir: join(dir, 'state'), clock: { now: () => 1_700_000_000 }, logger: pino({ level: 'silent' }),
        cache: new SignatureCache(), knownKey: (k) => k === 'other-key',
      });
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/zone\.sync knot: TSIG key "missing-key" is not defined in the server config/)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
