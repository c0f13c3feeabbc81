// update/handler.ts: the answer to an UPDATE before and after the zone manager, and the log line each refusal
// leaves (issue 12: our own keys are refused "with a clear log line").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { TandemZoneManager } from '../../../src/state/manager.js';
import { SignatureCache } from '../../../src/dnssec/cache.js';
import { Name } from '../../../src/dns/name.js';
import { RRClass, RRType, Rcode } from '../../../src/dns/types.js';
import { encodeMessage } from '../../../src/dns/writer.js';
import type { Rr } from '../../../src/dns/rr.js';
import type { TsigKey } from '../../../src/dns/tsig.js';
import { answerUpdate } from '../../../src/update/handler.js';
import { keyTag } from '../../../src/dnssec/keys.js';

const withPolicy = Name.fromText('p.test.');
const without = Name.fromText('np.test.');
const zoneText = (o: string, update: boolean) => `zone:
  soa: { mname: ns1.${o}, rname: h.${o}, serial: 1 }
  nameservers: [ns1.${o}]
  dnssec: { enabled: true, multi_signer: true }
${update ? '  update:\n    - { key: sync-key, allow: [{ name: "@", types: [DNSKEY, NS] }] }\n' : ''}records:
  ns1: { type: A, value: 192.0.2.1 }
`;
const syncKey: TsigKey = { name: Name.fromText('sync-key.'), algorithm: 'hmac-sha256', secret: new Uint8Array(32) };
const otherKey: TsigKey = { ...syncKey, name: Name.fromText('other-key.') };
const peer = { address: '192.0.2.9', port: 5353 };

let dir: string;
let manager: TandemZoneManager;
const lines: any[] = [];
const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-upd-handler-'));
  await mkdir(join(dir, 'zones'));
  await writeFile(join(dir, 'zones', 'p.test.yaml'), zoneText('p.test.', true));
  await writeFile(join(dir, 'zones', 'np.test.yaml'), zoneText('np.test.', false));
  await writeFile(join(dir, 'zones', 'sec.test.yaml'), 'zone:\n  secondary: { primaries: ["192.0.2.200"] }\n');
  ({ manager } = await TandemZoneManager.open({ zonesDir: join(dir, 'zones'), stateDir: join(dir, 'state'), clock: { now: () => Math.floor(Date.now() / 1000) }, logger: pino({ level: 'silent' }), cache: new SignatureCache() }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const msg = (zone: Name, updates: Rr[] = []) => encodeMessage({ id: 1, qr: false, opcode: 5, question: { name: zone, type: RRType.SOA, class: RRClass.IN }, authority: updates });
const answer = (m: Uint8Array, key: TsigKey | 'unsigned' = syncKey) => answerUpdate(m, key === 'unsigned' ? undefined : key, peer, { manager, logger });
const last = () => lines[lines.length - 1];

describe('answerUpdate', () => {
  it('RFC 2136 §3.1.2: a zone not served here is NOTAUTH; a name inside a zone is not its apex', async () => {
    expect(await answer(msg(Name.fromText('other.test.')))).toBe(Rcode.NOTAUTH);
    expect(await answer(msg(Name.fromText('www.p.test.')))).toBe(Rcode.NOTAUTH);
  });

  it('a served zone without zone.update is REFUSED, signed or not', async () => {
    expect(await answer(msg(without))).toBe(Rcode.REFUSED);
    expect(await answer(msg(without), 'unsigned')).toBe(Rcode.REFUSED);
    expect(last()).toMatchObject({ zone: 'np.test.', rcode: 'REFUSED', msg: 'UPDATE not applied' });
  });

  it('a secondary zone without forward_updates is REFUSED: its records come by transfer (RFC 2136 §6 forwarding is off)', async () => {
    expect(await answer(msg(Name.fromText('sec.test.')))).toBe(Rcode.REFUSED);
    expect(last().reason).toMatch(/secondary zone.*forwarding is off: zone\.secondary\.forward_updates/);
  });

  it('unsigned UPDATE to a zone with a policy is NOTAUTH; a key without a grant is REFUSED', async () => {
    expect(await answer(msg(withPolicy), 'unsigned')).toBe(Rcode.NOTAUTH);
    expect(await answer(msg(withPolicy), otherKey)).toBe(Rcode.REFUSED);
    expect(last().reason).toMatch(/key other-key\. has no zone.update grant/);
  });

  it('deleting our own key is REFUSED with a log line naming the key', async () => {
    const zid = manager.zoneByName(withPolicy)!.id;
    const zsk = manager.dnssec(zid).keys.find((k) => k.source === 'own' && k.flags === 256)!.dnskey;
    const r = await answer(msg(withPolicy, [{ name: withPolicy, type: RRType.DNSKEY, class: RRClass.NONE, ttl: 0, rdata: zsk }]));
    expect(r).toBe(Rcode.REFUSED);
    expect(last()).toMatchObject({ zone: 'p.test.', key: 'sync-key.', peer: '192.0.2.9#5353', rcode: 'REFUSED' });
    expect(last().reason).toBe(`delete DNSKEY ${keyTag(zsk)}: our own key (its private key is here); it stays while this server signs the zone`);
  });

  it('an applied update logs its changes and serial', async () => {
    const r = await answer(msg(withPolicy, [{ name: withPolicy, type: RRType.NS, class: RRClass.IN, ttl: 300, rdata: Name.fromText('ns.peer.net.').wire() }]));
    expect(r).toBe(Rcode.NOERROR);
    expect(last()).toMatchObject({ msg: 'UPDATE applied', rcode: 'NOERROR', changes: ['+p.test. NS'], serial: manager.version(withPolicy)!.serial });
  });
});
