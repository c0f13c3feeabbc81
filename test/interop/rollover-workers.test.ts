// A ZSK rollover with `tandem serve --workers 2`: the primary runs it (rollover-interval from the config file), and
// every step is served by every worker at once (they re-read the zone and its key files when the primary changes
// it). Each check asks several times, so both workers answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServeProcess } from '../helpers/cli.js';
import { dig } from '../helpers/dig.js';
import { freePort, waitFor } from '../helpers/procs.js';

let dir: string;
let p: ServeProcess;
let api: string;
let port: number;
const token = 'rollover-workers-' + Math.random().toString(36).slice(2);
const call = async (method: string, path: string, body?: unknown) =>
  ((await (await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })).json()) as any);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-rollover-workers-'));
  await mkdir(join(dir, 'zones'));
  port = await freePort();
  await writeFile(join(dir, 'zones', 'rw.test.yaml'), `zone:
  ttl: 2
  soa: { mname: ns1.rw.test., rname: hostmaster.rw.test., serial: 1, minimum: 2, ttl: 2 }
  nameservers: [ns1.rw.test.]
  ns_ttl: 2
  dnssec: { enabled: true, dnskey_ttl: 2 }
records:
  ns1: { type: A, value: 127.0.0.1 }
  www: { type: A, value: 192.0.2.1 }
`);
  await writeFile(join(dir, 'config.yaml'), 'rollover-interval: 1\n');
  p = await serve(['--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`, '--zones', join(dir, 'zones'), '--state', join(dir, 'state'), '--workers', '2', '--api-token', token], {}, 60_000);
  api = `http://${/"api":"([^"]+)"/.exec(p.logs())![1]}/client/v4`;
}, 90_000);
afterAll(async () => {
  if (p?.child.exitCode === null) p.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** What every answer of ten says: the DNSKEY tags served and the key tag of www's RRSIG. */
async function served(): Promise<{ keys: Set<string>; signers: Set<number> }> {
  const keys = new Set<string>(), signers = new Set<number>();
  for (let i = 0; i < 10; i++) {
    const k = await dig({ host: '127.0.0.1', port }, ['+norec', 'rw.test', 'DNSKEY']);
    keys.add(k.answer.filter((r) => r.type === 'DNSKEY').map((r) => r.data.split(/\s+/)[0]).sort().join(' '));
    const a = await dig({ host: '127.0.0.1', port }, ['+norec', '+dnssec', 'www.rw.test', 'A']);
    for (const r of a.answer.filter((x) => x.type === 'RRSIG')) signers.add(Number(r.data.split(/\s+/)[6]));
  }
  return { keys, signers };
}

describe('ZSK rollover with --workers 2', () => {
  it('RFC 6781 §4.1.1.1: every worker publishes the new ZSK, then signs with it, then drops the old one', async () => {
    const id = (await call('GET', '/zones?name=rw.test')).result[0].id as string;
    const start = await call('POST', `/zones/${id}/tandem/rollover`, { kind: 'zsk', providers: [`127.0.0.1:${port}`] });
    expect(start.success, JSON.stringify(start.errors)).toBe(true);
    const { old_key_tag: oldTag, new_key_tag: newTag } = start.result;
    let s = await served();
    expect([...s.keys]).toEqual(['256 256 257']);
    expect([...s.signers]).toEqual([oldTag]);
    await waitFor(async () => (await call('GET', `/zones/${id}/tandem/rollover`)).result.step === 'done' || undefined, 45_000, { what: 'the rollover to finish', intervalMs: 300 });
    s = await served();
    expect([...s.keys]).toEqual(['256 257']);
    expect([...s.signers]).toEqual([newTag]);
  }, 90_000);
});
