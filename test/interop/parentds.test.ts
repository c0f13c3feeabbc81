// Cloudflare's DNSSEC states driven by the parent over DNS: tandem asks a server for the parent zone whether
// our DS is there (pending -> active), and whether it is gone (pending-disabled -> disabled). The parent here is
// a second tandem serving `test.` with a delegation to the child.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { checkParents } from '../../src/state/parentds.js';
import { Name } from '../../src/dns/name.js';

const child = Name.fromText('ms.test.');
let parent: TestServer;
let s: TestServer;

async function parentZones(ds: string | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-parent-'));
  const dsPart = ds ? `\n    - type: DS\n      value: '${ds.split(/\s+/).slice(4).join(' ')}'` : '';
  await writeFile(join(dir, 'test.yaml'), `zone:
  soa: { mname: ns1.test., rname: h.test. }
  nameservers: [ns1.test.]
records:
  ns1: { type: A, value: 127.0.0.1 }
  ms:
    - { type: NS, value: ns1.tandem.ms.test. }${dsPart}
`);
  return dir;
}

describe('parent DS check (pending -> active, pending-disabled -> disabled)', () => {
  beforeAll(async () => {
    s = await startTestServer({ zones: 'test/fixtures/multisigner' });
  });
  afterAll(async () => {
    await s?.stop();
    await parent?.stop();
  });

  it('pending while the parent has no DS for our KSK; active once it has', async () => {
    const m = s.server.manager;
    const id = m.zoneByName(child)!.id;
    parent = await startTestServer({ zones: await parentZones(undefined) });
    const log = pino({ level: 'silent' });
    expect(await checkParents(m, { host: parent.host, port: parent.port }, log)).toBe(0);
    expect(m.dnssec(id).status).toBe('pending');
    await parent.stop();
    parent = await startTestServer({ zones: await parentZones(m.dnssec(id).ds!.text) });
    expect(await checkParents(m, { host: parent.host, port: parent.port }, log)).toBe(1);
    expect(m.dnssec(id).status).toBe('active');
  });

  it('disabling stays pending-disabled while the DS is at the parent, and becomes disabled once it is gone', async () => {
    const m = s.server.manager;
    const id = m.zoneByName(child)!.id;
    const log = pino({ level: 'silent' });
    expect((await m.patchDnssec(id, { status: 'disabled' })).status).toBe('pending-disabled');
    expect(await checkParents(m, { host: parent.host, port: parent.port }, log)).toBe(0);
    expect(m.dnssec(id).status).toBe('pending-disabled');
    await parent.stop();
    parent = await startTestServer({ zones: await parentZones(undefined) });
    expect(await checkParents(m, { host: parent.host, port: parent.port }, log)).toBe(1);
    expect(m.dnssec(id).status).toBe('disabled');
  });
});
