// TSIG on the request path (server/tsig.ts, handle.ts): a signed query gets a signed answer that is never cached;
// BADKEY, BADSIG and BADTIME are NOTAUTH with the TSIG error (RFC 8945 §5.2, §5.3.2); a misplaced TSIG is FORMERR
// (§5.1); a UDP answer that does not fit with its TSIG is truncated, and still signed.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/writer.js';
import { Name } from '../../../src/dns/name.js';
import { readMessage, type Message } from '../../../src/dns/reader.js';
import { Opcode, Rcode, RRType } from '../../../src/dns/types.js';
import { generateSecret, Keyring, signRequest, TsigError, type TsigKey } from '../../../src/dns/tsig.js';
import { createHandler } from '../../../src/server/handle.js';
import { cacheKey, ResponseCache } from '../../../src/server/respcache.js';
import { tsigCheck } from '../../../src/server/tsig.js';
import { useExampleManager } from '../../helpers/manager.js';

const logger = pino({ level: 'silent' });
const T0 = 1_800_000_000;
const ex = useExampleManager(T0);
const clock = ex.clock;

const key: TsigKey = { name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: generateSecret('hmac-sha256') };
const setup = () => {
  const cache = new ResponseCache();
  const h = createHandler(() => ex.manager.served(), logger, { clock, cache, tsig: new Keyring([key]) });
  // Queries are answered with one message (streams are zone transfers).
  const handler = Object.assign((m: Uint8Array, t: 'udp' | 'tcp') => h(m, t) as Promise<Uint8Array | null>, { cached: h.cached });
  return { cache, handler };
};
const q = (name: string, type: number = RRType.A, o: Parameters<typeof encodeQuery>[2] = {}) => encodeQuery(Name.fromText(name), type, { id: 99, udpSize: 1232, ...o });
function read(wire: Uint8Array | null): Message {
  if (!wire) throw new Error('no answer');
  const r = readMessage(wire);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

describe('signed queries (RFC 8945 §5.2, §5.3)', () => {
  it('§4.3.2: a signed query gets the normal answer, signed over the request MAC; never from or into the cache', async () => {
    const { cache, handler } = setup();
    for (let i = 0; i < 2; i++) {
      const req = signRequest(q('www.example.com.', RRType.A, { do: true }), key, T0 + i);
      expect(handler.cached(req.wire, 'udp')).toBeUndefined();
      const wire = await handler(req.wire, 'udp');
      const m = read(wire);
      expect([m.rcode, m.aa, m.id]).toEqual([Rcode.NOERROR, true, 99]);
      expect(m.answer.some((r) => r.type === RRType.A)).toBe(true);
      expect(m.answer.some((r) => r.type === RRType.RRSIG)).toBe(true);
      expect(req.verifier.verify(wire!, T0 + i)).toEqual({ ok: true, signed: true });
    }
    expect(cache.stats.stores).toBe(0);
    expect(cache.size).toBe(0);
    // An unsigned query is cached as before, and the cached answer is never handed to a signed one.
    await handler(q('www.example.com.', RRType.A, { do: true }), 'udp');
    expect(cache.size).toBe(1);
    const req = signRequest(q('www.example.com.', RRType.A, { do: true }), key, T0);
    expect(handler.cached(req.wire, 'udp')).toBeUndefined();
    expect(read(await handler(req.wire, 'udp')).tsig).toBeDefined();
  });

  it('respcache: a query with a TSIG has no cache key, with or without an OPT', () => {
    const limit = () => 1232;
    expect(cacheKey(q('www.example.com.'), limit)).toBeDefined();
    expect(cacheKey(signRequest(q('www.example.com.'), key, T0).wire, limit)).toBeUndefined();
    expect(cacheKey(signRequest(q('www.example.com.', RRType.A, { edns: false }), key, T0).wire, limit)).toBeUndefined();
    const rootKey = { ...key, name: Name.ROOT };
    expect(cacheKey(signRequest(q('www.example.com.', RRType.A, { edns: false }), rootKey, T0).wire, limit)).toBeUndefined();
  });

  it('§5.2.1: an unknown key is NOTAUTH with TSIG error BADKEY and an empty MAC', async () => {
    const { handler } = setup();
    const stranger = { ...key, name: Name.fromText('nobody.') };
    const m = read(await handler(signRequest(q('www.example.com.'), stranger, T0).wire, 'udp'));
    expect(m.rcode).toBe(Rcode.NOTAUTH);
    expect(m.question[0].name.toString()).toBe('www.example.com.');
    expect(m.answer).toEqual([]);
    expect([m.tsig?.error, m.tsig?.mac.length, m.tsig?.name.toString()]).toEqual([TsigError.BADKEY, 0, 'nobody.']);
  });

  it('§5.2.1: a server without keys answers a signed query BADKEY (no unsigned answer)', async () => {
    const handler = createHandler(() => ex.manager.served(), logger, { clock, cache: false });
    const m = read((await handler(signRequest(q('www.example.com.'), key, T0).wire, 'tcp')) as Uint8Array | null);
    expect([m.rcode, m.tsig?.error]).toEqual([Rcode.NOTAUTH, TsigError.BADKEY]);
  });

  it('§5.2.2: a wrong secret is NOTAUTH with BADSIG and an empty MAC', async () => {
    const { handler } = setup();
    const m = read(await handler(signRequest(q('www.example.com.'), { ...key, secret: generateSecret('hmac-sha256') }, T0).wire, 'udp'));
    expect([m.rcode, m.tsig?.error, m.tsig?.mac.length]).toEqual([Rcode.NOTAUTH, TsigError.BADSIG, 0]);
  });

  it('§5.2.3: a clock 1000 s off is NOTAUTH with BADTIME, signed, other data = our time', async () => {
    const { handler } = setup();
    const req = signRequest(q('www.example.com.'), key, T0 - 1000);
    const wire = await handler(req.wire, 'udp');
    const m = read(wire);
    expect([m.rcode, m.tsig?.error, m.tsig?.mac.length, m.tsig?.other.length]).toEqual([Rcode.NOTAUTH, TsigError.BADTIME, 32, 6]);
    expect(req.verifier.verify(wire!, T0 - 1000)).toMatchObject({ ok: false, error: TsigError.BADTIME });
  });

  it('§5.1: a TSIG that is not the last record, or a second TSIG, is FORMERR without a TSIG', async () => {
    const { handler } = setup();
    const wire = signRequest(q('www.example.com.'), key, T0).wire;
    const t = read(wire).tsig!;
    const two = Uint8Array.from([...wire, ...wire.subarray(t.offset)]);
    two[11] += 1;
    const m = read(await handler(two, 'udp'));
    expect([m.rcode, m.tsig, m.id]).toEqual([Rcode.FORMERR, undefined, 99]);
    // TSIG first, then the OPT (kdig's "OPT after TSIG" probe in the transfer notes)
    const noOpt = signRequest(q('www.example.com.', RRType.A, { edns: false }), key, T0).wire;
    const optRr = [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0];
    const after = Uint8Array.from([...noOpt, ...optRr]);
    after[11] += 1;
    expect(read(await handler(after, 'udp')).rcode).toBe(Rcode.FORMERR);
  });

  it('a UDP answer that fits alone but not with its TSIG is truncated (TC=1), signed, within the size', async () => {
    const { handler } = setup();
    // The size of the plain answer over TCP decides the client's buffer: exactly that.
    const plain = await handler(q('big.example.com.', RRType.TXT, { udpSize: 1232 }), 'tcp');
    const size = plain!.length;
    expect(size).toBeLessThan(1232);
    const fits = read(await handler(q('big.example.com.', RRType.TXT, { udpSize: size }), 'udp'));
    expect(fits.tc).toBe(false);
    const req = signRequest(q('big.example.com.', RRType.TXT, { udpSize: size }), key, T0);
    const wire = await handler(req.wire, 'udp');
    const m = read(wire);
    expect([m.tc, m.answer.length, m.rcode]).toEqual([true, 0, Rcode.NOERROR]);
    expect(wire!.length).toBeLessThanOrEqual(size);
    expect(req.verifier.verify(wire!, T0)).toEqual({ ok: true, signed: true });
    // Over TCP the whole answer comes, signed.
    const tcp = signRequest(q('big.example.com.', RRType.TXT, { udpSize: size }), key, T0 + 1);
    const full = await handler(tcp.wire, 'tcp');
    expect(read(full).answer.length).toBeGreaterThan(5);
    expect(tcp.verifier.verify(full!, T0 + 1).ok).toBe(true);
  });

  it('error answers of the parser to a signed query (BADVERS, NOTIMP) are signed too', async () => {
    const { handler } = setup();
    const bad = q('www.example.com.');
    bad[bad.length - 5] = 1; // EDNS version 1 (OPT: owner, type, size, ext-rcode, version, ...)
    const req = signRequest(bad, key, T0);
    const wire = await handler(req.wire, 'udp');
    expect(read(wire).rcode).toBe(Rcode.BADVERS);
    expect(req.verifier.verify(wire!, T0).ok).toBe(true);
    const upd = signRequest(q('example.com.', RRType.SOA, { opcode: Opcode.UPDATE }), key, T0);
    const u = await handler(upd.wire, 'udp');
    expect(read(u).rcode).toBe(Rcode.NOTIMP);
    expect(upd.verifier.verify(u!, T0).ok).toBe(true);
  });
});

describe('tsigCheck (for transfers and NOTIFY)', () => {
  const ring = new Keyring([key]);

  it('none / ok / reject with the ready answer', () => {
    expect(tsigCheck(q('example.com.', RRType.SOA, { opcode: Opcode.NOTIFY }), ring, T0).kind).toBe('none');
    const req = signRequest(q('example.com.', RRType.AXFR), key, T0);
    const ok = tsigCheck(req.wire, ring, T0);
    expect(ok.kind).toBe('ok');
    const bad = tsigCheck(signRequest(q('example.com.', RRType.AXFR), { ...key, secret: generateSecret('hmac-sha256') }, T0).wire, ring, T0);
    expect(bad).toMatchObject({ kind: 'reject', rcode: Rcode.NOTAUTH, error: TsigError.BADSIG });
    if (bad.kind !== 'reject') return;
    const m = read(bad.response);
    expect([m.rcode, m.question[0].type, m.tsig?.error, m.opt?.udpSize]).toEqual([Rcode.NOTAUTH, RRType.AXFR, TsigError.BADSIG, 1232]);
  });

  it('FORMERR for an unreadable request (header only), nothing for a response', () => {
    const wire = Uint8Array.from(signRequest(q('example.com.', RRType.AXFR), key, T0).wire);
    const cut = wire.subarray(0, wire.length - 3);
    const r = tsigCheck(cut, ring, T0);
    expect(r).toMatchObject({ kind: 'reject', rcode: Rcode.FORMERR });
    if (r.kind === 'reject') expect([read(r.response).rcode, read(r.response).question]).toEqual([Rcode.FORMERR, []]);
    const resp = Uint8Array.from(cut);
    resp[2] |= 0x80;
    expect(tsigCheck(resp, ring, T0)).toMatchObject({ kind: 'reject', response: null });
  });
});
