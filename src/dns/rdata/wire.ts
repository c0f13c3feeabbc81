// Bounds-checked reading and writing of uncompressed RDATA (RFC 1035 §3.3). RDATA is stored
// uncompressed, so a compression pointer inside it is an error here (RFC 3597 §4).

import { Name, NameError } from '../name.js';
import { RdataError } from './error.js';
import { keep } from '../slab.js';

export class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new RdataError(`${what} runs past the end of the RDATA`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.buf, p = this.pos;
    this.pos += 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining, 'data');
  }

  /** A <character-string> (RFC 1035 §3.3): one length octet, then that many octets. */
  charString(what: string): Uint8Array {
    const len = this.u8(what);
    return this.bytes(len, `${what} (${len} octets)`);
  }

  /** An uncompressed domain name (RFC 1035 §3.1). */
  name(what: string): Name {
    const labels: Uint8Array[] = [];
    for (;;) {
      const len = this.u8(what);
      if (len === 0) break;
      if ((len & 0xc0) === 0xc0) throw new RdataError(`${what}: compression pointer in stored RDATA`);
      if ((len & 0xc0) !== 0) throw new RdataError(`${what}: unknown label type 0x${len.toString(16)}`);
      labels.push(this.bytes(len, what).slice());
    }
    try {
      return Name.fromLabels(labels);
    } catch (e) {
      if (e instanceof NameError) throw new RdataError(`${what}: ${e.message}`);
      throw e;
    }
  }
}

/**
 * Reads RDATA in place inside a message, where names may be compressed (RFC 1035 §4.1.4): `msg` ends where the
 * RDATA ends, reading starts at `start`, and pointers may reach back anywhere before the name. Name.read bounds
 * the walk (backward pointers only), so a pointer loop cannot hang it.
 */
export class CompressedReader extends Reader {
  constructor(msg: Uint8Array, start: number) {
    super(msg);
    this.pos = start;
  }

  override name(what: string): Name {
    try {
      const { name, next } = Name.read(this.buf, this.pos);
      this.pos = next;
      return name;
    } catch (e) {
      if (e instanceof NameError) throw new RdataError(`${what}: ${e.message}`);
      throw e;
    }
  }
}

export class Writer {
  private readonly out: number[] = [];

  get length(): number {
    return this.out.length;
  }

  u8(v: number): void {
    this.out.push(v & 0xff);
  }

  u16(v: number): void {
    this.out.push((v >>> 8) & 0xff, v & 0xff);
  }

  u32(v: number): void {
    this.out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }

  bytes(b: Uint8Array): void {
    for (const x of b) this.out.push(x);
  }

  charString(b: Uint8Array, what: string): void {
    if (b.length > 255) throw new RdataError(`${what} is ${b.length} octets, more than 255`);
    this.u8(b.length);
    this.bytes(b);
  }

  name(n: Name): void {
    this.bytes(n.wire());
  }

  /** The RDATA, in a shared slab (see slab.ts): zone data lives as long as the zone. */
  finish(): Uint8Array {
    return keep(Uint8Array.from(this.out));
  }
}
