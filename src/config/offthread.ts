// Large zone files are parsed on a worker thread. Two reasons: the DNS server keeps answering the other
// zones (and the last good copy of this one) while a million-record file is read, and the parser's
// garbage (YAML syntax trees, temporaries) lives and dies in the thread's own heap instead of fragmenting
// the main heap, where the zone then stays for the life of the process (issue 6: memory of a 1M zone).
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZoneFileError } from './errors.js';
import { unpackLoadedZone } from './packed.js';
import type { ParseJob, ParseReply } from './parse-worker.js';
import { parseZoneFile, type LoadedZone, type ParseOptions } from './zonefile.js';

/** Files of this many characters or more are parsed on a worker thread; smaller ones cost less in place. */
export const OFF_THREAD_FROM_BYTES = 1 << 20;

export interface AsyncParseOptions extends ParseOptions {
  /** Parse on a worker thread from this size on (default OFF_THREAD_FROM_BYTES; tests set it lower). */
  offThreadFromBytes?: number;
}

/** parseZoneFile, on a worker thread for large texts. Same result, same ZoneFileError. */
export async function parseZoneFileAsync(file: string, text: string, options: AsyncParseOptions = {}): Promise<LoadedZone> {
  const { offThreadFromBytes = OFF_THREAD_FROM_BYTES, ...parse } = options;
  if (text.length < offThreadFromBytes) return parseZoneFile(file, text, parse);
  const reply = await runParser({ file, text, options: parse });
  if ('ok' in reply) return unpackLoadedZone(reply.ok);
  if ('zoneError' in reply) throw new ZoneFileError(reply.zoneError);
  throw new ZoneFileError({ file, reason: `the zone parser failed: ${reply.error}` });
}

/** loadZoneFile, parsing large files on a worker thread. */
export async function loadZoneFileAsync(file: string, options: AsyncParseOptions = {}): Promise<LoadedZone> {
  let text: string;
  let mtime: Date;
  try {
    [text, mtime] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mtime)]);
  } catch (err) {
    throw new ZoneFileError({ file, reason: `cannot read the file: ${(err as Error).message}` });
  }
  return parseZoneFileAsync(file, text, { ...options, mtime });
}

function runParser(job: ParseJob): Promise<ParseReply> {
  return new Promise((resolve, reject) => {
    const worker = spawn(job);
    let reply: ParseReply | undefined;
    worker.once('message', (m: ParseReply) => { reply = m; });
    worker.once('error', (err) => reject(new ZoneFileError({ file: job.file, reason: `the zone parser failed: ${err.message}` })));
    worker.once('exit', (code) => {
      if (reply) resolve(reply);
      else reject(new ZoneFileError({ file: job.file, reason: `the zone parser stopped without an answer (exit code ${code})` }));
    });
  });
}

function spawn(job: ParseJob): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', here), { workerData: job });
  // Running from TypeScript source (tests, tsx): the thread registers tsx before importing the entry.
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./parse-worker.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: job });
}
