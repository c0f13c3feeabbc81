// A secondary zone's last good copy and its refresh state, in `<state>/secondary/`: `<zone>.xfr` holds the
// records as last transferred (uncompressed wire form, transfer/wire-records.ts), `<zone>.json` the
// timers and the last error. Both are written atomically, so a restart serves the copy at once (issue 11)
// and a transfer cut midway never leaves half a zone.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { ensureDir, writeFileAtomic, WriteError } from './atomic.js';
import { readRecords, recordsSize, writeRecords } from '../transfer/wire-records.js';

const MAGIC = 'tandem-zone-copy-1\n';

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
  return readRecords(bytes, MAGIC.length + 4, buf.readUInt32BE(MAGIC.length)).rrs;
}

export async function writeCopy(stateDir: string, origin: Name, records: readonly Rr[]): Promise<void> {
  await ensureDir(join(stateDir, 'secondary'));
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
