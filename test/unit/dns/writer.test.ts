import { describe, expect, it } from 'vitest';
import packet from 'dns-packet';
import { Name } from '../../../src/dns/name.js';
import type { Rr } from '../../../src/dns/rr.js';
import { RRType, Rcode, EdeCode, Opcode } from '../../../src/dns/types.js';
import { encodeResponse, encodeQuery, ede, parseQuery, type Response } from '../../../src/dns/message.js';

// dns-packet decodes for us (an independent reader); its typings are too narrow for OPT and flags.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
function decode(buf: Uint8Array): Loose {
  return packet.decode(Buffer.from(buf));
}

const n = (t: string) => Name.fromText(t);
const apex = n('example.com.');

function u16(v: number): number[] {
  return [v >> 8, v & 0xff];
}
function u32(v: number): number[] {
  return [...u16(v >>> 16), ...u16(v & 0xffff)];
}
function rr(name: Name, type: number, rdata: number[] | Uint8Array, ttl = 300): Rr {
  return { name, type, class: 1, ttl, rdata: Uint8Array.from(rdata) };
}
const a = (name: Name, ...ip: number[]) => rr(name, RRType.A, ip);
const ns = (owner: Name, target: string) => rr(owner, RRType.NS, n(target).wire());
const mx = (owner: Name, pref: number, target: string) => rr(owner, RRType.MX, [...u16(pref), ...n(target).wire()]);
const soa = (owner: Name) =>
  rr(owner, RRType.SOA, [...n('ns1.example.com.').wire(), ...n('hostmaster.example.com.').wire(), ...u32(1), ...u32(7200), ...u32(3600), ...u32(1209600), ...u32(300)]);
const txt = (owner: Name, len: number) => rr(owner, RRType.TXT, [len, ...new Array<number>(len).fill(0x61)]);
/** RRSIG RDATA (RFC 4034 §3.1) with a 64-octet signature. */
function rrsig(owner: Name, covered: number, signer = apex): Rr {
  return rr(owner, RRType.RRSIG, [...u16(covered), 13, owner.labelCount, ...u32(300), ...u32(2000000000), ...u32(1000000000), ...u16(12345), ...signer.wire(), ...new Array<number>(64).fill(7)]);
}

function response(over: Partial<Response> = {}): Response {
  return {
    id: 0x1234, opcode: 0, aa: true, rd: false, cd: false, rcode: 0,
    question: { name: n('www.example.com.'), type: RRType.A, class: 1 },
    answer: [], authority: [], additional: [],
    ...over,
  };
}

/** Offsets of all compression pointers reachable while walking the names of a decoded-length message. */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('encodeResponse: name compression (RFC 1035 §4.1.4)', () => {
  it('RFC 1035 §4.1.4: compression shrinks a multi-record answer and every pointer resolves', () => {
    const resp = response({
      question: { name: apex, type: RRType.MX, class: 1 },
      answer: [mx(apex, 10, 'mail1.example.com.'), mx(apex, 20, 'mail2.example.com.')],
      authority: [ns(apex, 'ns1.example.com.'), ns(apex, 'ns2.example.com.'), soa(apex)],
      additional: [a(n('mail1.example.com.'), 192, 0, 2, 1), a(n('ns1.example.com.'), 192, 0, 2, 53)],
    });
    const out = encodeResponse(resp, 65535);
    const all = [...resp.answer, ...resp.authority, ...resp.additional];
    const uncompressed = 12 + apex.wireLength + 4 + all.reduce((s, r) => s + r.name.wireLength + 10 + r.rdata.length, 0);
    expect(out.length).toBeLessThan(uncompressed - 60);
    const d = decode(out);
    expect(d.answers.map((x: Loose) => [x.name, x.data.preference, x.data.exchange])).toEqual([
      ['example.com', 10, 'mail1.example.com'],
      ['example.com', 20, 'mail2.example.com'],
    ]);
    expect(d.authorities.map((x: Loose) => (x.type === 'SOA' ? [x.name, x.data.mname, x.data.rname] : [x.name, x.data]))).toEqual([
      ['example.com', 'ns1.example.com'],
      ['example.com', 'ns2.example.com'],
      ['example.com', 'ns1.example.com', 'hostmaster.example.com'],
    ]);
    expect(d.additionals.map((x: Loose) => [x.name, x.data])).toEqual([
      ['mail1.example.com', '192.0.2.1'],
      ['ns1.example.com', '192.0.2.53'],
    ]);
    // The first answer owner is a pointer to the question name at offset 12.
    const afterQuestion = 12 + apex.wireLength + 4;
    expect([out[afterQuestion], out[afterQuestion + 1]]).toEqual([0xc0, 0x0c]);
  });

  it("RFC 1035 §2.3.3: the question's case is kept, and an owner equal to it points at it", () => {
    const q = n('WwW.ExAmPlE.cOm.');
    const out = encodeResponse(response({ question: { name: q, type: RRType.A, class: 1 }, answer: [a(n('www.example.com.'), 192, 0, 2, 1)] }), 512);
    const d = decode(out);
    expect(d.questions[0].name).toBe('WwW.ExAmPlE.cOm');
    expect(d.answers[0].name).toBe('WwW.ExAmPlE.cOm');
    expect(out.length).toBe(12 + q.wireLength + 4 + 2 + 10 + 4);
  });

  it('RFC 1035 §4.1.4: labels holding dots or \\000 (RFC 9824) only match whole labels', () => {
    const dotted = Name.fromLabels([new TextEncoder().encode('a.b'), ...apex.labels]); // a\.b.example.com.
    const nul = Name.fromText('\\000.c.example.com.');
    const answer = [a(n('b.example.com.'), 192, 0, 2, 1), a(n('c.example.com.'), 192, 0, 2, 2), a(nul, 192, 0, 2, 3), a(dotted, 192, 0, 2, 4)];
    const out = encodeResponse(response({ question: { name: dotted, type: RRType.A, class: 1 }, answer: [a(nul, 192, 0, 2, 0), ...answer] }), 512);
    const d = decode(out);
    expect(d.answers.map((x: Loose) => x.data)).toEqual(['192.0.2.0', '192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']);
    // Decode the owners ourselves: dns-packet does not escape label bytes.
    const owners: string[] = [];
    let off = 12 + dotted.wireLength + 4;
    for (let i = 0; i < 5; i++) {
      const r = Name.read(out, off);
      owners.push(r.name.toString());
      off = r.next + 10 + 4;
    }
    expect(owners).toEqual(['\\000.c.example.com.', 'b.example.com.', 'c.example.com.', '\\000.c.example.com.', 'a\\.b.example.com.']);
  });

  it('RFC 3597 §4: names in the RDATA of other types (SRV, RRSIG) are never compressed', () => {
    const srv = rr(n('_sip._udp.example.com.'), RRType.SRV, [...u16(1), ...u16(1), ...u16(5060), ...apex.wire()]);
    const sig = rrsig(n('_sip._udp.example.com.'), RRType.SRV);
    const out = encodeResponse(response({ question: { name: n('_sip._udp.example.com.'), type: RRType.SRV, class: 1 }, answer: [srv, sig] }), 65535);
    // example.com. appears in full inside both RDATAs even though the question ends in it.
    const target = Uint8Array.from([0, 1, 0, 1, ...u16(5060), ...apex.wire()]);
    expect(indexOfBytes(out, target)).toBeGreaterThan(0);
    const signer = Uint8Array.from([...u16(12345), ...apex.wire()]);
    expect(indexOfBytes(out, signer)).toBeGreaterThan(0);
    const d = decode(out);
    expect(d.answers[0].data.target).toBe('example.com');
    expect(d.answers[1].data.signersName).toBe('example.com');
  });

  it('RFC 3597 §4: RDATA the schema cannot read is sent verbatim rather than failing the answer', () => {
    const bad = rr(apex, RRType.NS, [3, 0x61, 0x62]); // label runs past the RDATA
    const out = encodeResponse(response({ question: { name: apex, type: RRType.NS, class: 1 }, answer: [bad] }), 512);
    expect([...out.subarray(out.length - 5)]).toEqual([0, 3, 3, 0x61, 0x62]);
  });

  it('RFC 1035 §4.1.4: pointers only target offsets below 0x4000', () => {
    const q = n('big.example.com.');
    const filler = Array.from({ length: 80 }, () => txt(q, 250)); // ~21 KB, past 0x4000
    const late = n('late.other.test.');
    const answer = [...filler, ns(late, 'ns.late.other.test.'), ns(late, 'ns2.late.other.test.'), a(n('x.late.other.test.'), 192, 0, 2, 9)];
    const out = encodeResponse(response({ question: { name: q, type: RRType.ANY, class: 1 }, answer }), 65535);
    expect(out.length).toBeGreaterThan(0x4000);
    const d = decode(out);
    const tail = d.answers.slice(80).map((x: Loose) => [x.name, x.data]);
    expect(tail).toEqual([
      ['late.other.test', 'ns.late.other.test'],
      ['late.other.test', 'ns2.late.other.test'],
      ['x.late.other.test', '192.0.2.9'],
    ]);
    // Names first written past 0x4000 are not pointer targets, so they repeat in full.
    const lateWire = late.wire();
    const first = indexOfBytes(out, lateWire);
    expect(first).toBeGreaterThan(0x4000);
    expect(indexOfBytes(out, lateWire, first + 1)).toBeGreaterThan(first);
  });
});

describe('encodeResponse: header and EDNS (RFC 1035 §4.1.1, RFC 6891 §6.1)', () => {
  it('RFC 1035 §4.1.1: QR is set and id, opcode, AA, RD, RA, AD, CD and RCODE are written', () => {
    const d = decode(encodeResponse(response({ opcode: Opcode.QUERY, aa: true, rd: true, ra: true, ad: true, cd: true, rcode: Rcode.NXDOMAIN }), 512));
    expect(d.id).toBe(0x1234);
    expect([d.flag_qr, d.flag_aa, d.flag_tc, d.flag_rd, d.flag_ra, d.flag_ad, d.flag_cd]).toEqual([true, true, false, true, true, true, true]);
    expect(d.rcode).toBe('NXDOMAIN');
    const e = decode(encodeResponse(response({ aa: false, rd: false, cd: false, rcode: Rcode.REFUSED, opcode: Opcode.NOTIFY }), 512));
    expect([e.flag_aa, e.flag_rd, e.flag_ra, e.flag_ad, e.flag_cd]).toEqual([false, false, false, false, false]);
    expect(e.rcode).toBe('REFUSED');
    expect(e.opcode).toBe('NOTIFY');
  });

  it('RFC 6891 §6.1.2: the OPT has root owner, CLASS = UDP size, version 0 and the DO bit', () => {
    const out = encodeResponse(response({ edns: { udpSize: 1232, do: true, co: false, options: [] } }), 1232);
    const o = decode(out).additionals.find((x: Loose) => x.type === 'OPT');
    expect(o.name).toBe('.');
    expect(o.udpPayloadSize).toBe(1232);
    expect(o.ednsVersion).toBe(0);
    expect(o.flags).toBe(0x8000);
    expect(o.flag_do).toBe(true);
    expect(decode(out).additionals).toHaveLength(1);
  });

  it('RFC 9824 §5.1: the CO flag is bit 0x4000 of the OPT TTL', () => {
    const o = decode(encodeResponse(response({ edns: { udpSize: 1232, do: false, co: true, options: [] } }), 1232)).additionals[0];
    expect(o.flags).toBe(0x4000);
    const both = decode(encodeResponse(response({ edns: { udpSize: 1232, do: true, co: true, options: [] } }), 1232)).additionals[0];
    expect(both.flags).toBe(0xc000);
  });

  it('RFC 6891 §6.1.3: BADVERS (16) is split into header RCODE 0 and extended RCODE 1', () => {
    const out = encodeResponse(response({ rcode: Rcode.BADVERS, edns: { udpSize: 1232, do: false, co: false, options: [] } }), 512);
    expect(out[3] & 0x0f).toBe(0);
    const d = decode(out);
    expect(d.additionals[0].extendedRcode).toBe(1);
    expect((d.additionals[0].extendedRcode << 4) | (out[3] & 0xf)).toBe(16);
  });

  it('RFC 6891 §6.1.3: an extended RCODE without an OPT is sent as SERVFAIL, not as its low bits', () => {
    const out = encodeResponse(response({ rcode: Rcode.BADVERS }), 512);
    expect(decode(out).rcode).toBe('SERVFAIL');
  });

  it('RFC 8914 §2: ede() builds option 15 with INFO-CODE then UTF-8 EXTRA-TEXT', () => {
    expect(ede(EdeCode.INVALID_QUERY_TYPE, 'NXNAME')).toEqual({ code: 15, data: Uint8Array.of(0, 30, 0x4e, 0x58, 0x4e, 0x41, 0x4d, 0x45) });
    expect(ede(EdeCode.NOT_SUPPORTED)).toEqual({ code: 15, data: Uint8Array.of(0, 21) });
    expect(ede(0x1234, 'é').data).toEqual(Uint8Array.of(0x12, 0x34, 0xc3, 0xa9));
    const out = encodeResponse(response({ rcode: Rcode.FORMERR, edns: { udpSize: 1232, do: false, co: false, options: [ede(30, 'NXNAME')] } }), 512);
    const opt = decode(out).additionals[0];
    expect(opt.options).toHaveLength(1);
    expect(opt.options[0].code).toBe(15);
    expect(Uint8Array.from(opt.options[0].data)).toEqual(Uint8Array.of(0, 30, 0x4e, 0x58, 0x4e, 0x41, 0x4d, 0x45));
  });
});

describe('encodeResponse: size limits and truncation (RFC 2181 §9)', () => {
  const big = Array.from({ length: 30 }, (_, i) => a(n('www.example.com.'), 192, 0, 2, i)); // 30 × 16 = 480 octets

  it('RFC 2181 §9: an answer over 512 sets TC and drops answer and authority, keeping question and OPT', () => {
    const resp = response({ answer: big, authority: [ns(apex, 'ns1.example.com.')], edns: { udpSize: 1232, do: true, co: false, options: [] } });
    const out = encodeResponse(resp, 512);
    expect(out.length).toBeLessThanOrEqual(512);
    const d = decode(out);
    expect(d.flag_tc).toBe(true);
    expect(d.answers).toHaveLength(0);
    expect(d.authorities).toHaveLength(0);
    expect(d.questions).toEqual([{ name: 'www.example.com', type: 'A', class: 'IN' }]);
    expect(d.additionals).toHaveLength(1);
    expect(d.additionals[0].type).toBe('OPT');
    expect(d.additionals[0].flag_do).toBe(true);
    // The same response fits when the limit allows it.
    const whole = decode(encodeResponse(resp, 1232));
    expect(whole.flag_tc).toBe(false);
    expect(whole.answers).toHaveLength(30);
  });

  it('RFC 2181 §9: without EDNS the truncated message keeps the question only', () => {
    const out = encodeResponse(response({ answer: big, authority: [ns(apex, 'ns1.example.com.')] }), 512);
    expect([...out.subarray(4, 12)]).toEqual([0, 1, 0, 0, 0, 0, 0, 0]);
    expect(decode(out).flag_tc).toBe(true);
  });

  it('RFC 2181 §9: authority that does not fit also truncates (no partial answer)', () => {
    const answer = big.slice(0, 25);
    const authority = Array.from({ length: 5 }, (_, i) => ns(apex, `ns${i}.example.com.`));
    const d = decode(encodeResponse(response({ answer, authority }), 512));
    expect(d.flag_tc).toBe(true);
    expect([d.answers.length, d.authorities.length]).toEqual([0, 0]);
  });

  it('RFC 6891 §7: the OPT space is reserved, so the OPT is present even when the rest fills the limit', () => {
    // One TXT answer sized so the message is 507 octets: it fits 512 without the OPT (11) but not with it.
    const q = response().question!;
    const base = 12 + q.name.wireLength + 4 + 2 + 10; // question, then a compressed owner and the RR fields
    const rdlen = 507 - base;
    const answer = [rr(q.name, RRType.TXT, [255, ...new Array<number>(255).fill(0x61), rdlen - 257, ...new Array<number>(rdlen - 257).fill(0x62)])];
    const count = 1;
    const withOpt = decode(encodeResponse(response({ answer, edns: { udpSize: 512, do: false, co: false, options: [] } }), 512));
    expect(withOpt.flag_tc).toBe(true);
    expect(withOpt.additionals.map((x: Loose) => x.type)).toEqual(['OPT']);
    const withoutOpt = decode(encodeResponse(response({ answer }), 512));
    expect(withoutOpt.flag_tc).toBe(false);
    expect(withoutOpt.answers).toHaveLength(count);
  });

  it('RFC 2181 §9: additional RRsets that do not fit are dropped whole, without TC, and the OPT stays', () => {
    const nsName = n('ns1.example.com.');
    const answer = big.slice(0, 21); // 21 × 16 octets
    const bigSet = [a(nsName, 192, 0, 2, 1), a(nsName, 192, 0, 2, 2), rrsig(nsName, RRType.A)];
    const small = a(n('ns2.example.com.'), 192, 0, 2, 3);
    const resp = response({ answer, additional: [...bigSet, small], edns: { udpSize: 512, do: true, co: false, options: [] } });
    const out = encodeResponse(resp, 512);
    expect(out.length).toBeLessThanOrEqual(512);
    const d = decode(out);
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(21);
    // The ns1 A RRset with its RRSIG does not fit, so neither is sent; the small ns2 set after it does.
    expect(d.additionals.map((x: Loose) => [x.name, x.type])).toEqual([
      ['ns2.example.com', 'A'],
      ['.', 'OPT'],
    ]);
    // With room, every additional record is sent and the RRSIG follows its RRset.
    const roomy = decode(encodeResponse(resp, 1232));
    expect(roomy.additionals.map((x: Loose) => x.type)).toEqual(['A', 'A', 'RRSIG', 'A', 'OPT']);
  });

  it('RFC 1035 §4.1.4: names of a dropped additional RRset are not used as pointer targets afterwards', () => {
    const host = n('host.zone.test.');
    const dropped = [a(host, 192, 0, 2, 1), rrsig(host, RRType.A, n('zone.test.'))];
    const later = a(n('x.host.zone.test.'), 192, 0, 2, 2);
    const answer = big.slice(0, 24); // 33 + 384 octets; the dropped set needs about 130 more
    const d = decode(encodeResponse(response({ answer, additional: [...dropped, later] }), 512));
    expect(d.additionals.map((x: Loose) => [x.name, x.data])).toEqual([['x.host.zone.test', '192.0.2.2']]);
  });

  it('RFC 4035 §3.1.1: an RRSIG listed apart from its RRset is kept with it in the additional section', () => {
    const ns1 = n('ns1.example.com.');
    const additional = [a(ns1, 192, 0, 2, 1), rr(ns1, RRType.AAAA, new Array<number>(16).fill(1)), rrsig(ns1, RRType.AAAA), rrsig(ns1, RRType.A)];
    const d = decode(encodeResponse(response({ additional }), 1232));
    expect(d.additionals.map((x: Loose) => (x.type === 'RRSIG' ? `RRSIG(${x.data.typeCovered})` : x.type))).toEqual(['A', 'RRSIG(A)', 'AAAA', 'RRSIG(AAAA)']);
  });

  it('RFC 9471 §3: required additional records (in-domain glue) that do not fit set TC', () => {
    const glue = Array.from({ length: 40 }, (_, i) => a(n(`ns${i}.sub.example.com.`), 192, 0, 2, i));
    const referral = response({ aa: false, authority: [ns(n('sub.example.com.'), 'ns0.sub.example.com.')], requiredAdditional: glue });
    const d = decode(encodeResponse(referral, 512));
    expect(d.flag_tc).toBe(true);
    expect([d.authorities.length, d.additionals.length]).toEqual([0, 0]);
    // As optional additional data the same records are just left out.
    const optional = decode(encodeResponse({ ...referral, requiredAdditional: undefined, additional: glue }, 512));
    expect(optional.flag_tc).toBe(false);
    expect(optional.authorities).toHaveLength(1);
    expect(optional.additionals.length).toBeGreaterThan(0);
    expect(optional.additionals.length).toBeLessThan(40);
  });

  it('RFC 1035 §2.3.4: a limit below 512 is read as 512', () => {
    const answer = big.slice(0, 25); // about 450 octets in all
    const d = decode(encodeResponse(response({ answer }), 100));
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(25);
  });

  it('RFC 6891 §7: options that cannot fit beside the question are dropped, the OPT is kept', () => {
    const huge = { code: 15, data: new Uint8Array(600) };
    const out = encodeResponse(response({ edns: { udpSize: 512, do: false, co: false, options: [huge] } }), 512);
    expect(out.length).toBeLessThanOrEqual(512);
    const opt = decode(out).additionals[0];
    expect(opt.type).toBe('OPT');
    expect(opt.options).toEqual([]);
  });

  it('a TC the caller asks for is kept', () => {
    expect(decode(encodeResponse(response({ tc: true }), 512)).flag_tc).toBe(true);
  });
});

describe('encodeQuery', () => {
  it('RFC 1035 §4.1: round-trips through parseQuery and dns-packet', () => {
    const q = n('Host.Example.net.');
    const buf = encodeQuery(q, RRType.TXT, { id: 42, rd: true, do: true, co: true, udpSize: 4000 });
    const d = decode(buf);
    expect(d.id).toBe(42);
    expect(d.flag_qr).toBe(false);
    expect(d.flag_rd).toBe(true);
    expect(d.questions).toEqual([{ name: 'Host.Example.net', type: 'TXT', class: 'IN' }]);
    expect(d.additionals[0].udpPayloadSize).toBe(4000);
    expect(d.additionals[0].flags).toBe(0xc000);
    const p = parseQuery(buf);
    expect(p.ok && [p.query.name.toString(), p.query.type, p.query.edns?.do, p.query.edns?.co]).toEqual(['Host.Example.net.', RRType.TXT, true, true]);
    const plain = decode(encodeQuery(q, RRType.A, { edns: false }));
    expect(plain.additionals).toHaveLength(0);
    expect(plain.id).toBe(0);
  });
});
