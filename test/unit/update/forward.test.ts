// update/forward.ts: whether a secondary zone's UPDATE is forwarded (zone.secondary.forward_updates), and the
// relay itself against loopback TCP servers standing in for primaries: the bytes go unchanged, the answer comes
// back unchanged, primaries that are down, silent or answer something else are passed over, every wait bounded.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { parseZoneFile } from '../../../src/config/zonefile.js';
import type { SecondaryConfig } from '../../../src/config/transfer-settings.js';
import { Name } from '../../../src/dns/name.js';
import { Opcode, RRClass, RRType, Rcode } from '../../../src/dns/types.js';
import { encodeMessage } from '../../../src/dns/writer.js';
import { signRequest } from '../../../src/dns/tsig.js';
import { forwarding, forwardUpdate, mismatch } from '../../../src/update/forward.js';
import { freePort } from '../../helpers/procs.js';
import { thrown } from '../config/helpers.js';

const FILE = 'zones/sec.test.yaml';
const secondary = (forward: string): SecondaryConfig =>
  parseZoneFile(FILE, `zone:\n  secondary:\n    primaries: ["192.0.2.1"]\n${forward}`).config.secondary!;

describe('zone.secondary.forward_updates', () => {
  it('is off by default: an UPDATE is REFUSED with a reason naming the setting (RFC 2136 §3.3)', () => {
    const sec = secondary('');
    expect(sec.forwardUpdates).toBeUndefined();
    const f = forwarding(sec, '192.0.2.9');
    expect(f).toEqual({ ok: false, reason: expect.stringMatching(/forwarding is off: zone\.secondary\.forward_updates/) });
    expect(secondary('    forward_updates: false\n').forwardUpdates).toBeUndefined();
  });

  it('true forwards every client\'s UPDATE (the primary decides, RFC 2136 §6)', () => {
    const sec = secondary('    forward_updates: true\n');
    expect(sec.forwardUpdates).toEqual({ allow: [] });
    expect(forwarding(sec, '198.51.100.7').ok).toBe(true);
    expect(forwarding(sec, '2001:db8::1').ok).toBe(true);
  });

  it('an allow list forwards only clients inside its prefixes (IPv4-mapped addresses count as IPv4)', () => {
    const sec = secondary('    forward_updates: { allow: [192.0.2.0/24, "2001:db8::/32", 198.51.100.7] }\n');
    expect(sec.forwardUpdates!.allow.map((p) => p.text)).toEqual(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']);
    for (const a of ['192.0.2.200', '::ffff:192.0.2.1', '2001:db8:1::5', '198.51.100.7']) expect(forwarding(sec, a).ok, a).toBe(true);
    for (const a of ['192.0.3.1', '198.51.100.8', '2001:db9::1']) {
      expect(forwarding(sec, a), a).toEqual({ ok: false, reason: 'the client is not in zone.secondary.forward_updates.allow' });
    }
  });

  it('bad values are errors with their line', () => {
    expect(thrown(() => secondary('    forward_updates: yes-please\n')).message).toBe('zones/sec.test.yaml:4: zone.secondary.forward_updates must be true or false, not "yes-please"');
    expect(thrown(() => secondary('    forward_updates: { allow: [192.0.2.0/33] }\n')).message).toMatch(/^zones\/sec\.test\.yaml:4: zone\.secondary\.forward_updates\.allow address "192\.0\.2\.0\/33" is not an address or prefix/);
    expect(thrown(() => secondary('    forward_updates: { alow: [] }\n')).message).toMatch(/:4: unknown key "alow" in zone\.secondary\.forward_updates \(allowed: allow\)/);
  });
});

// ---- the relay ------------------------------------------------------------------------------------

const zone = Name.fromText('sec.test.');
const key = { name: Name.fromText('client-key.'), algorithm: 'hmac-sha256' as const, secret: new Uint8Array(32).fill(7) };
const update = (id: number) => signRequest(encodeMessage({ id, qr: false, opcode: Opcode.UPDATE, question: { name: zone, type: RRType.SOA, class: RRClass.IN } }), key, 1_700_000_000).wire;
const clock = { now: () => 1_700_000_000 };

type Behaviour = (req: Uint8Array, sock: net.Socket) => void;
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.close(r); for (const c of (s as any).conns ?? []) c.destroy(); })));
});

/** A TCP DNS server on loopback that hands each framed request to `behave`; `got` collects the requests. */
async function primary(behave: Behaviour): Promise<{ port: number; got: Uint8Array[] }> {
  const got: Uint8Array[] = [];
  const conns: net.Socket[] = [];
  const srv = net.createServer((sock) => {
    conns.push(sock);
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const req = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        got.push(req);
        behave(req, sock);
      }
    });
    sock.on('error', () => undefined);
  });
  (srv as any).conns = conns;
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, got };
}

const frame = (m: Uint8Array) => { const b = Buffer.alloc(2 + m.length); b.writeUInt16BE(m.length); b.set(m, 2); return b; };
/** An answer as a primary makes it: the request's header with QR and `rcode`, the zone section, and a made-up trailer (its TSIG). */
const answerTo = (req: Uint8Array, rcode: number, trailer = new Uint8Array([0xde, 0xad])) => {
  const a = new Uint8Array([...req.subarray(0, 12), ...req.subarray(12, 12 + zone.wire.length + 4), ...trailer]);
  a[2] = 0x80 | (Opcode.UPDATE << 3);
  a[3] = rcode;
  a[6] = a[7] = a[8] = a[9] = a[10] = a[11] = 0;
  return a;
};

describe('forwardUpdate', () => {
  it('RFC 2136 §6 + RFC 8945 §5.3: the message reaches the primary byte for byte (TSIG kept), and its answer comes back unchanged', async () => {
    const p = await primary((req, sock) => sock.write(frame(answerTo(req, Rcode.NOTAUTH))));
    const msg = update(0x4242);
    const r = await forwardUpdate(msg, [{ host: '127.0.0.1', port: p.port }], { clock });
    expect(Buffer.from(p.got[0]).equals(Buffer.from(msg))).toBe(true);
    expect(r).toEqual({ ok: true, answer: answerTo(msg, Rcode.NOTAUTH), primary: `127.0.0.1:${p.port}`, rcode: Rcode.NOTAUTH });
  });

  it('a primary that refuses the connection is passed over: the next one answers', async () => {
    const down = await freePort();
    const p = await primary((req, sock) => sock.write(frame(answerTo(req, Rcode.NOERROR))));
    const r = await forwardUpdate(update(7), [{ host: '127.0.0.1', port: down }, { host: '127.0.0.1', port: p.port }], { clock });
    expect(r.ok && r.primary).toBe(`127.0.0.1:${p.port}`);
    expect(r.ok && r.rcode).toBe(Rcode.NOERROR);
  });

  it('silent primaries and answers of another ID are passed over; none left: every primary named, within the bound', async () => {
    const silent = await primary(() => undefined);
    const wrongId = await primary((req, sock) => { const a = answerTo(req, Rcode.NOERROR); a[0] ^= 0xff; sock.write(frame(a)); });
    const closes = await primary((_req, sock) => sock.destroy());
    const started = Date.now();
    const r = await forwardUpdate(update(9), [silent, wrongId, closes].map((s) => ({ host: '127.0.0.1', port: s.port })), { clock, timeoutMs: 400, totalMs: 1200 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.tried.map((t) => t.primary)).toEqual([silent, wrongId, closes].map((s) => `127.0.0.1:${s.port}`));
    expect(r.tried[0].reason).toMatch(/sent nothing for 400 ms|took longer than 400 ms/);
    expect(r.tried[1].reason).toBe('answer with another message ID');
    expect(r.tried[2].reason).toMatch(/closed the connection/);
  });

  it('the answer check: ID, QR and opcode UPDATE; nothing else is read', () => {
    const msg = update(0x1234);
    expect(mismatch(answerTo(msg, Rcode.REFUSED), 0x1234)).toBeUndefined();
    expect(mismatch(msg, 0x1234)).toBe('answer is not an UPDATE response (QR or opcode)');
    const query = answerTo(msg, 0);
    query[2] = 0x80; // opcode QUERY
    expect(mismatch(query, 0x1234)).toMatch(/not an UPDATE response/);
    expect(mismatch(new Uint8Array(5), 0)).toMatch(/shorter than a DNS header/);
  });
});
