// Key sync's rules on what it reads back from a ddns peer (update/sync/service.ts, ddns.ts), against a scripted
// peer: a TCP DNS server of the test that takes TSIG-signed UPDATEs (and records them) and answers the DNSKEY
// question with a real signed DNSKEY RRset (tandem B's), whole, short of our key, with a broken signature, or
// without TSIG. Each rule: the peer's keys are imported only when the RRset validates with its own keys and came
// TSIG-signed (RFC 8945 §5.3: the answer is the peer's); a peer that drops our key is a difference (RFC 8901 §3);
// our own key change starts a sync, and what of ours left is withdrawn at the peer.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_ZONE } from '../helpers/check-zone.js';
import { waitFor } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { syncTsig, syncZoneDir } from '../helpers/sync.js';
import { ask } from '../../src/lab/ask.js';
import { Name } from '../../src/dns/name.js';
import { readMessage } from '../../src/dns/reader.js';
import type { Rr } from '../../src/dns/rr.js';
import { Keyring, verifyRequest } from '../../src/dns/tsig.js';
import { Opcode, RRClass, RRType, Rcode } from '../../src/dns/types.js';
import { encodeMessage } from '../../src/dns/writer.js';
import type { SyncStatusView } from '../../src/update/sync/types.js';

const zone = Name.fromText(CHECK_ZONE);

type Mode = 'whole' | 'bad-signature' | 'unsigned-answer';

/** The scripted peer. `dnskey`: the RRset (and RRSIGs) it answers with; `updates`: every UPDATE's records. */
async function scriptedPeer(dnskey: Rr[]) {
  const keyring = new Keyring([syncTsig()]);
  const state = { mode: 'whole' as Mode, dnskey, updates: [] as Rr[][] };
  const answer = (wire: Uint8Array): Uint8Array | undefined => {
    const r = readMessage(wire);
    if (!r.ok) return undefined;
    const m = r.message;
    const now = Math.floor(Date.now() / 1000);
    const t = verifyRequest(wire, keyring, now, m);
    if (t.kind !== 'ok') return undefined;
    const q = m.question[0];
    let answerRrs: Rr[] = [];
    if (m.opcode === Opcode.UPDATE) state.updates.push(m.authority);
    else if (q.type === RRType.DNSKEY) {
      answerRrs = state.dnskey.map((rr) => {
        if (state.mode !== 'bad-signature' || rr.type !== RRType.RRSIG) return rr;
        const rdata = Uint8Array.from(rr.rdata);
        rdata[rdata.length - 1] ^= 1;
        return { ...rr, rdata };
      });
    }
    const reply = encodeMessage({ id: m.id, qr: true, opcode: m.opcode, aa: true, rcode: Rcode.NOERROR, question: { name: q.name, type: q.type, class: RRClass.IN }, answer: answerRrs });
    return state.mode === 'unsigned-answer' ? reply : t.signer.sign(reply, now);
  };
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const out = answer(new Uint8Array(buf.subarray(2, 2 + len)));
        buf = buf.subarray(2 + len);
        if (!out) { sock.destroy(); return; }
        const frame = Buffer.alloc(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        frame.set(out, 2);
        sock.write(frame);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('key sync: what is read back from a ddns peer', () => {
  let b: TestServer;
  let a: TestServer;
  let peer: Awaited<ReturnType<typeof scriptedPeer>>;
  let aId: string;
  let bKeys: Rr[];
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${a.api}/client/v4${path}`, { method, headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return ((await r.json()) as { result: any }).result;
  };
  const run = async (): Promise<SyncStatusView> => api('POST', `/zones/${aId}/tandem/sync`, {});
  const imported = async () => ((await api('GET', `/zones/${aId}/dns_records?type=DNSKEY`)) as unknown[]).length;

  beforeAll(async () => {
    // B: a signed copy of the zone whose DNSKEY RRset (with its RRSIGs) the scripted peer serves.
    b = await startTestServer({ zones: await syncZoneDir({ sync: [] }) });
    const got = await ask({ host: b.host, port: b.port }, zone, RRType.DNSKEY);
    if (!got.ok) throw new Error(got.reason);
    bKeys = got.message.answer;
    peer = await scriptedPeer(bKeys);
    peer.state.mode = 'unsigned-answer';
    a = await startTestServer({
      zones: await syncZoneDir({ sync: [`{ name: p, method: ddns, address: "127.0.0.1:${peer.port}", key: sync-key, interval: 10s }`] }),
      config: { tsig: [syncTsig()] },
    });
    aId = a.server.manager.zoneByName(zone)!.id;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), peer?.close()]);
  });

  it('RFC 8945 §5.3: an answer to the signed DNSKEY question that comes back without TSIG is not trusted; nothing imported', async () => {
    peer.state.mode = 'unsigned-answer';
    const s = await run();
    expect(s.peers[0].state).toBe('failing');
    expect(s.peers[0].lastPull).toMatchObject({ ok: false });
    expect(s.peers[0].lastPull?.error ?? s.peers[0].lastPush?.error).toMatch(/failed TSIG verification with key sync-key/);
    expect(await imported()).toBe(0);
  });

  it('RFC 4035 §5.3: a DNSKEY RRset whose signature does not verify with its own keys is not imported', async () => {
    peer.state.mode = 'bad-signature';
    const s = await run();
    expect(s.peers[0].state).toBe('failing');
    expect(s.peers[0].lastPull?.error).toMatch(/does not validate with its own keys/);
    expect(s.peers[0].differences.join('\n')).toMatch(/reading the peer's keys failed/);
    expect(await imported()).toBe(0);
  });

  it('RFC 8901 §3: a peer that takes the UPDATE but does not serve our ZSK is a difference; its own valid keys are imported', async () => {
    peer.state.mode = 'whole';
    const before = peer.state.updates.length;
    const s = await run();
    expect(peer.state.updates.length).toBe(before + 1);
    // The UPDATE: our ZSK, CDS and CDNSKEY added at the apex (class IN).
    expect(peer.state.updates.at(-1)!.map((rr) => [rr.type, rr.class])).toEqual([[RRType.DNSKEY, RRClass.IN], [RRType.CDS, RRClass.IN], [RRType.CDNSKEY, RRClass.IN]]);
    expect(s.peers[0].state).toBe('differs');
    expect(s.peers[0].differences).toEqual([expect.stringMatching(/^the peer does not serve our ZSK \d+ \(it answered the UPDATE, but its DNSKEY RRset lacks the key\)$/)]);
    expect(s.peers[0].lastPull?.validated).toMatch(/^TSIG; signed by its key \d+/);
    expect(await imported()).toBe(2);
  });

  it('once the peer serves our ZSK, the peer and we are in sync', async () => {
    const ours = peer.state.updates.at(-1)!.find((rr) => rr.type === RRType.DNSKEY)!;
    // B's RRSIGs do not cover our key: the scripted peer keeps them and serves our key beside B's (as signed by B,
    // re-signed here by asking B after importing our key into it).
    const res = await fetch(`${b.api}/client/v4/zones/${b.server.manager.zoneByName(zone)!.id}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'DNSKEY', name: 'ms.test', ttl: 300, data: dnskeyData(ours.rdata) }),
    });
    expect(res.status).toBe(200);
    const got = await ask({ host: b.host, port: b.port }, zone, RRType.DNSKEY);
    if (!got.ok) throw new Error(got.reason);
    peer.state.dnskey = got.message.answer;
    const s = await run();
    expect(s.peers[0].state).toBe('in sync');
    expect(s.peers[0].differences).toEqual([]);
    expect(s.peers[0].theirKeys.filter((k) => k.ours)).toHaveLength(1);
    // B's two keys imported, ours not imported back.
    expect(await imported()).toBe(2);
  });

  it('our own key change starts a sync by itself: DNSSEC going off drops our CDS/CDNSKEY, and they are withdrawn at the peer (RFC 2136 §2.5.4)', async () => {
    const before = peer.state.updates.length;
    await api('PATCH', `/zones/${aId}/dnssec`, { status: 'disabled' });
    // No `tandem sync run`: the new version's CDS no longer lists our KSK (RFC 8078 §4 delete form instead).
    const update = await waitFor(() => peer.state.updates.slice(before).find((u) => u.some((rr) => rr.class === RRClass.NONE)), 10_000, { what: 'an UPDATE withdrawing our CDS' });
    expect(update.filter((rr) => rr.class === RRClass.NONE).map((rr) => [rr.type, rr.ttl])).toEqual([[RRType.CDS, 0], [RRType.CDNSKEY, 0]]);
    expect(update.filter((rr) => rr.class === RRClass.IN).map((rr) => rr.type)).toEqual([RRType.DNSKEY]);
    const s = await api('GET', `/zones/${aId}/tandem/sync`) as SyncStatusView;
    expect(s.peers[0].published.map((k) => k.type)).toEqual(['DNSKEY']);
  });

  it('on a timer: with nothing asking, the peer is synced again after its interval (10 s here)', async () => {
    const before = peer.state.updates.length;
    const started = Date.now();
    await waitFor(() => peer.state.updates.length > before || undefined, 25_000, { what: 'a sync on the timer', intervalMs: 250 });
    expect(Date.now() - started).toBeGreaterThan(5000);
  }, 30_000);
});

function dnskeyData(rdata: Uint8Array) {
  return { flags: (rdata[0] << 8) | rdata[1], protocol: rdata[2], algorithm: rdata[3], public_key: Buffer.from(rdata.subarray(4)).toString('base64') };
}

describe('key sync: a peer that differs is looked at again soon, not only after its interval', () => {
  let b: TestServer;
  let a: TestServer;
  let peer: Awaited<ReturnType<typeof scriptedPeer>>;
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), peer?.close()]);
  });

  it('with a one-hour interval, a peer that lacked our ZSK at start is synced again on the failure backoff (30 s) and is then in sync', async () => {
    b = await startTestServer({ zones: await syncZoneDir({ sync: [] }) });
    const got = await ask({ host: b.host, port: b.port }, zone, RRType.DNSKEY);
    if (!got.ok) throw new Error(got.reason);
    peer = await scriptedPeer(got.message.answer);
    peer.state.mode = 'whole';
    a = await startTestServer({
      zones: await syncZoneDir({ sync: [`{ name: p, method: ddns, address: "127.0.0.1:${peer.port}", key: sync-key, interval: 1h }`] }),
      config: { tsig: [syncTsig()] },
    });
    const aId = a.server.manager.zoneByName(zone)!.id;
    const status = async () => {
      const r = await fetch(`${a.api}/client/v4/zones/${aId}/tandem/sync`, { headers: { authorization: `Bearer ${a.token}` } });
      return ((await r.json()) as { result: SyncStatusView }).result;
    };
    // The sync at start: the peer takes the UPDATE but does not serve our key (RFC 8901 §3: a difference).
    await waitFor(async () => ((await status()).peers[0]?.state === 'differs') || undefined, 20_000, { what: 'the first sync (differs)', intervalMs: 250 });
    const pushes = peer.state.updates.length;
    // The peer now serves our ZSK (signed by B, which imports it), with nobody asking tandem to sync.
    const ours = peer.state.updates.at(-1)!.find((rr) => rr.type === RRType.DNSKEY)!;
    const res = await fetch(`${b.api}/client/v4/zones/${b.server.manager.zoneByName(zone)!.id}/dns_records`, {
      method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'DNSKEY', name: CHECK_ZONE, ttl: 300, data: dnskeyData(ours.rdata) }),
    });
    expect(res.status).toBe(200);
    const again = await ask({ host: b.host, port: b.port }, zone, RRType.DNSKEY);
    if (!again.ok) throw new Error(again.reason);
    peer.state.dnskey = again.message.answer;
    const s = await waitFor(async () => {
      const st = await status();
      return st.peers[0]?.state === 'in sync' ? st : undefined;
    }, 60_000, { what: 'the retry after a difference', intervalMs: 500 });
    expect(peer.state.updates.length).toBeGreaterThan(pushes);
    expect(s.peers[0].differences).toEqual([]);
  }, 120_000);
});
