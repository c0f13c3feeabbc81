// tandem as a test fixture, the way another project's test suite uses it: only the package's public exports,
// imported by the package name. README.md "Use tandem in your tests" shows this file.
import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFixture, type Fixture } from 'tandem';

let dns: Fixture;
const resolver = new Resolver({ timeout: 2000, tries: 1 });

beforeAll(async () => {
  dns = await startFixture({
    zones: {
      'example.test': `
zone:
  soa: { mname: ns1.example.test., rname: hostmaster.example.test. }
  nameservers: [ns1.example.test.]
  dnssec: { enabled: true }
records:
  ns1: { type: A, value: 127.0.0.1 }
  www: { type: A, values: [192.0.2.1, 192.0.2.2] }
`,
    },
  });
  resolver.setServers([`${dns.host}:${dns.port}`]); // the code under test asks tandem
});
afterAll(() => dns.close());

it('answers from the zone', async () => {
  expect((await resolver.resolve4('www.example.test')).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
});

it('serves a change at once', async () => {
  await dns.zone('example.test').setRecords({ name: 'www', type: 'A', value: '192.0.2.99' });
  expect(await resolver.resolve4('www.example.test')).toEqual(['192.0.2.99']);
});

it('gives the DS for the parent and the DNSKEY RRset', () => {
  const zone = dns.zone('example.test');
  expect(zone.ds()).toEqual([expect.stringMatching(/^example\.test\. 3600 IN DS \d+ 13 2 [0-9A-F]{64}$/)]);
  expect(zone.dnskeys()).toHaveLength(2); // KSK and ZSK
});
