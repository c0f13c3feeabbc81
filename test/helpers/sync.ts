// Key sync tests (issue 12): tandem's copy of the check zone (ms.test., test/fixtures/check) with key sync peers,
// and a parent: a second tandem serving `test.` with the delegation of ms.test., its DS records (TTL automatic: the zone's 2 s; added and removed
// through the parent's API), and DSYNC records (RFC 9859) naming itself as the NOTIFY(CDS)/NOTIFY(CSYNC) target.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { freePort } from './procs.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';
import { Name } from '../../src/dns/name.js';

export const SYNC_SECRET = 'c3luYy1rZXktc2VjcmV0LWZvci10aGUtc3luYy10ZXN0cyEh';
/** The TSIG key tandem and the peers share, as the peers' helpers take it and as tandem's config takes it. */
export const SYNC_KEY = { name: 'sync-key', algorithm: 'hmac-sha256', secret: SYNC_SECRET };
export const syncTsig = () => ({ name: Name.fromText('sync-key.'), algorithm: 'hmac-sha256' as const, secret: new Uint8Array(Buffer.from(SYNC_SECRET, 'base64')) });
const CHECK_FIXTURE = join(import.meta.dirname, '../fixtures/check/ms.test.yaml');

export interface SyncZoneOptions {
  /** The `zone.sync` list, YAML flow items (`{ name: knot, method: ddns, ... }`). */
  sync: string[];
  /** Our nameserver and the other provider's (served as an apex NS record with multi_provider on). */
  ours?: string;
  other?: string;
  dnskeyTtl?: number;
}

/** A zones folder with ms.test. as the check tests have it, multi-signer on, the other provider's NS, and `sync`. */
export async function syncZoneDir(o: SyncZoneOptions): Promise<string> {
  const ours = o.ours ?? 'ns1.tandem.ms.test.';
  const other = o.other ?? 'ns1.other.ms.test.';
  let text = (await readFile(CHECK_FIXTURE, 'utf8'))
    .replace('multi_signer: false', 'multi_signer: true')
    .replace('multi_provider: false', 'multi_provider: true')
    .replace('nameservers: [ns1.tandem.ms.test.]', `nameservers: [${ours}]`)
    .replace('mname: ns1.tandem.ms.test.', `mname: ${ours}`)
    .replace('dnskey_ttl: 300', `dnskey_ttl: ${o.dnskeyTtl ?? 300}`)
    .replace(/^records:\n/m, `records:\n  '': { type: NS, value: ${other} }\n`);
  if (o.sync.length) text = text.replace(/^zone:\n/m, `zone:\n  sync:\n${o.sync.map((s) => `    - ${s}`).join('\n')}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'tandem-sync-zones-'));
  await writeFile(join(dir, 'ms.test.yaml'), text);
  return dir;
}

export interface Parent {
  t: TestServer;
  host: string;
  port: number;
  zoneId: string;
  /** Publishes DS records (`ms.test. TTL IN DS ...` or RDATA text) at the delegation; TTL automatic (the zone's 2 s). */
  addDs(ds: string[]): Promise<void>;
  /** Removes the DS records whose key tag is `tag`. */
  removeDs(tag: number): Promise<void>;
  /** The generalized NOTIFYs it received for ms.test. */
  notifies(): { type: string; child: string; from: string }[];
  stop(): Promise<void>;
}

async function call(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${t.api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const j = await r.json() as { success: boolean; errors: unknown[]; result: any };
  expect(j.success, `${method} ${path}: ${JSON.stringify(j.errors)}`).toBe(true);
  return j.result;
}

export interface ParentOptions extends TestServerOptions {
  /** The DSYNC target's port (default: the parent's own DNS port, so it receives the NOTIFYs itself). */
  targetPort?: number;
  /** The DSYNC records (default: `_dsync` with CDS and CSYNC at the target); `{}` for none. */
  dsync?: { default?: string[]; child?: string[] };
}

/** The parent `test.`: unsigned, DS TTL 2, DSYNC CDS and CSYNC pointing at itself (notify.test. = 127.0.0.1). */
export async function startParent(opts: ParentOptions = {}): Promise<Parent> {
  const port = await freePort();
  const target = opts.targetPort ?? port;
  const dsync = opts.dsync ?? { default: [`CDS 1 ${target} notify.test.`, `CSYNC 1 ${target} notify.test.`] };
  const list = (v: string[]) => `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  const dir = await mkdtemp(join(tmpdir(), 'tandem-parent-zones-'));
  await writeFile(join(dir, 'test.yaml'), `zone:
  ttl: 2
  soa: { mname: ns1.test., rname: hostmaster.test., serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 2, ttl: 2 }
  nameservers: [ns1.test.]
records:
  ns1: { type: A, value: 127.0.0.1 }
  notify: { type: A, value: 127.0.0.1 }
${dsync.default ? `  _dsync: { type: DSYNC, values: ${list(dsync.default)} }\n` : ''}${dsync.child ? `  ms._dsync: { type: DSYNC, values: ${list(dsync.child)} }\n` : ''}  ms: { type: NS, value: ns1.tandem.ms.test. }
`);
  const t = await startTestServer({ ...opts, zones: dir, listen: [{ host: '127.0.0.1', port }] });
  const zoneId = ((await call(t, 'GET', '/zones?name=test')) as { id: string }[])[0].id;
  return {
    t, host: t.host, port: t.port, zoneId,
    async addDs(ds) {
      for (const d of ds) {
        const rdata = d.replace(/^.*\sDS\s+/, '').trim();
        await call(t, 'POST', `/zones/${zoneId}/dns_records`, { type: 'DS', name: 'ms.test', content: rdata, ttl: 1 });
      }
    },
    async removeDs(tag) {
      const recs = (await call(t, 'GET', `/zones/${zoneId}/dns_records?type=DS`)) as { id: string; content: string }[];
      for (const r of recs.filter((x) => Number(x.content.split(/\s+/)[0]) === tag)) await call(t, 'DELETE', `/zones/${zoneId}/dns_records/${r.id}`);
    },
    notifies: () => t.server.transfers.generalizedNotifies(Name.fromText('test.')).filter((n) => n.child === 'ms.test.'),
    stop: () => t.stop(),
  };
}
