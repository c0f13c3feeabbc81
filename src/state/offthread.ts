// Large zone files are read on a worker thread. Two reasons: the DNS server keeps answering the other
// zones (and the last good copy of this one) while a million-record file is parsed or changed, and the
// parser's garbage (YAML syntax trees, temporaries) lives and dies in the thread's own heap instead of
// fragmenting the main heap, where the zone then stays for the life of the process (issue 6: memory).
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZoneFileError } from '../config/errors.js';
import { unpackLoadedZone, type PackedZone } from '../config/packed.js';
import { loadZoneFile, parseZoneFile, parseZoneFileParts, parseZoneSlices, unreadable, type LoadedZone } from '../config/zonefile.js';
import { isMasterFile, parseAnyZoneFile, type AnyParseOptions } from '../config/masterzone.js';
import { applyEdits, YamlEditError, type ZoneEdit } from './yamledit.js';
import { writeTemp } from './atomic.js';
import { applyMasterEdits } from './masteredit.js';
import { editMasterRanges, rangedRecords, type OwnerRecords, type RangedRecord } from './masterrange.js';
import type { ZoneJob, ZoneProgress, ZoneReply } from './zone-worker.js';

export type { ZoneProgress } from './zone-worker.js';

/** How often a large load reports its progress, by default. */
export const PROGRESS_EVERY_MS = 1000;

/** Files of this many characters or more are read on a worker thread; smaller ones cost less in place. */
export const OFF_THREAD_FROM_BYTES = 1 << 20;

export interface AsyncParseOptions extends Omit<AnyParseOptions, 'readText'> {
  /** Use a worker thread from this size on (default OFF_THREAD_FROM_BYTES; tests set it lower). */
  offThreadFromBytes?: number;
}

/** parseZoneFile (parseMasterZone for a `.zone` file), on a worker thread for large texts. Same result, same ZoneFileError. */
export async function parseZoneFileAsync(file: string, text: string, options: AsyncParseOptions = {}): Promise<LoadedZone> {
  const { offThreadFromBytes = OFF_THREAD_FROM_BYTES, ...parse } = options;
  if (text.length < offThreadFromBytes) return parseAnyZoneFile(file, text, parse);
  return (await run({ file, text, options: parse })).loaded;
}

/**
 * Applies admin edits to a zone file's text and parses the result; on a worker thread for large texts. YAML
 * zones are edited by yamledit.ts, master-file zones by masteredit.ts (which may also change $INCLUDEd files
 * and the settings file: `others`, to be written with the main file). Throws YamlEditError when the text
 * cannot be edited, ZoneFileError when the result is not a valid zone file.
 */
export async function editZoneFileAsync(
  file: string, text: string, origin: string, edits: ZoneEdit[], options: AsyncParseOptions & { readBack?: string[] } = {},
): Promise<{ text: string; others?: { file: string; text: string }[]; loaded: LoadedZone; packed?: PackedZone }> {
  const { offThreadFromBytes = OFF_THREAD_FROM_BYTES, readBack, ...parse } = options;
  if (readBack && !isMasterFile(file)) {
    // Only the parts holding the changed owners are parsed again (`loaded` then holds their records, not the zone's).
    if (text.length < offThreadFromBytes) {
      const next = applyEdits(text, origin, edits, parse);
      return { text: next, loaded: parseZoneFileParts(file, next, readBack, parse) };
    }
    const r = await run({ file, text, options: parse, edit: { origin, edits, readBack } }, undefined, text.length);
    return { text: r.text!, loaded: r.loaded };
  }
  if (text.length < offThreadFromBytes) {
    if (isMasterFile(file)) {
      const m = applyMasterEdits(file, text, origin, edits);
      return { text: m.text, others: m.others, loaded: parseAnyZoneFile(file, m.text, { ...parse, readText: m.readText }) };
    }
    const next = applyEdits(text, origin, edits, parse);
    return { text: next, loaded: parseZoneFile(file, next, parse) };
  }
  const r = await run({ file, text, options: parse, edit: { origin, edits } });
  return { text: r.text!, others: r.others, loaded: r.loaded, packed: r.packed };
}

/**
 * An admin change of records written into a YAML zone file read from disk, with only the parts holding the
 * changed owners parsed again (`readBack`: their first labels, parseZoneFileParts): the edited file in a temp
 * file beside it (atomic.ts writeTemp; the caller commits it or removes it), and what those parts hold. A large
 * file is read, edited and written on a worker thread, so neither its text nor its bytes enter this heap
 * (issue 16: a change of a large zone costs the change).
 */
export async function editZoneFileParts(
  file: string, origin: string, edits: ZoneEdit[], readBack: string[], options: AsyncParseOptions = {},
): Promise<{ tmp: string; loaded: LoadedZone }> {
  const { offThreadFromBytes = OFF_THREAD_FROM_BYTES, ...parse } = options;
  const bytes = await sizeOf(file);
  if (bytes < offThreadFromBytes) {
    const text = await textOf(file);
    const parts: { head?: string; slices?: { text: string; firstLine: number }[] } = {};
    const next = applyEdits(text, origin, edits, { ...parse, parts });
    const loaded = parts.head !== undefined ? parseZoneSlices(file, parts.head, parts.slices!, parse) : parseZoneFileParts(file, next, readBack, parse);
    return { tmp: await writeTemp(file, next), loaded };
  }
  const r = await run({ file, options: parse, edit: { origin, edits, readBack, writeTemp: true } }, undefined, bytes);
  return { tmp: r.tmp!, loaded: r.loaded };
}

/** The file's size in bytes; a ZoneFileError when it cannot be read. */
async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    throw unreadable(file, err);
  }
}

/** The file's text; a ZoneFileError when it cannot be read. */
function textOf(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((err: unknown) => { throw unreadable(file, err); });
}

/**
 * An admin change of records written into a master file read from disk range by range (masterrange.ts: only
 * the lines of the changed owners and of the SOA are read, edited and read back), into a temp file beside it
 * (the caller commits or removes it). `before`: the changed owners' records as served. Returns the records read
 * back, the file's SOA first. A large file is read, edited and written on a worker thread. Throws when the change
 * cannot be made this way (masterrange.ts MasterRangeUnfit, a ZoneFileError): the caller then edits the whole file.
 */
export async function editMasterFileRanges(
  file: string, origin: string, edits: ZoneEdit[], before: OwnerRecords[], options: { offThreadFromBytes?: number } = {},
): Promise<{ tmp: string; records: RangedRecord[] }> {
  const { offThreadFromBytes = OFF_THREAD_FROM_BYTES } = options;
  const bytes = await sizeOf(file);
  if (bytes < offThreadFromBytes) {
    const r = editMasterRanges(file, await textOf(file), origin, edits, before);
    return { tmp: await writeTemp(file, r.text), records: rangedRecords(r.records) };
  }
  const reply = await answerWarm({ file, options: {}, edit: { origin, edits, ranges: before } }, bytes);
  if ('ranged' in reply) return { tmp: reply.tmp, records: reply.ranged };
  throw failure(file, reply);
}

export interface LoadOptions extends Pick<AnyParseOptions, 'zoneDefaults'> {
  /** Told now and then how a large file's parse goes (files read on a worker thread only). */
  onProgress?: (p: ZoneProgress) => void;
  /** How often onProgress is called (default PROGRESS_EVERY_MS). */
  progressEveryMs?: number;
}

/**
 * loadZoneFile (or a master-file zone, config/masterzone.ts), parsing large files on a worker thread (which reads
 * the file itself: its text never enters this heap).
 */
export async function loadZoneFileAsync(file: string, options: LoadOptions = {}): Promise<LoadedZone> {
  return (await loadZoneFilePacked(file, options)).loaded;
}

/** loadZoneFileAsync, with the records as the thread packed them (large files), to hand to other processes. */
export async function loadZoneFilePacked(file: string, options: LoadOptions = {}): Promise<{ loaded: LoadedZone; packed?: PackedZone }> {
  const { onProgress, progressEveryMs = PROGRESS_EVERY_MS, ...parse } = options;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (err) {
    throw unreadable(file, err);
  }
  // A file's bytes are at least its characters (UTF-8), so a file under the limit is a text under it.
  if (info.size < OFF_THREAD_FROM_BYTES) {
    if (!isMasterFile(file)) return { loaded: await loadZoneFile(file) };
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw unreadable(file, err);
    }
    return { loaded: parseAnyZoneFile(file, text, parse) };
  }
  const r = await run({ file, options: { ...parse, mtime: info.mtime }, ...(onProgress ? { progressEveryMs } : {}) }, onProgress);
  return { loaded: r.loaded, packed: r.packed };
}

async function run(job: ZoneJob, onProgress?: (p: ZoneProgress) => void, editOf?: number): Promise<{ loaded: LoadedZone; packed: PackedZone; text?: string; tmp?: string; others?: { file: string; text: string }[] }> {
  const reply = editOf !== undefined ? await answerWarm(job, editOf) : await answer(job, onProgress);
  if ('ok' in reply) return { loaded: unpackLoadedZone(reply.ok), packed: reply.ok, text: reply.text, tmp: reply.tmp, others: reply.others };
  throw failure(job.file, reply);
}

/** The error a thread's answer other than a result stands for. */
function failure(file: string, reply: Exclude<ZoneReply, { progress: ZoneProgress }>): Error {
  if ('zoneError' in reply) return new ZoneFileError(reply.zoneError);
  if ('editError' in reply) return new YamlEditError(reply.editError);
  if ('error' in reply) return new ZoneFileError({ file, reason: `the zone parser failed: ${reply.error}` });
  return new ZoneFileError({ file, reason: 'the zone parser gave an answer of another kind' });
}

/**
 * Changes of files under this size run on a thread kept for the next change (`warm`): starting a thread costs about
 * 100 ms of CPU (compiling its modules), more than the change of such a file. Larger files and loads get a thread
 * of their own, whose heap (a large text's garbage) goes with it.
 */
export const WARM_BELOW_BYTES = 8 << 20;
/** A kept thread idle this long is ended. */
const WARM_IDLE_MS = 30_000;

type Answer = Exclude<ZoneReply, { progress: ZoneProgress }>;
let warm: { worker: Worker; busy: boolean; timer?: NodeJS.Timeout } | undefined;
let warmIds = 0;

/** Threads started so far (tests: a run of changes starts one). */
export const offThreadStats = { started: 0 };

/** `job` (a change of a file of `bytes`) on the kept thread, started when there is none; a thread of its own while that one is busy. */
function answerWarm(job: ZoneJob, bytes: number): Promise<Answer> {
  if (bytes >= WARM_BELOW_BYTES || warm?.busy) return answer(job);
  if (!warm) {
    warm = { worker: spawn({ warm: true }), busy: false };
  }
  const t = warm;
  t.busy = true;
  t.worker.ref(); // a job keeps the process alive until it is answered; an idle kept thread does not
  clearTimeout(t.timer);
  const id = ++warmIds;
  return new Promise<Answer>((resolve, reject) => {
    const end = () => {
      t.worker.off('message', onMessage);
      t.worker.off('error', onError);
      t.worker.off('exit', onExit);
    };
    const discard = () => {
      if (warm === t) warm = undefined;
      void t.worker.terminate();
    };
    const onMessage = (m: { id: number; reply: Answer }) => {
      if (m.id !== id) return;
      end();
      t.busy = false;
      t.worker.unref();
      t.timer = setTimeout(discard, WARM_IDLE_MS).unref();
      resolve(m.reply);
    };
    const onError = (err: Error) => {
      end();
      discard();
      reject(threadFailed(job.file, err));
    };
    const onExit = (code: number) => {
      end();
      discard();
      reject(threadExited(job.file, code));
    };
    t.worker.on('message', onMessage);
    t.worker.once('error', onError);
    t.worker.once('exit', onExit);
    t.worker.postMessage({ id, job });
  });
}

/** A zone thread that failed (an error thrown outside its job's own handling) or stopped before it answered. */
const threadFailed = (file: string, err: Error) => new ZoneFileError({ file, reason: `the zone parser failed: ${err.message}` });
const threadExited = (file: string, code: number) => new ZoneFileError({ file, reason: `the zone parser stopped without an answer (exit code ${code})` });

/** Runs `job` on a worker thread of its own: its answer. */
function answer(job: ZoneJob, onProgress?: (p: ZoneProgress) => void): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const worker = spawn(job);
    let answer: Exclude<ZoneReply, { progress: ZoneProgress }> | undefined;
    worker.on('message', (m: ZoneReply) => {
      if ('progress' in m) onProgress?.(m.progress);
      else answer = m;
    });
    worker.once('error', (err) => reject(threadFailed(job.file, err)));
    worker.once('exit', (code) => {
      if (answer) resolve(answer);
      else reject(threadExited(job.file, code));
    });
  });
}

function spawn(job: ZoneJob | { warm: true }): Worker {
  offThreadStats.started++;
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./zone-worker.js', here), { workerData: job });
  // Running from TypeScript source (tests, tsx): the thread registers tsx before importing the entry.
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./zone-worker.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: job });
}
