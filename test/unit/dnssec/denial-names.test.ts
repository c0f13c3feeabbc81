import { describe, expect, it } from 'vitest';
import { Name } from '../../../src/dns/name.js';
import { immediateSuccessor, labelPredecessor, labelSuccessor, subtreeSuccessor } from '../../../src/dnssec/denial/nsec.js';
import { base32hex, nsec3Hash } from '../../../src/dnssec/denial/nsec3.js';

const ex = Name.fromText('example.com.');
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const under = (label: Uint8Array, parent = ex) => parent.child(label);

/** Deterministic pseudo-random labels (seeded LCG) for order properties. */
function* labels(seed: number, count: number): Generator<Uint8Array> {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
  for (let i = 0; i < count; i++) {
    const len = 1 + (rnd() % 63);
    const pick = rnd() % 4;
    yield Uint8Array.from({ length: len }, () => (pick === 0 ? 0xff : pick === 1 ? 0x61 + (rnd() % 26) : rnd()));
  }
}

describe('RFC 4471 name order helpers', () => {
  it('RFC 4471 §3.1.1: the successor label appends \\000 while the label is shorter than 63 octets', () => {
    expect(Buffer.from(labelSuccessor(bytes('sub'))!).toString('latin1')).toBe('sub\x00');
    expect(subtreeSuccessor(Name.fromText('sub.example.com.'))!.toString()).toBe('sub\\000.example.com.');
  });

  it('RFC 4034 §6.1: upper-case input is folded, and 0x40 steps over the upper-case letters to 0x5b', () => {
    expect(Buffer.from(labelSuccessor(bytes('ABC'))!).toString('latin1')).toBe('abc\x00');
    const full = new Uint8Array(63).fill(0x61);
    full[62] = 0x40;
    const next = labelSuccessor(full)!;
    expect(next.length).toBe(63);
    expect(next[62]).toBe(0x5b);
    expect(labelPredecessor(bytes('a['))![1]).toBe(0x40);
  });

  it('RFC 4471 §3.1.1: a 63-octet label increments its last octet below 0xff and drops the rest; all 0xff has none', () => {
    const l = new Uint8Array(63).fill(0xff);
    l[10] = 0x61;
    const next = labelSuccessor(l)!;
    expect(next.length).toBe(11);
    expect(next[10]).toBe(0x62);
    expect(labelSuccessor(new Uint8Array(63).fill(0xff))).toBeUndefined();
  });

  it('RFC 4471 §3.1.2: the predecessor label decrements the last octet and pads with 0xff to 63 octets', () => {
    const p = labelPredecessor(bytes('nope'))!;
    expect(p.length).toBe(63);
    expect(Buffer.from(p.subarray(0, 4)).toString('latin1')).toBe('nopd');
    expect(p.subarray(4).every((b) => b === 0xff)).toBe(true);
    expect(Buffer.from(labelPredecessor(bytes('a\x00'))!).toString('latin1')).toBe('a');
    expect(labelPredecessor(Uint8Array.of(0))).toBeUndefined();
  });

  it('RFC 4034 §6.1: predecessor < label < successor for random labels, and nothing fits between a label and its successor', () => {
    for (const l of labels(20260101, 500)) {
      const name = under(l);
      const succ = labelSuccessor(l);
      const pred = labelPredecessor(l);
      if (succ) {
        expect(name.compare(under(succ))).toBeLessThan(0);
        // Anything below the name still sorts before the successor sibling.
        if (name.wireLength + 2 <= 255) expect(name.child(new Uint8Array(5).fill(0xff)).compare(under(succ))).toBeLessThan(0);
      }
      if (pred) {
        expect(under(pred).compare(name)).toBeLessThan(0);
        expect(under(pred).child(new Uint8Array(5).fill(0xff)).compare(name)).toBeLessThan(0);
      }
    }
  });

  it('RFC 4471 §3.1.1: the immediate successor is \\000.<name>; a 255-octet name steps to its next sibling', () => {
    expect(immediateSuccessor(Name.fromText('www.example.com.'), ex).toString()).toBe('\\000.www.example.com.');
    // (1 + 49) + 3 * (1 + 63) + example.com (13) = 255 octets.
    const long = Name.fromLabels([new Uint8Array(49).fill(0x61), ...[1, 2, 3].map(() => new Uint8Array(63).fill(0x62)), ...ex.labels]);
    expect(long.wireLength).toBe(255);
    const s = immediateSuccessor(long, ex);
    expect(s.wireLength).toBeLessThanOrEqual(255);
    expect(long.compare(s)).toBeLessThan(0);
    expect(s.labels[0].length).toBe(49);
    expect(s.labels[0][48]).toBe(0x62);
  });
});

describe('RFC 5155 hashing', () => {
  it('RFC 4648 §10: base32hex test vectors (no padding, RFC 5155 §3.3)', () => {
    const v: [string, string][] = [['f', 'CO'], ['fo', 'CPNG'], ['foo', 'CPNMU'], ['foob', 'CPNMUOG'], ['fooba', 'CPNMUOJ1'], ['foobar', 'CPNMUOJ1E8']];
    for (const [input, out] of v) expect(base32hex(bytes(input))).toBe(out);
  });

  it('RFC 5155 §5: the hash is SHA-1 over the canonical (lower-case) wire name, so case does not matter', () => {
    const a = nsec3Hash(Name.fromText('WWW.Example.COM.'));
    const b = nsec3Hash(Name.fromText('www.example.com.'));
    expect(a.length).toBe(20);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(base32hex(a)).toHaveLength(32);
  });
});
