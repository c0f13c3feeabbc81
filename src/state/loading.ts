// The first read of the zones folder, as the operator sees it: which file goes first (the smallest, so a zone
// of a million records never keeps a small one waiting), which zone a file is expected to hold (answered
// SERVFAIL until it is loaded, the way BIND answers for a configured zone that is not loaded yet, rather
// than REFUSED as for a zone that is not ours), progress lines for large files and one line per zone once
// it is in service.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { sweepTemp } from './atomic.js';
import { isMasterFile, masterOrigin } from '../config/masterzone.js';
import { originFromFileName } from '../config/zone-settings.js';
import { Name } from '../dns/name.js';
import type { ZoneProgress } from './offthread.js';
import type { Entry } from './record-views.js';

/**
 * Before the first read: removes the temp files a killed tandem left in the folders it writes (the zones
 * folder, the state folder and its zones/, secondary/, keys/ and journal/ folders), one log line if any.
 */
export async function sweepAbandoned(zonesDir: string, stateDir: string, logger: Logger): Promise<void> {
  const sub = async (d: string) => (await readdir(d, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => join(d, e.name));
  const dirs = [zonesDir, stateDir, ...['zones', 'secondary', 'keys', 'journal', 'sync'].map((d) => join(stateDir, d))];
  dirs.push(...await sub(join(stateDir, 'keys')), ...await sub(join(stateDir, 'journal')));
  // Never fatal: a folder tandem may not write holds no temp file of ours to remove.
  const removed = (await Promise.all(dirs.map((d) => sweepTemp(d).catch((err: unknown) => {
    logger.warn({ dir: d, err: (err as Error).message }, 'could not remove temp files of an interrupted write');
    return [];
  })))).flat();
  if (removed.length) logger.info({ removed }, 'removed temp files of an interrupted write (the files they were for are whole: old or new)');
}

/** Zone files in the order they are loaded: smallest first (ties by name), so small zones are served at once. */
export async function loadOrder(files: readonly string[]): Promise<string[]> {
  const sized = await Promise.all(files.map(async (file) => ({ file, size: await stat(file).then((s) => s.size, () => 0) })));
  return sized.sort((a, b) => a.size - b.size || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)).map((s) => s.file);
}

/**
 * The zone a file is expected to hold, from its name (`<zone>.yaml`, `<zone>.zone`), before it is read; a
 * file whose `zone.origin` says otherwise only makes this guess wrong while it loads. Undefined when the
 * name is no domain name.
 */
export function expectedOrigin(file: string): Name | undefined {
  try {
    if (isMasterFile(file)) return masterOrigin(file);
    const text = originFromFileName(file);
    return Name.fromText(text.endsWith('.') ? text : `${text}.`);
  } catch {
    return undefined;
  }
}

/** What the "zone in service" line says about a zone. */
export interface ZoneLoaded {
  zone: string;
  file: string;
  records: number;
  signed: boolean;
  presigned?: true;
  denial?: string;
  serial: number;
  /** From the start of its load to being served here. */
  ms: number;
  /** A secondary zone that is known but not served (not transferred yet, expired): why. */
  unavailable?: string;
}

export function loadedSummary(e: Entry, ms: number): ZoneLoaded {
  const z = e.prepared.zone;
  return {
    zone: z.origin.toString(), file: e.file, records: z.recordCount, signed: e.prepared.signing !== undefined,
    ...(z.presigned ? { presigned: true as const } : {}),
    ...(z.presigned ? { denial: z.presigned.denial } : z.settings.dnssec ? { denial: z.settings.denial } : {}),
    serial: e.serial, ms: Math.round(ms),
    ...(e.unavailable !== undefined ? { unavailable: e.unavailable } : {}),
  };
}

/** Logs a zone that is now served (or, for a secondary without data, known), at info. */
export function logLoaded(logger: Logger, z: ZoneLoaded): void {
  if (z.unavailable !== undefined) logger.info({ zone: z.zone, file: z.file, reason: z.unavailable }, 'secondary zone known, not served yet (SERVFAIL until a transfer succeeds)');
  else logger.info(z, 'zone in service');
}

/** Progress lines of a large file's parse: records read, share of the file, records per second. */
export function progressLogger(logger: Logger, file: string, zone: Name | undefined): (p: ZoneProgress) => void {
  return (p) => logger.info({
    ...(zone ? { zone: zone.toString() } : {}), file, records: p.records, percent: p.percent,
    rate: p.ms > 0 ? Math.round((p.records * 1000) / p.ms) : undefined,
  }, 'loading zone');
}
