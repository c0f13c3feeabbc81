import { describe, expect, it } from 'vitest';
import { Name, NameError, parentKey } from '../../../src/dns/name.js';

const n = (s: string) => Name.fromText(s);

describe('Name', () => {
  it('parses absolute and relative names, @ as the origin', () => {
    const origin = n('example.com.');
    expect(Name.fromText('www', origin).toString()).toBe('www.example.com.');
    expect(Name.fromText('@', origin)).toBe(origin);
    expect(n('.').isRoot()).toBe(true);
    expect(() => Name.fromText('www')).toThrow(NameError);
  });

  it('RFC 1035 §5.1: escapes \\DDD and \\X round-trip, including a \\000 label (RFC 9824)', () => {
    const x = n('\\000.a.example.');
    expect(x.labels[0]).toEqual(Uint8Array.of(0));
    expect(x.toString()).toBe('\\000.a.example.');
    expect(n('a\\.b.example.').labelCount).toBe(2);
    expect(n('a\\.b.example.').toString()).toBe('a\\.b.example.');
  });

  it('RFC 1035 §2.3.4: rejects labels over 63 and names over 255 octets', () => {
    expect(() => n('a'.repeat(64) + '.')).toThrow(/63/);
    expect(() => n(Array(130).fill('ab').join('.') + '.')).toThrow(/255/);
    expect(() => n('a..b.')).toThrow(/empty label/);
  });

  it('compares case-insensitively and keeps the original case', () => {
    expect(n('WWW.Example.COM.').equals(n('www.example.com.'))).toBe(true);
    expect(n('WWW.Example.COM.').toString()).toBe('WWW.Example.COM.');
    expect(n('WWW.Example.COM.').canonicalWire()).toEqual(n('www.example.com.').wire());
  });

  it('RFC 4034 §6.1: canonical order of the RFC example', () => {
    const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
    const shuffled = [...ordered].reverse().map(n).sort((a, b) => a.compare(b));
    expect(shuffled.map((x) => x.toString())).toEqual(ordered);
  });

  it('subdomains, parents and RRSIG label counts (RFC 4034 §3.1.3)', () => {
    expect(n('a.b.example.').isSubdomainOf(n('EXAMPLE.'))).toBe(true);
    expect(n('example.').isSubdomainOf(n('a.example.'))).toBe(false);
    expect(n('xexample.').isSubdomainOf(n('example.'))).toBe(false);
    expect(n('a.b.example.').parent().toString()).toBe('b.example.');
    expect(n('*.b.example.').rrsigLabels).toBe(2);
    expect(n('a.b.example.').rrsigLabels).toBe(3);
    expect(Name.ROOT.rrsigLabels).toBe(0);
  });

  it('RFC 1035 §4.1.4: reads compressed names and rejects loops and forward pointers', () => {
    const msg = new Uint8Array([0, 0, 3, 0x61, 0x62, 0x63, 0, 1, 0x78, 0xc0, 2]);
    const r = Name.read(msg, 7);
    expect(r.name.toString()).toBe('x.abc.');
    expect(r.next).toBe(11);
    expect(() => Name.read(new Uint8Array([0xc0, 0]), 0)).toThrow(NameError);
    expect(() => Name.read(new Uint8Array([0xc0, 5]), 0)).toThrow(NameError);
    expect(() => Name.read(new Uint8Array([5, 0x61]), 0)).toThrow(NameError);
  });

  it('parentKey drops the first label of a key, escaped dots and \\DDD inside it included', () => {
    for (const t of ['a.b.example.', 'example.', 'a\\.b.example.', 'x\\\\.y.', '\\000.a.example.', 'a\\046b.c.', '*.w.example.']) {
      const name = n(t);
      expect(parentKey(name.key), t).toBe(name.parent().key);
    }
  });

  it('fromText: labels are copies (the parse buffer is reused), a relative name shares its origin\'s labels', () => {
    const a = n('abc.example.');
    const b = n('xyz.example.');
    expect([a.toString(), b.toString()]).toEqual(['abc.example.', 'xyz.example.']);
    const origin = n('Example.');
    const www = Name.fromText('www', origin);
    expect(www.labels[1]).toBe(origin.labels[0]);
    expect(www.toString()).toBe('www.Example.');
  });

  it('zone names share slabs; child(label), used while answering, makes labels that pin no slab', () => {
    expect(n('x.example.').labels[0].buffer.byteLength).toBeGreaterThan(1024);
    const c = n('example.').child('abcdef');
    expect(c.toString()).toBe('abcdef.example.');
    expect(c.labels[0].buffer.byteLength).toBe(6);
  });
});
