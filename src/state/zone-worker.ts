// Entry point of the thread that reads a large zone file (offthread.ts): parses it, or first applies an
// admin change to its text and then parses the result. Its heap holds the YAML syntax trees and every
// temporary and is thrown away with the thread; the main thread receives the records packed (packed.ts)
// and builds only what it keeps. A thread started with `{ warm: true }` takes jobs as messages (`{ id, job }`,
// answered `{ id, reply }`) until it is ended: offthread.ts keeps one for the changes of mid-sized files, which
// would otherwise spend most of their time starting a thread (compiling its modules).
import { readFileSync } from 'node:fs';
import type { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { parentPort, workerData } from 'node:worker_threads';
import { ZoneFileError } from '../config/errors.js';
import { transferables, ZonePacker, type PackedZone } from '../config/packed.js';
import { parseZoneFileParts, parseZoneSlices, unreadable } from '../config/zonefile.js';
import { isMasterFile, parseAnyZoneFile, type AnyParseOptions } from '../config/masterzone.js';
import { applyEditsPieces, joinPieces, YamlEditError, type Piece, type ZoneEdit } from './yamledit.js';
import { applyMasterEdits } from './masteredit.js';
import { editMasterRanges, rangedRecords, type OwnerRecords, type RangedRecord } from './masterrange.js';
import { writeTemp } from './atomic.js';

export interface ZoneJob {
  file: string;
  /** The file's text; when absent the thread reads the file. */
  text?: string;
  options: Omit<AnyParseOptions, 'readText'>;
  /**
   * When set: apply these to `text` (zone origin `origin`) and parse the result; with `readBack` (first labels
   * of the changed owners, a YAML zone), only the parts of the result that hold them (parseZoneFileParts).
   */
  edit?: { origin: string; edits: ZoneEdit[]; readBack?: string[]; writeTemp?: boolean; ranges?: OwnerRecords[] };
  /** Post a `progress` message about every this many ms while parsing. */
  progressEveryMs?: number;
}

/** Records read so far, the share of the file's lines behind them, and the time spent. */
export interface ZoneProgress {
  records: number;
  percent: number;
  ms: number;
}

export type ZoneReply =
  | { progress: ZoneProgress }
  | { ok: PackedZone; text?: string; tmp?: string; others?: { file: string; text: string }[] }
  | { ranged: RangedRecord[]; tmp: string }
  | { zoneError: { file: string; line?: number; owner?: string; type?: string; reason: string } }
  | { editError: string }
  | { error: string };

/** Characters of a kept span turned into bytes at a time, when the text's offsets are not its bytes'. */
const SPAN_CHUNK = 1 << 20;

/** The job being run (one at a time) and the buffers its answer hands over. */
let job: ZoneJob;
let transfer: ArrayBuffer[] = [];

async function run(j: ZoneJob): Promise<ZoneReply> {
  job = j;
  transfer = [];
  try {
    if (job.edit?.ranges) {
      // A master file's change range by range (masterrange.ts): the few records read back, the file to a temp file.
      const { raw, source } = sourceOf(true);
      const r = editMasterRanges(job.file, source, job.edit.origin, job.edit.edits, job.edit.ranges);
      return { ranged: rangedRecords(r.records), tmp: await writeTemp(job.file, bytesOf(source, r.pieces, raw)) };
    }
    return await whole();
  } catch (err) {
    if (err instanceof ZoneFileError) return { zoneError: { file: err.file, line: err.line, owner: err.owner, type: err.type, reason: err.reason } };
    if (err instanceof YamlEditError) return { editError: err.message };
    return { error: (err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code}: ${(err as Error).message}` : (err as Error).stack ?? String(err) };
  }
}

const data = workerData as ZoneJob | { warm: true };
if ('warm' in data) {
  // One job at a time (offthread.ts sends the next after the answer).
  parentPort!.on('message', (m: { id: number; job: ZoneJob }) => {
    void run(m.job).then((reply) => parentPort!.postMessage({ id: m.id, reply }, transfer));
  });
} else {
  const reply = await run(data);
  parentPort!.postMessage(reply, transfer);
}

async function whole(): Promise<ZoneReply> {
  // A change written here keeps the file's bytes while it is edited: what the edit left as it was is written
  // from them, so no second copy of the text and none of its bytes are made (yamledit.ts applyEditsPieces).
  const { raw, source } = sourceOf(job.edit?.writeTemp === true && !isMasterFile(job.file));
  let text: string | undefined = source;
  let pieces: Piece[] | undefined;
  let master: ReturnType<typeof applyMasterEdits> | undefined;
  // Filled by a sliced edit: the read-back then parses the edited slices only.
  const parts: { head?: string; slices?: { text: string; firstLine: number }[] } = {};
  if (job.edit && isMasterFile(job.file)) {
    master = applyMasterEdits(job.file, source, job.edit.origin, job.edit.edits);
    text = master.text;
  } else if (job.edit) {
    pieces = applyEditsPieces(source, job.edit.origin, job.edit.edits, { ...job.options, parts });
    text = pieces.length === 1 && typeof pieces[0] === 'string' ? pieces[0] : undefined;
  }
  /** The new text whole, made only when something reads all of it. */
  const full = (): string => (text ??= joinPieces(source, pieces!));
  const packer = new ZonePacker();
  const progress = job.progressEveryMs !== undefined ? reporter(full(), job.progressEveryMs) : undefined;
  const onRecord = progress
    ? (rr: Rr, origin: Name) => { packer.add(rr, origin); progress.record(); }
    : (rr: Rr, origin: Name) => packer.add(rr, origin);
  const parse = { ...job.options, readText: master?.readText, onRecord, onProgress: progress?.line };
  const readBack = job.edit?.readBack;
  const packed = packer.finish(readBack && !master
    ? parts.head !== undefined ? parseZoneSlices(job.file, parts.head, parts.slices!, parse) : parseZoneFileParts(job.file, full(), readBack, parse)
    : parseAnyZoneFile(job.file, full(), parse));
  transfer = transferables(packed);
  // The edited file goes to a temp file beside it, written and fsynced here (atomic.ts writeTemp): the main
  // thread commits it with the admin state and never holds the text or its bytes.
  if (job.edit?.writeTemp) return { ok: packed, tmp: await writeTemp(job.file, text ?? bytesOf(source, pieces!, raw)) };
  return job.edit ? { ok: packed, text: full(), others: master?.others } : { ok: packed };
}

/**
 * The bytes of the edited text, piece by piece: new pieces encoded, kept spans written from the bytes read when
 * the file has one byte per character (its text's offsets are then the bytes'), else encoded a megabyte or so at
 * a time, cut after a line end.
 */
function* bytesOf(source: string, pieces: readonly Piece[], raw: Buffer | undefined): Generator<Uint8Array> {
  const sameOffsets = raw !== undefined && raw.length === source.length;
  for (const p of pieces) {
    if (typeof p === 'string') yield Buffer.from(p);
    else if (sameOffsets) yield raw.subarray(p[0], p[1]);
    else {
      for (let a = p[0]; a < p[1];) {
        let b = Math.min(p[1], a + SPAN_CHUNK);
        if (b < p[1]) {
          const nl = source.lastIndexOf('\n', b - 1);
          if (nl >= a) b = nl + 1;
          else if ((source.charCodeAt(b - 1) & 0xfc00) === 0xd800) b--; // a line longer than a chunk: not between a surrogate pair
        }
        yield Buffer.from(source.slice(a, b));
        a = b;
      }
    }
  }
}

/**
 * Counts records and posts progress now and then (the clock is read every 1024 records): the first line after a
 * quarter of `everyMs` (a load that takes a second says so while it runs), then every `everyMs`.
 */
function reporter(text: string, everyMs: number): { record(): void; line(n: number): void } {
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  const started = Date.now();
  let next = started + everyMs / 4;
  let records = 0;
  let reached = 0;
  return {
    record() {
      if ((++records & 1023) !== 0) return;
      const now = Date.now();
      if (now < next) return;
      next = now + everyMs;
      const percent = Math.min(99, Math.floor((reached * 100) / lines));
      parentPort!.postMessage({ progress: { records, percent, ms: now - started } } satisfies ZoneReply);
    },
    line(n) {
      reached = n;
    },
  };
}

/**
 * The job's text (given, or read from its file) and, when `keepBytes` and the thread read the file, the bytes read
 * (what bytesOf writes kept spans from).
 */
function sourceOf(keepBytes: boolean): { raw?: Buffer; source: string } {
  if (job.text !== undefined) return { source: job.text };
  try {
    if (!keepBytes) return { source: readFileSync(job.file, 'utf8') };
    const raw = readFileSync(job.file);
    return { raw, source: raw.toString('utf8') };
  } catch (err) {
    throw unreadable(job.file, err);
  }
}
