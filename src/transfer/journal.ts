// The IXFR journal (RFC 1995 §4 needs the differences between versions): one file per change under
// `<state>/journal/<zone>/`, `<seq>-<from>-<to>.ixfr`, written atomically (state/atomic.ts) so a crash
// leaves whole entries only. Bounded: past `max` changes the oldest are removed, and a client asking for
// an older version gets the whole zone (AXFR-style IXFR, §4). A version that cannot be expressed as a
// difference (the first load after the file was edited while tandem was down) resets the journal.
// Signed transfers use an in-memory journal (no folder): their RRSIGs are made by this process and a
// restart makes others, so differences from before a restart would not apply.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readRecords, recordsSize, writeRecords } from './wire-records.js';
import { ensureDir, writeFileAtomic } from '../state/atomic.js';
import type { Diff } from './content.js';

export interface Change extends Diff {
  from: number;
  to: number;
}

interface Item {
  seq: number;
  from: number;
  to: number;
  file?: string;
  /** In-memory journals keep the change itself. */
  change?: Change;
}

const MAGIC = 'tandem-ixfr-1\n';
const FILE = /^(\d{10})-(\d+)-(\d+)\.ixfr$/;

export class Journal {
  private items: Item[] = [];
  private seq = 0;

  private constructor(private readonly dir: string | undefined, private readonly max: number) {}

  /** A journal kept in `dir` (created when missing); undefined `dir`: in memory only. */
  static async open(dir: string | undefined, max: number): Promise<Journal> {
    const j = new Journal(dir, max);
    if (!dir) return j;
    await ensureDir(dir);
    for (const name of (await readdir(dir)).sort()) {
      const m = FILE.exec(name);
      if (!m) continue;
      j.items.push({ seq: Number(m[1]), from: Number(m[2]), to: Number(m[3]), file: join(dir, name) });
    }
    j.seq = j.items.length ? j.items[j.items.length - 1].seq : 0;
    return j;
  }

  /** The serial the newest change leads to; undefined when empty. */
  get last(): number | undefined {
    return this.items.length ? this.items[this.items.length - 1].to : undefined;
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * Records the change `from` -> `to`. When the journal does not end at `from`, the older changes can no
   * longer reach the new version and are dropped first.
   */
  async append(change: Change): Promise<void> {
    if (this.max === 0) return this.reset();
    if (this.last !== undefined && this.last !== change.from) await this.reset();
    const item: Item = { seq: ++this.seq, from: change.from, to: change.to };
    if (this.dir) {
      item.file = join(this.dir, `${String(item.seq).padStart(10, '0')}-${change.from}-${change.to}.ixfr`);
      await writeFileAtomic(item.file, encodeChange(change));
    } else item.change = change;
    this.items.push(item);
    while (this.items.length > this.max) await this.drop(this.items.shift()!);
  }

  /** Forgets every change (the next version does not follow from the last one kept). */
  async reset(): Promise<void> {
    const old = this.items;
    this.items = [];
    for (const item of old) await this.drop(item);
  }

  /** The changes leading from `serial` to `current`, oldest first; undefined when the journal lacks them. */
  async since(serial: number, current: number): Promise<Change[] | undefined> {
    const start = this.items.findIndex((i) => i.from === serial);
    if (start < 0) return undefined;
    const out: Change[] = [];
    let at = serial;
    for (let i = start; i < this.items.length; i++) {
      const item = this.items[i];
      if (item.from !== at) return undefined;
      out.push(item.change ?? decodeChange(await readFile(item.file!)));
      at = item.to;
      if (at === current) return out;
    }
    return undefined;
  }

  private async drop(item: Item): Promise<void> {
    if (item.file) await rm(item.file, { force: true });
  }
}

// ---- file format: MAGIC, then from, to, deleted count, added count (u32 each), then the records in
// uncompressed wire form (owner, type, class, TTL, RDLENGTH, RDATA).

export function encodeChange(c: Change): Uint8Array {
  const buf = Buffer.alloc(MAGIC.length + 16 + recordsSize(c.deleted) + recordsSize(c.added));
  let o = buf.write(MAGIC, 0, 'latin1');
  o = buf.writeUInt32BE(c.from, o);
  o = buf.writeUInt32BE(c.to, o);
  o = buf.writeUInt32BE(c.deleted.length, o);
  o = buf.writeUInt32BE(c.added.length, o);
  writeRecords(buf, writeRecords(buf, o, c.deleted), c.added);
  return buf;
}

export function decodeChange(bytes: Uint8Array): Change {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error('not an IXFR journal entry');
  const o = MAGIC.length;
  const from = buf.readUInt32BE(o), to = buf.readUInt32BE(o + 4), dn = buf.readUInt32BE(o + 8), an = buf.readUInt32BE(o + 12);
  const deleted = readRecords(bytes, o + 16, dn);
  const added = readRecords(bytes, deleted.next, an);
  return { from, to, deleted: deleted.rrs, added: added.rrs };
}
