// `tandem convert FILE [--origin ZONE] [--out FILE]`: an RFC 1035 master file -> tandem's YAML zone file (`zone:`
// with the SOA, `records:` in octoDNS's format). The settings file beside a `<zone>.zone` (if any) is carried
// over with its comments. Records tandem makes itself (RRSIG, NSEC, NSEC3, NSEC3PARAM; DNSKEY unless
// multi_signer) are left out with a note on stderr, so the result loads and serves the same data.
import { readFile } from 'node:fs/promises';
import { Document, isMap, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import { ZoneFileError } from '../config/errors.js';
import { parseMasterFile } from '../config/masterfile.js';
import { isMasterFile, masterOrigin, readSettingsFile, setNode } from '../config/masterzone.js';
import { parseSettings, DEFAULT_TTL } from '../config/zone-settings.js';
import { refusal } from '../config/zonefile.js';
import { Name } from '../dns/name.js';
import type { Rr } from '../dns/rr.js';
import { RRType, typeName } from '../dns/types.js';
import { writeFileAtomic } from '../state/atomic.js';
import { valueText } from '../state/yamledit.js';
import { defineCommand } from './spec.js';

/** A YAML scalar: plain when that reads back as the same string, else double-quoted (JSON is valid YAML there). */
function scalar(s: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9_.\-/+=]*$/.test(s) && !/^(true|false|null|y|n|yes|no|on|off)$/i.test(s)) return s;
  return JSON.stringify(s);
}

export interface Converted {
  yaml: string;
  /** Notes for the operator: records left out, TTLs joined. */
  notes: string[];
}

/** Converts a master file's text (`file` names it, for errors and $INCLUDE) to tandem's YAML zone file. */
export function convertMasterFile(file: string, text: string, origin: Name, settingsText?: string): Converted {
  const notes: string[] = [];
  const parsed = parseMasterFile(file, text, { origin });
  const soas = parsed.records.filter((r) => r.type === RRType.SOA && r.name.equals(origin));
  if (soas.length !== 1) throw new ZoneFileError({ file, reason: `${soas.length} SOA records at ${origin}; a zone has exactly one (RFC 1035 §5.2)` });
  const soa = soas[0];
  const r = soa.rdata;
  const mname = Name.read(r, 0);
  const rname = Name.read(r, mname.next);
  const timers = new DataView(r.buffer, r.byteOffset + rname.next, 20);

  let doc = settingsText !== undefined ? parseDocument(settingsText) : new Document({});
  if (!isMap(doc.contents)) doc = new Document({});
  const top = doc.contents as YAMLMap;
  if (!isMap(top.get('zone', true))) setNode(doc, top, 'zone', {});
  const zone = top.get('zone', true) as unknown as YAMLMap;
  setNode(doc, zone, 'origin', origin.toString());
  if (!zone.has('ttl')) setNode(doc, zone, 'ttl', parsed.firstTtl ?? DEFAULT_TTL);
  setNode(doc, zone, 'soa', {
    mname: mname.name.toString(), rname: rname.name.toString(), serial: timers.getUint32(0), refresh: timers.getUint32(4),
    retry: timers.getUint32(8), expire: timers.getUint32(12), minimum: timers.getUint32(16), ttl: soa.ttl,
  });
  const settings = parseSettings({ file, lines: new LineCounter() }, zone, undefined);

  // Owners in the order they first appear, each with its RRsets in order.
  const owners = new Map<string, { name: Name; sets: Map<number, Rr[]> }>();
  const dropped = new Map<string, number>();
  for (const rr of parsed.records) {
    if (rr.type === RRType.SOA && rr.name.equals(origin)) continue;
    const why = refusal(rr.type, typeName(rr.type), settings.config);
    if (why) {
      const k = `${typeName(rr.type)}: ${why}`;
      dropped.set(k, (dropped.get(k) ?? 0) + 1);
      continue;
    }
    let o = owners.get(rr.name.key);
    if (!o) owners.set(rr.name.key, (o = { name: rr.name, sets: new Map() }));
    const set = o.sets.get(rr.type);
    if (set) set.push(rr);
    else o.sets.set(rr.type, [rr]);
  }
  for (const [k, n] of dropped) notes.push(`left out ${n} ${k}`);

  const lines: string[] = ['records:'];
  for (const o of owners.values()) {
    const key = o.name.equals(origin) ? "''" : scalar(o.name.relativeTo(origin));
    lines.push(`  ${key}:`);
    for (const [type, set] of o.sets) {
      const ttl = Math.min(...set.map((x) => x.ttl));
      if (set.some((x) => x.ttl !== ttl)) notes.push(`${o.name.relativeTo(origin)} ${typeName(type)}: the records have different TTLs; the RRset gets ${ttl} (RFC 2181 §5.2)`);
      lines.push(`    - type: ${typeName(type)}`);
      if (ttl !== settings.ttl) lines.push(`      ttl: ${ttl}`);
      const values = set.map((x) => scalar(valueText(type, x.rdata)));
      if (values.length === 1) lines.push(`      value: ${values[0]}`);
      else {
        lines.push('      values:');
        for (const v of values) lines.push(`        - ${v}`);
      }
    }
  }
  return { yaml: doc.toString() + lines.join('\n') + '\n', notes };
}

export const convertCommand = defineCommand({
  name: 'convert', group: 'offline', summary: "an RFC 1035 master file as tandem's YAML zone file",
  args: [{ name: 'FILE' }],
  options: {
    origin: { type: 'string', value: 'ZONE', help: 'the zone (default: from the file name <zone>.zone)' },
    out: { type: 'string', value: 'FILE', help: 'write the YAML there (atomically) instead of to stdout' },
  },
  notes: ['Records tandem makes itself (RRSIG, NSEC, NSEC3, NSEC3PARAM; DNSKEY unless multi_signer) are left out, with a note on stderr.'],
  async run(p, io) {
    const file = p.args.FILE!;
    try {
      let origin: Name;
      const given = p.values.origin;
      if (given) origin = Name.fromText(given.endsWith('.') ? given : `${given}.`);
      else if (isMasterFile(file)) origin = masterOrigin(file);
      else {
        io.err('tandem convert: give the zone with --origin (or name the file <zone>.zone)\n');
        return 2;
      }
      const text = await readFile(file, 'utf8');
      const beside = isMasterFile(file) ? readSettingsFile(file) : undefined;
      const { yaml, notes } = convertMasterFile(file, text, origin, beside?.text);
      for (const n of notes) io.err(`tandem convert: ${n}\n`);
      if (p.values.out) await writeFileAtomic(p.values.out, yaml);
      else io.out(yaml);
      return 0;
    } catch (err) {
      io.err(`tandem convert: ${(err as Error).message}\n`);
      return 1;
    }
  },
});
