// tandem as one provider of an RFC 8901 model-2 zone in tests: its admin API calls for turning multi-signer on,
// importing the other provider's keys, and its own key files as the other provider receives them. Shared by the
// multi-signer interop tests and the checker's (`tandem check`) tests.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TestServer } from './server.js';

/** The test zone both providers serve (test/fixtures/multisigner holds tandem's copy). */
export const MS_ZONE = 'ms.test.';
/** Knot's copy of the zone (the same records; its own SOA MNAME). */
export const MS_KNOT_ZONE = `$TTL 300
@          IN SOA ns1.knot.ms.test. hostmaster.ms.test. 1 3600 600 86400 300
@          IN NS  ns1.knot.ms.test.
@          IN NS  ns1.tandem.ms.test.
ns1.tandem IN A   127.0.0.1
ns1.knot   IN A   127.0.0.1
www        IN A   192.0.2.1
mail       IN MX  10 www.ms.test.
a.b        IN TXT "deep"
`;

export async function api(s: TestServer, method: string, path: string, body?: unknown): Promise<{ success: boolean; result: any; errors: { code: number; message: string }[] }> {
  const r = await fetch(`${s.api}/client/v4${path}`, {
    method,
    headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await r.json()) as never;
}

export async function zoneIdOf(s: TestServer, zone = MS_ZONE): Promise<string> {
  return (await api(s, 'GET', `/zones?name=${zone.slice(0, -1)}`)).result[0].id as string;
}

/** tandem's own key files (BIND format) from its state folder, as another provider would receive them. */
export async function tandemKeyFiles(s: TestServer, zone = MS_ZONE): Promise<string[]> {
  const dir = join(s.stateDir, 'keys', zone.slice(0, -1));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.key'));
  return Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
}

/** DNSSEC active with multi-signer, the other provider's NS added and multi_provider on; returns the zone id. */
export async function enableMultiSigner(s: TestServer, otherNs: string, zone = MS_ZONE): Promise<string> {
  const id = await zoneIdOf(s, zone);
  const on = await api(s, 'PATCH', `/zones/${id}/dnssec`, { status: 'active', dnssec_multi_signer: true });
  expect(on.success, JSON.stringify(on.errors)).toBe(true);
  const ns = await api(s, 'POST', `/zones/${id}/dns_records`, { type: 'NS', name: zone.slice(0, -1), content: otherNs, ttl: 300 });
  expect(ns.success, JSON.stringify(ns.errors)).toBe(true);
  const mp = await api(s, 'PATCH', `/zones/${id}/dns_settings`, { multi_provider: true });
  expect(mp.success).toBe(true);
  return id;
}

/** Imports DNSKEY RRs (`owner ttl IN DNSKEY flags 3 13 key`) into tandem through the API; returns record ids. */
export async function importKeys(s: TestServer, id: string, dnskeys: string[], zone = MS_ZONE): Promise<string[]> {
  const ids: string[] = [];
  for (const rr of dnskeys) {
    const [flags, protocol, algorithm, ...key] = rr.replace(/^.*DNSKEY\s+/, '').split(/\s+/);
    const r = await api(s, 'POST', `/zones/${id}/dns_records`, {
      type: 'DNSKEY', name: zone.slice(0, -1), ttl: 300,
      data: { flags: Number(flags), protocol: Number(protocol), algorithm: Number(algorithm), public_key: key.join('') },
    });
    expect(r.success, JSON.stringify(r.errors)).toBe(true);
    ids.push(r.result.id);
  }
  return ids;
}
