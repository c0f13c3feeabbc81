// Domain names as a type (RFC 1035 §3.1, RFC 4034 §6.1). Labels are bytes, so names such as
// `\000.a.example.` (RFC 9824 compact denial) are ordinary values. Comparison is case-insensitive
// for ASCII letters only; the original case is kept for writing answers.

import { keep } from './slab.js';

const enc = new TextEncoder();

export class NameError extends Error {}

function lowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

function lowerLabel(label: Uint8Array): Uint8Array {
  let changed = false;
  for (let i = 0; i < label.length; i++) if (label[i] >= 0x41 && label[i] <= 0x5a) { changed = true; break; }
  if (!changed) return label;
  const out = new Uint8Array(label.length);
  for (let i = 0; i < label.length; i++) out[i] = lowerByte(label[i]);
  return out;
}

/** Presentation form of one label (RFC 1035 §5.1 escapes). */
function labelText(label: Uint8Array): string {
  let s = '';
  for (const b of label) {
    if (b <= 0x20 || b >= 0x7f) s += '\\' + b.toString().padStart(3, '0');
    else if (b === 0x2e || b === 0x5c || b === 0x22 || b === 0x28 || b === 0x29 || b === 0x3b || b === 0x40 || b === 0x24)
      s += '\\' + String.fromCharCode(b);
    else s += String.fromCharCode(b);
  }
  return s;
}

/** RFC 1035 §2.3.4: labels of 1..63 octets, at most 255 octets in wire form. */
function checkLabels(labels: readonly Uint8Array[]): void {
  let wire = 1;
  for (const l of labels) {
    if (l.length === 0) throw new NameError('empty label');
    if (l.length > 63) throw new NameError(`label longer than 63 octets`);
    wire += l.length + 1;
  }
  if (wire > 255) throw new NameError(`name longer than 255 octets`);
}

/** Name.key: one flat string (a `join(...) + '.'` would keep a cons string of 32 more bytes per name). */
function keyOf(labels: readonly Uint8Array[]): string {
  if (labels.length === 0) return '.';
  const parts = labels.map((l) => labelText(lowerLabel(l)));
  parts.push('');
  return parts.join('.');
}

/**
 * The key of the parent of the name whose key is `key` (not the root): the key minus its first label,
 * found without making a Name. Keys escape `.` inside a label as `\\.` and other octets as `\\DDD` or `\\c`.
 */
export function parentKey(key: string): string {
  let i = 0;
  while (key.charCodeAt(i) !== 0x2e) i += key.charCodeAt(i) === 0x5c ? (isDigit(key.charCodeAt(i + 1)) ? 4 : 2) : 1;
  const rest = key.slice(i + 1);
  return rest === '' ? '.' : rest;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Label octets of the name being parsed by fromText (a name never needs more than 255). */
const scratch = new Uint8Array(1024);

/** Canonical ordering of two labels (RFC 4034 §6.1): case-folded octet strings, shorter first on a tie. */
function compareLabels(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = lowerByte(a[i]) - lowerByte(b[i]);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export class Name {
  static readonly ROOT = new Name([]);

  /** Labels from the leftmost to the rightmost; the root is the empty list. */
  readonly labels: readonly Uint8Array[];
  /** Lower-cased presentation form with a trailing dot: a Map key, never shown to users. */
  readonly key: string;
  private text?: string;

  private constructor(labels: readonly Uint8Array[], key?: string) {
    this.labels = labels;
    this.key = key ?? keyOf(labels);
  }

  static fromLabels(labels: readonly Uint8Array[]): Name {
    checkLabels(labels);
    return new Name(labels);
  }

  /**
   * Parses a name in presentation form. A name without a trailing dot is relative to `origin`
   * (required then); `@` alone is the origin. The labels go into shared slabs (slab.ts): use this for
   * names that live with a zone, not for names made per query (see `child`).
   */
  static fromText(text: string, origin?: Name): Name {
    return Name.parse(text, origin, keep);
  }

  /**
   * fromText with `copy` making each label's own bytes. A view into a slab keeps the whole 64 KiB slab
   * alive, so a name made while answering and then kept (say, in a cache) must not be one.
   */
  private static parse(text: string, origin: Name | undefined, copy: (label: Uint8Array) => Uint8Array): Name {
    if (text === '@') {
      if (!origin) throw new NameError(`'@' needs an origin`);
      return origin;
    }
    if (text === '.') return Name.ROOT;
    if (text === '') throw new NameError('empty name');
    // Label octets are gathered in one scratch buffer, then copied into a shared slab (slab.ts): a zone of
    // a million names keeps a million labels, and a Uint8Array of their own would cost twice the memory.
    const ends: number[] = [];
    let n = 0;
    let absolute = false;
    const put = (b: number) => {
      if (n === scratch.length) throw new NameError(`name longer than 255 octets`);
      scratch[n++] = b;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        const d = text.slice(i + 1, i + 4);
        if (/^[0-9]{3}$/.test(d)) {
          const v = Number(d);
          if (v > 255) throw new NameError(`bad escape \\${d} in ${JSON.stringify(text)}`);
          put(v);
          i += 3;
        } else if (i + 1 < text.length) {
          put(text.charCodeAt(i + 1));
          i += 1;
        } else throw new NameError(`dangling backslash in ${JSON.stringify(text)}`);
      } else if (c === 0x2e) {
        if (n === (ends.at(-1) ?? 0)) throw new NameError(`empty label in ${JSON.stringify(text)}`);
        ends.push(n);
        if (i === text.length - 1) absolute = true;
      } else if (c > 0x7f) {
        for (const b of enc.encode(text[i])) put(b);
      } else put(c);
    }
    if (n > (ends.at(-1) ?? 0)) ends.push(n);
    if (!absolute && !origin) throw new NameError(`relative name ${JSON.stringify(text)} without an origin`);
    const tail = absolute ? [] : origin!.labels;
    const labels: Uint8Array[] = new Array<Uint8Array>(ends.length + tail.length);
    for (let i = 0, from = 0; i < ends.length; from = ends[i], i++) labels[i] = scratch.subarray(from, ends[i]);
    for (let j = 0; j < tail.length; j++) labels[ends.length + j] = tail[j];
    checkLabels(labels);
    for (let i = 0; i < ends.length; i++) labels[i] = copy(labels[i]);
    return new Name(labels);
  }

  get labelCount(): number {
    return this.labels.length;
  }

  isRoot(): boolean {
    return this.labels.length === 0;
  }

  /** True when the leftmost label is `*` (RFC 4592 §2.1.1). */
  isWildcard(): boolean {
    const l = this.labels[0];
    return l !== undefined && l.length === 1 && l[0] === 0x2a;
  }

  /** The RRSIG labels count (RFC 4034 §3.1.3): root and a leading `*` are not counted. */
  get rrsigLabels(): number {
    return this.isWildcard() ? this.labels.length - 1 : this.labels.length;
  }

  parent(): Name {
    if (this.labels.length === 0) throw new NameError('the root has no parent');
    return new Name(this.labels.slice(1));
  }

  /** The ancestor with `count` labels. */
  suffix(count: number): Name {
    return new Name(this.labels.slice(this.labels.length - count));
  }

  child(label: string | Uint8Array): Name {
    // Called while answering (NSEC3 owner names, wildcards): labels of their own, not slab views.
    const l = typeof label === 'string' ? (label === '*' ? Uint8Array.of(0x2a) : Name.parse(label + '.', undefined, (b) => b.slice()).labels[0]) : label;
    return Name.fromLabels([l, ...this.labels]);
  }

  /** True when this name equals `other` or lies below it. */
  isSubdomainOf(other: Name): boolean {
    const d = this.labels.length - other.labels.length;
    if (d < 0) return false;
    for (let i = 0; i < other.labels.length; i++) if (compareLabels(this.labels[i + d], other.labels[i]) !== 0) return false;
    return true;
  }

  equals(other: Name): boolean {
    return this.key === other.key;
  }

  /** Canonical DNS name order (RFC 4034 §6.1). */
  compare(other: Name): number {
    const a = this.labels, b = other.labels;
    let i = a.length - 1, j = b.length - 1;
    for (; i >= 0 && j >= 0; i--, j--) {
      const d = compareLabels(a[i], b[j]);
      if (d !== 0) return d;
    }
    return a.length - b.length;
  }

  lower(): Name {
    return new Name(this.labels.map(lowerLabel), this.key);
  }

  /** Length in wire form, uncompressed. */
  get wireLength(): number {
    let n = 1;
    for (const l of this.labels) n += l.length + 1;
    return n;
  }

  /** Uncompressed wire form in the original case. */
  wire(): Uint8Array {
    return this.writeInto(new Uint8Array(this.wireLength), 0, false);
  }

  /** Uncompressed, lower-cased wire form (RFC 4034 §6.2). */
  canonicalWire(): Uint8Array {
    return this.writeInto(new Uint8Array(this.wireLength), 0, true);
  }

  writeInto(buf: Uint8Array, offset: number, lower: boolean): Uint8Array {
    let o = offset;
    for (const l of this.labels) {
      buf[o++] = l.length;
      if (lower) for (let i = 0; i < l.length; i++) buf[o++] = lowerByte(l[i]);
      else { buf.set(l, o); o += l.length; }
    }
    buf[o] = 0;
    return buf;
  }

  toString(): string {
    if (this.text === undefined) this.text = this.labels.length === 0 ? '.' : this.labels.map(labelText).join('.') + '.';
    return this.text;
  }

  /** The name relative to `origin` ('@' for the origin itself), for zone files and logs. */
  relativeTo(origin: Name): string {
    if (this.equals(origin)) return '@';
    if (!this.isSubdomainOf(origin)) return this.toString();
    return this.labels.slice(0, this.labels.length - origin.labels.length).map(labelText).join('.');
  }

  /** Reads a possibly compressed name from a message (RFC 1035 §4.1.4). */
  static read(msg: Uint8Array, offset: number): { name: Name; next: number } {
    const labels: Uint8Array[] = [];
    let o = offset;
    let next = -1;
    let jumps = 0;
    let total = 1;
    for (;;) {
      if (o >= msg.length) throw new NameError('name runs past the end of the message');
      const len = msg[o];
      if (len === 0) { o += 1; break; }
      if ((len & 0xc0) === 0xc0) {
        if (o + 1 >= msg.length) throw new NameError('truncated compression pointer');
        if (++jumps > 127) throw new NameError('compression loop');
        const ptr = ((len & 0x3f) << 8) | msg[o + 1];
        if (next < 0) next = o + 2;
        if (ptr >= o) throw new NameError('forward compression pointer');
        o = ptr;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new NameError('unknown label type');
      if (o + 1 + len > msg.length) throw new NameError('label runs past the end of the message');
      total += len + 1;
      if (total > 255) throw new NameError('name longer than 255 octets');
      labels.push(msg.subarray(o + 1, o + 1 + len));
      o += 1 + len;
    }
    return { name: new Name(labels.map((l) => l.slice())), next: next < 0 ? o : next };
  }
}
