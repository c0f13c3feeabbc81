import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Name } from '../../../src/dns/name.js';
import { RRType, Rcode, Opcode, EdnsOption } from '../../../src/dns/types.js';
import { parseQuery, encodeQuery, type ParseResult } from '../../../src/dns/message.js';
import { rng } from '../../helpers/random.js';

const qname = Name.fromText('WwW.Example.COM.');

function u16(n: number): number[] {
  return [n >> 8, n & 0xff];
}

/** A header with the given flags word and counts. */
function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): number[] {
  return [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), ...u16(ns), ...u16(ar)];
}

function question(name = qname, type: number = RRType.A, klass = 1): number[] {
  return [...name.wire(), ...u16(type), ...u16(klass)];
}

/** An OPT RR: owner, UDP size, ext-rcode, version, flags, options. */
function opt(o: { owner?: Name; size?: number; version?: number; flags?: number; rdata?: number[] } = {}): number[] {
  const rdata = o.rdata ?? [];
  return [...(o.owner ?? Name.ROOT).wire(), ...u16(RRType.OPT), ...u16(o.size ?? 1232), 0, o.version ?? 0, ...u16(o.flags ?? 0), ...u16(rdata.length), ...rdata];
}

function msg(bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes);
}

function reply(r: ParseResult) {
  if (r.ok || r.action !== 'reply') throw new Error(`expected a reply, got ${JSON.stringify(r)}`);
  return r;
}

describe('parseQuery', () => {
  it('RFC 1035 §4.1: reads id, flags, the question (case kept) and the size', () => {
    const buf = encodeQuery(qname, RRType.AAAA, { id: 0xbeef, rd: true, cd: true, ad: true, edns: false });
    const r = parseQuery(buf);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query.id).toBe(0xbeef);
    expect(r.query.opcode).toBe(0);
    expect(r.query.rd).toBe(true);
    expect(r.query.cd).toBe(true);
    expect(r.query.ad).toBe(true);
    expect(r.query.name.toString()).toBe('WwW.Example.COM.');
    expect(r.query.type).toBe(RRType.AAAA);
    expect(r.query.class).toBe(1);
    expect(r.query.edns).toBeUndefined();
    expect(r.query.size).toBe(buf.length);
  });

  it('RFC 1035 §4.1.1: clear RD/CD/AD flags read as false', () => {
    const r = parseQuery(encodeQuery(qname, RRType.A, { edns: false }));
    expect(r.ok && [r.query.rd, r.query.cd, r.query.ad]).toEqual([false, false, false]);
  });

  it('RFC 1035 §4.1.1: a response (QR=1) is dropped, never answered', () => {
    const buf = encodeQuery(qname, RRType.A);
    buf[2] |= 0x80;
    expect(parseQuery(buf)).toEqual({ ok: false, action: 'drop' });
  });

  it('RFC 1035 §4.1.1: fewer than 12 octets (no header) is dropped', () => {
    expect(parseQuery(encodeQuery(qname, RRType.A).subarray(0, 11))).toEqual({ ok: false, action: 'drop' });
    expect(parseQuery(new Uint8Array(0))).toEqual({ ok: false, action: 'drop' });
  });

  it('RFC 1035 §4.1.2: QDCOUNT 0 is FORMERR with the id and flags echoed', () => {
    const r = reply(parseQuery(msg(header(7, 0x0100, 0, 0, 0, 0))));
    expect(r.rcode).toBe(Rcode.FORMERR);
    expect(r.id).toBe(7);
    expect(r.rd).toBe(true);
    expect(r.question).toBeUndefined();
  });

  it('RFC 1035 §4.1.2: QDCOUNT 2 is FORMERR and no question is echoed', () => {
    const r = reply(parseQuery(msg([...header(8, 0, 2, 0, 0, 0), ...question(), ...question(qname, RRType.MX)])));
    expect(r.rcode).toBe(Rcode.FORMERR);
    expect(r.question).toBeUndefined();
  });

  it('RFC 1035 §4.1.1: opcode STATUS (2) is NOTIMP and the question is echoed', () => {
    const r = reply(parseQuery(encodeQuery(qname, RRType.SOA, { opcode: Opcode.STATUS, id: 9 })));
    expect(r.rcode).toBe(Rcode.NOTIMP);
    expect(r.opcode).toBe(2);
    expect(r.question?.name.toString()).toBe('WwW.Example.COM.');
    expect(r.question?.type).toBe(RRType.SOA);
    expect(r.edns?.version).toBe(0);
  });

  it('RFC 2136 §2: UPDATE has the query layout; its zone section is the question (one, else FORMERR)', () => {
    const r = parseQuery(encodeQuery(qname, RRType.SOA, { opcode: Opcode.UPDATE, id: 9 }));
    expect(r.ok && r.query.opcode).toBe(Opcode.UPDATE);
    const two = reply(parseQuery(msg([...header(8, Opcode.UPDATE << 11, 2, 0, 0, 0), ...question(), ...question()])));
    expect(two.rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 1035 §4.1.1: an unknown opcode with an unreadable body is still NOTIMP', () => {
    const r = reply(parseQuery(msg([...header(1, 15 << 11, 1, 0, 0, 0), 0xc0])));
    expect(r.rcode).toBe(Rcode.NOTIMP);
    expect(r.question).toBeUndefined();
  });

  it('RFC 1035 §4.1.2: a truncated question is FORMERR', () => {
    const full = encodeQuery(qname, RRType.A, { edns: false });
    expect(reply(parseQuery(full.subarray(0, full.length - 2))).rcode).toBe(Rcode.FORMERR);
    expect(reply(parseQuery(full.subarray(0, 16))).rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 1035 §4.1.4: a compression loop in the question name is FORMERR', () => {
    // The question name is a pointer to itself (offset 12).
    const r = reply(parseQuery(msg([...header(3, 0, 1, 0, 0, 0), 0xc0, 0x0c, ...u16(1), ...u16(1)])));
    expect(r.rcode).toBe(Rcode.FORMERR);
    expect(r.id).toBe(3);
  });

  it('RFC 1035 §4.1.4: a name with a reserved label type (0x40) is FORMERR', () => {
    const r = reply(parseQuery(msg([...header(3, 0, 1, 0, 0, 0), 0x41, 0x61, 0, ...u16(1), ...u16(1)])));
    expect(r.rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 1035 §4.1.3: well-formed answer and authority records are skipped', () => {
    const rr = [0xc0, 0x0c, ...u16(RRType.A), ...u16(1), 0, 0, 0, 60, ...u16(4), 192, 0, 2, 1];
    const r = parseQuery(msg([...header(4, 0, 1, 1, 1, 1), ...question(), ...rr, ...rr, ...opt({ flags: 0x8000 })]));
    expect(r.ok).toBe(true);
    expect(r.ok && r.query.edns?.do).toBe(true);
  });

  it('RFC 1035 §4.1.3: a record running past the end of the message is FORMERR', () => {
    const rr = [0xc0, 0x0c, ...u16(RRType.A), ...u16(1), 0, 0, 0, 60, ...u16(8), 192, 0, 2, 1];
    expect(reply(parseQuery(msg([...header(4, 0, 1, 1, 0, 0), ...question(), ...rr]))).rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 1123 §1.2.2: octets after the last record are ignored', () => {
    const r = parseQuery(msg([...encodeQuery(qname, RRType.A), 1, 2, 3]));
    expect(r.ok).toBe(true);
  });

  it('RFC 6891 §6.1.2: reads UDP size, version, DO and options from the OPT', () => {
    const buf = encodeQuery(qname, RRType.DNSKEY, { do: true, udpSize: 4096, options: [{ code: EdnsOption.COOKIE, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }] });
    const r = parseQuery(buf);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query.edns).toEqual({ udpSize: 4096, version: 0, do: true, co: false, options: [{ code: 10, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }] });
  });

  it('RFC 9824 §5.1: the CO flag is bit 0x4000 of the EDNS flags, DO is 0x8000', () => {
    const co = parseQuery(msg([...header(1, 0, 1, 0, 0, 1), ...question(), ...opt({ flags: 0x4000 })]));
    expect(co.ok && co.query.edns && [co.query.edns.do, co.query.edns.co]).toEqual([false, true]);
    const d = parseQuery(msg([...header(1, 0, 1, 0, 0, 1), ...question(), ...opt({ flags: 0x8000 })]));
    expect(d.ok && d.query.edns && [d.query.edns.do, d.query.edns.co]).toEqual([true, false]);
  });

  it('RFC 6891 §6.2.3: a UDP payload size below 512 is treated as 512', () => {
    const r = parseQuery(msg([...header(1, 0, 1, 0, 0, 1), ...question(), ...opt({ size: 100 })]));
    expect(r.ok && r.query.edns?.udpSize).toBe(512);
  });

  it('RFC 6891 §6.1.1: more than one OPT is FORMERR', () => {
    const r = reply(parseQuery(msg([...header(5, 0, 1, 0, 0, 2), ...question(), ...opt(), ...opt()])));
    expect(r.rcode).toBe(Rcode.FORMERR);
    expect(r.edns).toBeUndefined();
  });

  it('RFC 6891 §6.1.2: an OPT whose owner is not the root is FORMERR', () => {
    const r = reply(parseQuery(msg([...header(5, 0, 1, 0, 0, 1), ...question(), ...opt({ owner: Name.fromText('example.com.') })])));
    expect(r.rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 6891 §6.1.1: an OPT outside the additional section is FORMERR', () => {
    const r = reply(parseQuery(msg([...header(5, 0, 1, 1, 0, 0), ...question(), ...opt()])));
    expect(r.rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 6891 §6.1.2: an option running past the OPT RDATA is FORMERR', () => {
    const r = reply(parseQuery(msg([...header(5, 0, 1, 0, 0, 1), ...question(), ...opt({ rdata: [0, 10, 0, 8, 1, 2] })])));
    expect(r.rcode).toBe(Rcode.FORMERR);
    const short = reply(parseQuery(msg([...header(5, 0, 1, 0, 0, 1), ...question(), ...opt({ rdata: [0, 10, 0] })])));
    expect(short.rcode).toBe(Rcode.FORMERR);
  });

  it('RFC 6891 §6.1.3: EDNS version 1 is BADVERS (16) with the EDNS data and question echoed', () => {
    const r = reply(parseQuery(msg([...header(6, 0x0100, 1, 0, 0, 1), ...question(), ...opt({ version: 1, flags: 0x8000 })])));
    expect(r.rcode).toBe(Rcode.BADVERS);
    expect(r.rcode).toBe(16);
    expect(r.edns?.version).toBe(1);
    expect(r.edns?.do).toBe(true);
    expect(r.question?.name.toString()).toBe('WwW.Example.COM.');
  });

  it('parseQuery is hand-written: query.ts and its imports do not use dns-packet', () => {
    for (const f of ['query.ts', 'name.ts', 'types.ts']) {
      const src = readFileSync(new URL(`../../../src/dns/${f}`, import.meta.url), 'utf8');
      expect(src, f).not.toMatch(/(from|import|require\()\s*\(?['"]dns-packet/);
    }
    const q = readFileSync(new URL('../../../src/dns/query.ts', import.meta.url), 'utf8');
    const imports = [...q.matchAll(/from '([^']+)'/g)].map((m) => m[1]).sort();
    expect(imports).toEqual(['./name.js', './types.js']);
  });
});

describe('parseQuery fuzz', () => {
  it('never throws on 10,000 random or mutated packets (seed logged)', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0xffffffff);
    console.log(`parseQuery fuzz seed: ${seed} (replay with FUZZ_SEED=${seed})`);
    const rand = rng(seed);
    const base = [
      encodeQuery(qname, RRType.A, { do: true, options: [{ code: 10, data: new Uint8Array(8) }] }),
      msg([...header(1, 0, 1, 1, 1, 1), ...question(), 0xc0, 0x0c, ...u16(1), ...u16(1), 0, 0, 0, 1, 0, 4, 1, 2, 3, 4, ...opt()]),
    ];
    const kinds = { ok: 0, drop: 0, reply: 0 };
    for (let i = 0; i < 10_000; i++) {
      let buf: Uint8Array;
      if (i % 2 === 0) {
        buf = new Uint8Array(Math.floor(rand() * 80));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
        if (buf.length > 2 && rand() < 0.7) buf[2] &= 0x7f; // mostly queries, to get past the QR check
      } else {
        buf = base[i % 4 === 1 ? 0 : 1].slice();
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      }
      let r: ParseResult;
      try {
        r = parseQuery(buf);
      } catch (e) {
        throw new Error(`seed ${seed}, packet ${i} [${Array.from(buf).join(',')}]: ${String(e)}`);
      }
      kinds[r.ok ? 'ok' : r.action]++;
    }
    // The mix exercises every outcome, so the loop is not testing only the header check.
    expect(kinds.ok).toBeGreaterThan(0);
    expect(kinds.drop).toBeGreaterThan(0);
    expect(kinds.reply).toBeGreaterThan(0);
  });
});
