// `tandem rollover` and the tandem/rollover routes against a real server (in this process, loopback): start
// publishes the new key at once and status says what the step waits for; a second start is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCommand, type AdminIo } from '../../src/cli/admin.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { api, zoneIdOf } from '../helpers/multisigner.js';
import { dig } from '../helpers/dig.js';

describe('tandem rollover (CLI and admin API)', () => {
  let s: TestServer;
  let out = '';
  let err = '';
  let io: AdminIo;
  beforeAll(async () => {
    s = await startTestServer({ config: { rolloverInterval: 1 } });
    io = { out: (t) => { out += t; }, err: (t) => { err += t; }, env: { TANDEM_API: s.api, TANDEM_TOKEN: s.token } };
  }, 30_000);
  afterAll(async () => { await s?.stop(); });
  const run = async (...argv: string[]) => {
    out = ''; err = '';
    return runAdminCommand('rollover', argv, io);
  };

  it('status before any rollover says so; GET answers null', async () => {
    expect(await run('status', 'example.com')).toBe(0);
    expect(out).toBe('example.com: no key rollover yet\n');
    expect((await api(s, 'GET', `/zones/${await zoneIdOf(s, 'example.com.')}/tandem/rollover`)).result).toBeNull();
  });

  it('start --zsk publishes a third key at once and prints the step, what it waits for and the operator\'s part', async () => {
    const before = (await dig({ host: s.host, port: s.port }, ['+norec', 'example.com', 'DNSKEY'])).answer.filter((r) => r.type === 'DNSKEY');
    expect(await run('start', 'example.com', '--provider', '127.0.0.1:9')).toBe(0);
    expect(out).toMatch(/^example\.com\. ZSK rollover \d+ -> \d+: step publish/);
    expect(out).toContain('waiting for: every provider to publish ZSK');
    expect(out).toMatch(/to do: publish the new ZSK at every other provider: example\.com\. \d+ IN DNSKEY 256 3 13 /);
    const after = (await dig({ host: s.host, port: s.port }, ['+norec', 'example.com', 'DNSKEY'])).answer.filter((r) => r.type === 'DNSKEY');
    expect(after.length).toBe(before.length + 1);
  });

  it('status names the provider that lacks the key (a closed port: the rollover waits)', async () => {
    const id = await zoneIdOf(s, 'example.com.');
    const seen = async () => (await api(s, 'GET', `/zones/${id}/tandem/rollover`)).result.seen as { provider: string; error?: string }[];
    for (let i = 0; i < 50 && (await seen()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await run('status', 'example.com')).toBe(0);
    expect(out).toContain('seen 127.0.0.1:9: error');
    expect(out).toContain('step publish');
  });

  it('a second start is refused while one is in progress; --zsk with --ksk is a usage error', async () => {
    expect(await run('start', 'example.com', '--ksk')).toBe(1);
    expect(err).toContain('rollover in progress');
    expect(await run('start', 'example.com', '--zsk', '--ksk')).toBe(2);
  });
});
