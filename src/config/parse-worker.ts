// Entry point of the thread that parses a large zone file (offthread.ts). Its heap holds the YAML syntax
// trees and every temporary of parsing and is thrown away with the thread; the main thread receives the
// records packed (packed.ts) and builds only what it keeps.
import { parentPort, workerData } from 'node:worker_threads';
import { ZoneFileError } from './errors.js';
import { packLoadedZone, transferables } from './packed.js';
import { parseZoneFile, type ParseOptions } from './zonefile.js';

export interface ParseJob {
  file: string;
  text: string;
  options: ParseOptions;
}

export type ParseReply =
  | { ok: ReturnType<typeof packLoadedZone> }
  | { zoneError: { file: string; line?: number; owner?: string; type?: string; reason: string } }
  | { error: string };

const job = workerData as ParseJob;
let reply: ParseReply;
let transfer: ArrayBuffer[] = [];
try {
  const packed = packLoadedZone(parseZoneFile(job.file, job.text, job.options));
  reply = { ok: packed };
  transfer = transferables(packed);
} catch (err) {
  if (err instanceof ZoneFileError) reply = { zoneError: { file: err.file, line: err.line, owner: err.owner, type: err.type, reason: err.reason } };
  else reply = { error: (err as Error).stack ?? String(err) };
}
parentPort!.postMessage(reply, transfer);
