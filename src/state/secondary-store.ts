// A secondary zone's last good copy and its refresh state, in `<state>/secondary/`: `<zone>.xfr` holds the
// records as last transferred (uncompressed wire form, transfer/wire-records.ts), `<zone>.json` the
// timers and the last error. Both are written atomically, so a restart serves the copy at once (issue 11)
// and a transfer cut midway never leaves half a zone.
//
// An IXFR applied as a delta (issue 16: a change costs the change) does not write the whole copy again: it is
// appended to `<zone>.xfr.journal` (each entry whole, with its SHA-256, fsynced), and reading the copy applies the
// journal's entries in order. An entry cut by a crash, or one that does not start at the copy's serial so far, ends
// the journal there: the copy is then of an older version, and the next refresh transfers from it. Writing the whole
// copy removes the journal first (a crash in between leaves the older copy, as above).
import { open, readFile, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRType } from '../dns/types.js';
import { ensureDir, fsyncDir, writeFileAtomic, WriteError } from './atomic.js';
import { readRecords, recordsSize, writeRecords } from '../transfer/wire-records.js';
import type { Change } from '../transfer/journal.js';
import { HeldRecords } from '../transfer/client.js';
import { soaSerial } from './version.js';

const MAGIC = 'tandem-zone-copy-1\n';
const JOURNAL_MAGIC = 'tandem-zone-copy-journal-1\n';

export interface SecondaryMeta {
  /** Serial of the copy. */
  serial: number;
  /** `host:port` the copy came from. */
  primary?: string;
  /** ISO time of the last transfer that changed the copy. */
  lastTransfer?: string;
  /** Epoch seconds of the last successful check with a primary (SOA query or transfer). */
  lastRefresh?: number;
  /** Epoch seconds after which the copy is no longer served (SOA EXPIRE after the last refresh, RFC 1035 §3.3.13). */
  expiresAt?: number;
  lastError?: { at: string; primary: string; reason: string };
}

function base(stateDir: string, origin: Name): string {
  return join(stateDir, 'secondary', origin.key === '.' ? '.root' : origin.key.slice(0, -1));
}

export async function readCopy(stateDir: string, origin: Name): Promise<Rr[] | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(`${base(stateDir, origin)}.xfr`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error(`${base(stateDir, origin)}.xfr: not a zone copy`);
  const records = readRecords(bytes, MAGIC.length + 4, buf.readUInt32BE(MAGIC.length)).rrs;
  const journal = (await readJournal(stateDir, origin)).entries;
  return journal.length === 0 ? records : withJournal(records, journal);
}

/**
 * The copy's records with the journal's entries applied in order, all in one pass over the copy (transfer/client.ts
 * HeldRecords): an entry that does not start at the serial so far, or deletes a record not held, ends it there,
 * undone (the copy is then of the version before it).
 */
function withJournal(records: readonly Rr[], journal: readonly CopyChange[]): Rr[] {
  let soa = records.find((r) => r.type === RRType.SOA);
  if (!soa) return [...records];
  const held = new HeldRecords(records);
  for (const entry of journal) {
    if (soaSerial(soa.rdata) !== entry.from) break;
    try {
      held.apply(entry.changes);
    } catch {
      break;
    }
    soa = entry.soa;
  }
  return held.records(soa);
}

/**
 * The serial of the stored copy (its journal applied) without reading the whole copy: the last journal entry's SOA, or
 * the copy's first record (its SOA: every copy is written SOA first). Undefined when there is no copy or it does not
 * say. A copy of a version never served (written, then the refresh state's write failed) is no base for a journal entry.
 */
async function copySerial(stateDir: string, origin: Name, journal: readonly CopyChange[]): Promise<number | undefined> {
  let fh;
  try {
    fh = await open(`${base(stateDir, origin)}.xfr`, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(MAGIC.length + 4 + 255 + 10 + 2048);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const buf = head.subarray(0, bytesRead);
    if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC || buf.length < MAGIC.length + 4 || buf.readUInt32BE(MAGIC.length) === 0) return undefined;
    const first = readRecords(buf, MAGIC.length + 4, 1).rrs[0];
    if (first.type !== RRType.SOA) return undefined;
    let serial = soaSerial(first.rdata);
    // The entries that apply, in order (readCopy applies the same ones).
    for (const e of journal) {
      if (e.from !== serial) break;
      serial = soaSerial(e.soa.rdata);
    }
    return serial;
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/** One IXFR as the journal keeps it: from the copy's serial `from`, its changes, the SOA it ends with. */
export interface CopyChange {
  from: number;
  soa: Rr;
  changes: Change[];
}

/** How much the journal holds (after an append): entries and bytes; and the whole copy's size. */
export interface JournalSize {
  entries: number;
  bytes: number;
  copyBytes: number;
}

const journalPath = (stateDir: string, origin: Name) => `${base(stateDir, origin)}.xfr.journal`;

/** A journal of this many IXFRs, or larger than a quarter of the copy (and this many bytes), is folded into the copy. */
export const JOURNAL_FOLD_ENTRIES = 256;
export const JOURNAL_FOLD_MIN_BYTES = 1 << 20;

/**
 * Appends an IXFR applied to the copy (`readCopy` applies it after the copy), written whole and fsynced before this
 * resolves. Returns the journal's size, for the caller to write the whole copy instead when it grows large; undefined
 * (nothing written) when the copy is not of the serial the IXFR starts at (`copySerial`).
 */
export async function appendCopyChange(stateDir: string, origin: Name, change: CopyChange): Promise<JournalSize | undefined> {
  const file = journalPath(stateDir, origin);
  let size = 4 + 4 + recordsSize([change.soa]) + 4;
  for (const c of change.changes) size += 4 + 4 + 4 + recordsSize(c.deleted) + 4 + recordsSize(c.added);
  const body = Buffer.alloc(size);
  let o = body.writeUInt32BE(change.from >>> 0, 0);
  o = body.writeUInt32BE(1, o);
  o = writeRecords(body, o, [change.soa]);
  o = body.writeUInt32BE(change.changes.length, o);
  for (const c of change.changes) {
    o = body.writeUInt32BE(c.from >>> 0, o);
    o = body.writeUInt32BE(c.to >>> 0, o);
    o = body.writeUInt32BE(c.deleted.length, o);
    o = writeRecords(body, o, c.deleted);
    o = body.writeUInt32BE(c.added.length, o);
    o = writeRecords(body, o, c.added);
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  const sum = createHash('sha256').update(body).digest();
  try {
    // After the whole entries only: an append cut short before (a full disk, a crash) is cut off first, or the
    // entries after it could never be read.
    const held = await readJournal(stateDir, origin);
    if ((await copySerial(stateDir, origin, held.entries)) !== change.from) return undefined;
    const fh = await open(file, held.end === 0 ? 'w' : 'r+', 0o644);
    try {
      const entry = Buffer.concat([head, body, sum]);
      const at = held.end === 0 ? JOURNAL_MAGIC.length : held.end;
      if (held.end === 0) await fh.write(JOURNAL_MAGIC, 0, 'latin1');
      await fh.truncate(at);
      await fh.write(entry, 0, entry.length, at);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (held.end === 0) await fsyncDir(join(stateDir, 'secondary'));
    const [j, c] = await Promise.all([stat(file), stat(`${base(stateDir, origin)}.xfr`)]);
    return { entries: held.entries.length + 1, bytes: j.size, copyBytes: c.size };
  } catch (err) {
    throw new WriteError(file, err);
  }
}

/**
 * The journal's whole entries in order, and where the last one ends (0: no journal, or not one); a cut or damaged
 * entry ends it.
 */
async function readJournal(stateDir: string, origin: Name): Promise<{ entries: CopyChange[]; end: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(journalPath(stateDir, origin));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], end: 0 };
    throw err;
  }
  const entries: CopyChange[] = [];
  if (bytes.toString('latin1', 0, JOURNAL_MAGIC.length) !== JOURNAL_MAGIC) return { entries, end: 0 };
  let o = JOURNAL_MAGIC.length;
  while (o + 4 <= bytes.length) {
    const len = bytes.readUInt32BE(o);
    const end = o + 4 + len + 32;
    if (end > bytes.length) break;
    const body = bytes.subarray(o + 4, o + 4 + len);
    if (!createHash('sha256').update(body).digest().equals(bytes.subarray(o + 4 + len, end))) break;
    try {
      entries.push(readChange(body));
    } catch {
      break;
    }
    o = end;
  }
  return { entries, end: o };
}

function readChange(body: Buffer): CopyChange {
  const from = body.readUInt32BE(0);
  const soa = readRecords(body, 8, body.readUInt32BE(4));
  let o = soa.next;
  const n = body.readUInt32BE(o);
  o += 4;
  const changes: Change[] = [];
  for (let i = 0; i < n; i++) {
    const cFrom = body.readUInt32BE(o), to = body.readUInt32BE(o + 4);
    const deleted = readRecords(body, o + 12, body.readUInt32BE(o + 8));
    o = deleted.next;
    const added = readRecords(body, o + 4, body.readUInt32BE(o));
    o = added.next;
    changes.push({ from: cFrom, to, deleted: deleted.rrs, added: added.rrs });
  }
  return { from, soa: soa.rrs[0], changes };
}

/**
 * The journal applied to the copy and the copy written whole (an IXFR journal grown large). The journal goes after
 * the copy is written: its entries start at serials before the new copy's, so a crash in between applies none of them.
 */
export async function foldCopy(stateDir: string, origin: Name): Promise<void> {
  const records = await readCopy(stateDir, origin);
  if (!records) return;
  await writeWhole(stateDir, origin, records);
  await rm(journalPath(stateDir, origin), { force: true }).catch((err: unknown) => { throw new WriteError(journalPath(stateDir, origin), err); });
}

export async function writeCopy(stateDir: string, origin: Name, records: readonly Rr[]): Promise<void> {
  await ensureDir(join(stateDir, 'secondary'));
  // The journal was of the copy this one replaces (it may be of another history: a new AXFR): gone first. A crash
  // before the copy is written leaves the older copy, which the next refresh transfers from.
  await rm(journalPath(stateDir, origin), { force: true }).catch((err: unknown) => { throw new WriteError(journalPath(stateDir, origin), err); });
  await writeWhole(stateDir, origin, records);
}

async function writeWhole(stateDir: string, origin: Name, records: readonly Rr[]): Promise<void> {
  const buf = Buffer.alloc(MAGIC.length + 4 + recordsSize(records));
  const o = buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32BE(records.length, o);
  writeRecords(buf, o + 4, records);
  await write(`${base(stateDir, origin)}.xfr`, buf);
}

/** writeFileAtomic, its failure a WriteError naming the file and the reason (`…/sec.test.xfr: no space left on device`). */
async function write(file: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeFileAtomic(file, data);
  } catch (err) {
    throw new WriteError(file, err);
  }
}

export async function readMeta(stateDir: string, origin: Name): Promise<SecondaryMeta | undefined> {
  try {
    return JSON.parse(await readFile(`${base(stateDir, origin)}.json`, 'utf8')) as SecondaryMeta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${base(stateDir, origin)}.json: ${(err as Error).message}`);
  }
}

export async function writeMeta(stateDir: string, origin: Name, meta: SecondaryMeta): Promise<void> {
  await ensureDir(join(stateDir, 'secondary'));
  await write(`${base(stateDir, origin)}.json`, JSON.stringify(meta, null, 2) + '\n');
}
