// Zones from RFC 1035 master files: `<zone>.zone` in the zones folder (the root zone is `root.zone`). tandem's
// settings for such a zone come from `<zone>.yaml` beside it, which holds only a `zone:` section without
// `soa` (the SOA is the file's), merged over the server config's `zone-defaults:`; with neither, the zone is
// served unsigned with the defaults. The result is the LoadedZone the YAML path makes, so everything after
// loading (prepare, the manager, the API, DNSSEC) is the same, and so is the record policy (zonefile.ts refusal).
import { readFileSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Document, isMap, isScalar, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import { Name, NameError } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRType, typeName } from '../dns/types.js';
import { ZoneFileError } from './errors.js';
import { parseMasterFile } from './masterfile.js';
import { SPF_TYPE } from './octodns.js';
import { DEFAULT_TTL, parseSettings, ZONE_KEYS } from './zone-settings.js';
import { parseZoneFile, refusal, type LoadedZone, type ParseOptions } from './zonefile.js';
import { entries, isNull, lineOf, type Source } from './yaml-nodes.js';

export const MASTER_SUFFIX = '.zone';

/** A `zone:`-like mapping from the server config, applied under each master-file zone's own settings. */
export type ZoneDefaults = Record<string, unknown>;

export function isMasterFile(file: string): boolean {
  return file.endsWith(MASTER_SUFFIX);
}

/** The zone a master file serves: its name without `.zone`; `root.zone` is the root (as IANA names its file). */
export function masterOrigin(file: string): Name {
  const base = basename(file).slice(0, -MASTER_SUFFIX.length);
  if (base === 'root') return Name.ROOT;
  try {
    return Name.fromText(base.endsWith('.') ? base : `${base}.`);
  } catch (err) {
    throw new ZoneFileError({ file, reason: `the file name does not name a zone (${(err as Error).message}); name it <zone>.zone` });
  }
}

/** The settings files a master file may have beside it, in the order they are looked for. */
export function settingsFilesOf(file: string): string[] {
  const base = file.slice(0, -MASTER_SUFFIX.length);
  return [`${base}.yaml`, `${base}.yml`];
}

export interface MasterZoneOptions {
  /** Defaults for the settings (the server config's `zone-defaults:`). */
  zoneDefaults?: ZoneDefaults;
  /** Reads the settings file and $INCLUDEd files (default: from disk; the admin-change editor overlays its edits). */
  readText?: (path: string) => string;
  /** Receives every record instead of LoadedZone.input.records (which is then empty), as ParseOptions.onRecord. */
  onRecord?: (rr: Rr, origin: Name) => void;
  /** Told the line of the main file reached as records are read (progress of a large load), as ParseOptions.onProgress. */
  onProgress?: (line: number) => void;
}

const readDisk = (path: string) => readFileSync(path, 'utf8');

/** The settings file's text and name, or undefined when there is none. */
export function readSettingsFile(file: string, readText: (path: string) => string = readDisk): { file: string; text: string } | undefined {
  for (const f of settingsFilesOf(file)) {
    try {
      return { file: f, text: readText(f) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ZoneFileError({ file: f, reason: `cannot read the file: ${(err as Error).message}` });
    }
  }
  return undefined;
}

/** Keys of a `zone:` section that a master-file zone takes from elsewhere. */
const NOT_IN_SETTINGS: Record<string, string> = {
  soa: 'the SOA comes from the master file',
  records: 'records belong in the master file',
};

/**
 * Sets `key` in `map` as YAML nodes (a plain key or value set with map.set is not a node, and the located
 * readers, yaml-nodes.ts, read nodes only).
 */
export function setNode(doc: Document, map: YAMLMap, key: string, value: unknown): void {
  map.set(doc.createNode(key), doc.createNode(value));
}

/** Adds `defaults` to `map` where it has no value (mappings merge key by key). */
function mergeDefaults(doc: Document, map: YAMLMap, defaults: ZoneDefaults): void {
  for (const [k, v] of Object.entries(defaults)) {
    const have = map.get(k, true);
    if (isNull(have)) setNode(doc, map, k, v);
    else if (isMap(have) && v !== null && typeof v === 'object' && !Array.isArray(v)) mergeDefaults(doc, have, v as ZoneDefaults);
  }
}

/**
 * The `zone:` section for a master-file zone as a YAML node with locations: the settings file's (checked:
 * only `zone:`, no `soa`, an `origin` only if it is the file's zone) with the defaults filled in.
 */
function settingsNode(file: string, origin: Name, opts: MasterZoneOptions): { src: Source; node: YAMLMap } {
  const found = readSettingsFile(file, opts.readText);
  const src: Source = { file: found?.file ?? settingsFilesOf(file)[0], lines: new LineCounter() };
  let doc = new Document({});
  if (found) {
    const read = parseDocument(found.text, { lineCounter: src.lines, uniqueKeys: false, prettyErrors: true });
    if (read.errors.length > 0) {
      const e = read.errors[0];
      throw new ZoneFileError({ file: src.file, line: e.linePos?.[0].line, reason: `YAML syntax error: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    if (read.contents !== null) {
      if (!isMap(read.contents)) throw new ZoneFileError({ file: src.file, reason: 'a settings file is a mapping with one key, zone:' });
      for (const e of entries(src, read.contents)) {
        if (e.key !== 'zone') {
          throw new ZoneFileError({
            file: src.file, line: lineOf(src, e.keyNode),
            reason: `${JSON.stringify(e.key)}: the settings file of ${basename(file)} holds only a zone: section` + (e.key === 'records' ? ' (records belong in the master file)' : ''),
          });
        }
      }
      doc = read;
    }
  }
  const top = doc.contents as YAMLMap;
  if (isNull(top.get('zone', true))) setNode(doc, top, 'zone', {});
  const node = top.get('zone', true);
  if (!isMap(node)) throw new ZoneFileError({ file: src.file, line: lineOf(src, node), reason: 'zone: must be a mapping' });
  for (const e of entries(src, node)) {
    const why = NOT_IN_SETTINGS[e.key];
    if (why) throw new ZoneFileError({ file: src.file, line: lineOf(src, e.keyNode), reason: `zone.${e.key}: ${why} (${basename(file)})` });
    if (e.key === 'origin') {
      let named: Name | undefined;
      try {
        const t = String(isScalar(e.value) ? e.value.value : '');
        named = Name.fromText(t.endsWith('.') ? t : `${t}.`);
      } catch (err) {
        if (!(err instanceof NameError)) throw err;
      }
      if (!named?.equals(origin)) {
        throw new ZoneFileError({ file: src.file, line: lineOf(src, e.value), reason: `zone.origin must be ${origin} (the zone of ${basename(file)}), or left out` });
      }
    }
  }
  if (opts.zoneDefaults) mergeDefaults(doc, node, opts.zoneDefaults);
  if (!node.has('origin')) setNode(doc, node, 'origin', origin.toString());
  return { src, node };
}

/**
 * Parses a master-file zone: `text` is `file`'s content; the settings file and $INCLUDEd files are read with
 * opts.readText. Throws ZoneFileError. Does not build the zone (zonefile.ts buildLoadedZone does).
 */
export function parseMasterZone(file: string, text: string, opts: MasterZoneOptions = {}): LoadedZone {
  const origin = masterOrigin(file);
  const { src, node } = settingsNode(file, origin, opts);
  const parsed = parseSettings(src, node, undefined);
  const config = parsed.config;
  const warnings: string[] = [];
  const owners = new Map<string, number>();
  const files = new Map<string, string>();
  const recordLines = new Map<string, number>();
  const records: Rr[] = [];
  let soaAt: { file: string; line: number } | undefined;
  const result = parseMasterFile(file, text, {
    origin,
    readText: opts.readText,
    onRecord: (rr, at) => {
      const owner = rr.name.relativeTo(origin);
      const fail = (reason: string): never => { throw new ZoneFileError({ file: at.file, line: at.line, owner, type: typeName(rr.type), reason }); };
      if (rr.type === RRType.SOA) {
        if (!rr.name.equals(origin)) fail(`an SOA belongs at the zone's apex ${origin} (RFC 1035 §5.2)`);
        if (soaAt) fail(`a second SOA (the first is at ${soaAt.file}:${soaAt.line}); a zone has exactly one (RFC 1035 §5.2)`);
        soaAt = { file: at.file, line: at.line };
      } else {
        const refused = refusal(rr.type, typeName(rr.type), config);
        if (refused) {
          const signed = rr.type === RRType.RRSIG || rr.type === RRType.NSEC || rr.type === RRType.NSEC3 || rr.type === RRType.NSEC3PARAM;
          fail(refused + (signed ? '; give tandem the unsigned zone (`ldns-read-zone -s FILE` strips DNSSEC records)' : ''));
        }
        if (rr.type === SPF_TYPE && !warnings.some((w) => w.startsWith(`${owner} SPF:`))) {
          warnings.push(`${owner} SPF: the SPF type is obsolete (RFC 7208 §3.1); publish the policy as TXT`);
        }
      }
      if (!owners.has(rr.name.key)) {
        owners.set(rr.name.key, at.line);
        if (at.file !== file) files.set(rr.name.key, at.file);
      }
      if (rr.name.equals(origin) && !recordLines.has(`${origin.key} ${rr.type}`)) recordLines.set(`${origin.key} ${rr.type}`, at.line);
      if (opts.onRecord) opts.onRecord(rr, origin);
      else records.push(rr);
      if (opts.onProgress && at.file === file) opts.onProgress(at.line);
    },
  });
  if (!soaAt) throw new ZoneFileError({ file, reason: `no SOA record for ${origin}: a zone's master file has exactly one, at the apex (RFC 1035 §5.2)` });
  warnings.push(...result.warnings);
  // zone.ttl (the TTL the API gives new records) defaults to the file's first $TTL.
  const explicitTtl = node.has('ttl');
  const defaultTtl = explicitTtl ? parsed.ttl : (result.firstTtl ?? DEFAULT_TTL);
  const settings = node.has('ns_ttl') ? parsed.settings : { ...parsed.settings, nsTtl: defaultTtl };
  return {
    file, config, warnings, defaultTtl,
    includes: [...result.files.keys()].filter((f) => f !== file),
    input: { origin, source: file, settings, records },
    locations: { owners, records: recordLines, soa: soaAt.file === file ? soaAt.line : undefined, files: files.size ? files : undefined },
  };
}

/**
 * Checks the server config's `zone-defaults:` once at start-up (the keys of a `zone:` section but origin and
 * soa), so a typo stops the server instead of every master-file zone. Returns the reason, or undefined.
 */
export function zoneDefaultsProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'zone-defaults must be a mapping of zone: settings';
  for (const k of Object.keys(value)) {
    if (k === 'origin' || k in NOT_IN_SETTINGS) return `zone-defaults.${k}: not a default (each zone has its own)`;
    if (!(ZONE_KEYS as readonly string[]).includes(k)) return `zone-defaults: unknown key ${JSON.stringify(k)} (allowed: ${ZONE_KEYS.filter((x) => x !== 'origin' && x !== 'soa').join(', ')})`;
  }
  try {
    const doc = new Document({ zone: { ...value, origin: 'zone-defaults.invalid.' } });
    parseSettings({ file: 'zone-defaults', lines: new LineCounter() }, doc.getIn(['zone'], true), undefined);
  } catch (err) {
    if (err instanceof ZoneFileError) return err.reason.replace(/\bzone\./g, 'zone-defaults.');
    throw err;
  }
  return undefined;
}

/** The zones folder cannot be read: the message names it and says what to do (not a raw ENOENT from scandir). */
export class ZonesFolderError extends Error {
  constructor(readonly dir: string, reason: string) {
    super(`zones folder ${dir}: ${reason}`);
    this.name = 'ZonesFolderError';
  }
}

function zonesFolderError(dir: string, err: unknown): Error {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return new ZonesFolderError(dir, 'does not exist; create it and put zone files in it (<zone>.yaml or <zone>.zone), or point --zones (config `zones:`) at yours');
    case 'ENOTDIR':
      return new ZonesFolderError(dir, 'is a file, not a folder; --zones (config `zones:`) names the folder that holds the zone files');
    case 'EACCES': case 'EPERM':
      return new ZonesFolderError(dir, 'cannot be read by this user: permission denied');
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/** How the zones folder's entries are read. */
export interface ZoneFolder {
  /** Zone files, sorted: `<zone>.yaml` / `.yml` YAML zones and `<zone>.zone` master files. */
  files: string[];
  /** Entries tandem does not read, each with the reason (the caller logs them). */
  ignored: { file: string; reason: string }[];
}

/**
 * Sorts the zones folder: `*.zone` master files; `*.yaml` / `*.yml` YAML zones unless a `.zone` of the same
 * name makes them its settings file; anything else (README, `.bak`, folders) is reported. Names starting
 * with a dot (editor swap files, `.git`) are skipped without a word.
 */
export async function zoneFolder(dir: string): Promise<ZoneFolder> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw zonesFolderError(dir, err);
  }
  const names = new Set(dirents.map((d) => d.name));
  const out: ZoneFolder = { files: [], ignored: [] };
  for (const d of [...dirents].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = join(dir, d.name);
    if (d.name.startsWith('.')) continue;
    if (d.isDirectory()) {
      out.ignored.push({ file, reason: 'a folder in the zones folder is not read (zone files sit directly in it)' });
    } else if (isMasterFile(d.name)) {
      out.files.push(file);
    } else if (/\.ya?ml$/i.test(d.name)) {
      if (!names.has(d.name.replace(/\.ya?ml$/i, MASTER_SUFFIX))) out.files.push(file);
    } else {
      out.ignored.push({ file, reason: 'not a zone file, not read: zones are <zone>.yaml (or .yml) and <zone>.zone (RFC 1035 master file)' });
    }
  }
  return out;
}

/** Options of parseAnyZoneFile: a YAML zone's and a master-file zone's. */
export interface AnyParseOptions extends ParseOptions, Omit<MasterZoneOptions, 'onRecord'> {}

/** parseZoneFile or parseMasterZone, by the file's name. */
export function parseAnyZoneFile(file: string, text: string, opts: AnyParseOptions = {}): LoadedZone {
  if (!isMasterFile(file)) return parseZoneFile(file, text, opts);
  return parseMasterZone(file, text, opts);
}

/** The folder's entries that no zone reads: `ignored` less the files a loaded master file $INCLUDEs. */
export function unreadFiles(folder: ZoneFolder, zones: Iterable<LoadedZone>): { file: string; reason: string }[] {
  const read = new Set<string>();
  for (const z of zones) for (const f of z.includes ?? []) read.add(resolve(f));
  return folder.ignored.filter((i) => !read.has(resolve(i.file)));
}
