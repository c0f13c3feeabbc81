// Fuzz targets for the zone loaders: YAML zone files (config/zonefile.ts) and RFC 1035 master files
// (config/masterfile.ts, masterzone.ts), parsed and built. Any text either loads or fails with ZoneFileError
// (which names file, line and rule); nothing else is thrown, and no case runs long. Inputs: the example zone
// with text edits, generated files whose records carry RDATA of every type, and plain random text.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { formatRdata } from '../../../src/dns/rdata.js';
import { typeName } from '../../../src/dns/types.js';
import { buildLoadedZone, parseZoneFile, ZoneFileError, type LoadedZone } from '../../../src/config/zonefile.js';
import { parseMasterZone } from '../../../src/config/masterzone.js';
import { EXAMPLE_ZONE_FILE } from '../../helpers/zones.js';
import { nameText, typedRdata } from '../arbitraries.js';
import { target } from '../target.js';

const EXAMPLE = readFileSync(EXAMPLE_ZONE_FILE, 'utf8');

/** Text edits: insert a snippet, cut a range, repeat or drop a line. */
type TextEdit = { at: number; len: number; snippet: string };
const SNIPPETS = ['\n', ' ', '  ', '- ', ': ', '{', '}', '[', ']', '"', "'", '#', '&a ', '*a', '!!str ', '\t', '\\', '\\#', ';', '(', ')', '$ORIGIN ', '$TTL ',
  '$INCLUDE ', '@', '.', 'TXT', 'IN', 'SOA', 'values:', 'value:', 'type: ', 'ttl: ', '- type: A\n', '\u0000', 'é', '\r\n', '---\n', '...\n', '? ', '|\n', '>\n'];
const textEdit: fc.Arbitrary<TextEdit> = fc.record({
  at: fc.nat(),
  len: fc.nat(8),
  snippet: fc.oneof(fc.constantFrom(...SNIPPETS), fc.string({ maxLength: 6 })),
});

export function editText(text: string, edits: TextEdit[]): string {
  let t = text;
  for (const e of edits) {
    const at = e.at % (t.length + 1);
    t = t.slice(0, at) + e.snippet + t.slice(Math.min(t.length, at + e.len));
  }
  return t;
}

const ttl = fc.oneof(fc.nat(0x7fffffff), fc.constantFrom(-1, 0, 2 ** 31, 1.5), fc.constantFrom('1h', '2w', 'x', ''));
const presentationValue = typedRdata.map(({ type, rdata }) => ({ type: typeName(type), text: formatRdata(type, rdata) }));
const mappingValue = fc.dictionary(fc.constantFrom('preference', 'exchange', 'flags', 'tag', 'value', 'priority', 'weight', 'port', 'target', 'key_tag',
  'algorithm', 'digest_type', 'digest', 'public_key', 'protocol', 'svcpriority', 'targetname', 'svcparams', 'x'), fc.oneof(fc.string({ maxLength: 10 }), fc.nat(70000), fc.constant(null)), { maxKeys: 5 });

const yamlRecord = fc.tuple(presentationValue, fc.option(ttl), fc.array(fc.oneof(fc.string({ maxLength: 20 }), mappingValue), { maxLength: 2 }), fc.boolean(), fc.constantFrom('', 'TXT', 'SPF', 'ALIAS', 'SOA', 'A', 'MX'))
  .map(([v, t, more, many, override]) => {
    const type = override || v.type;
    const values = [v.text, ...more];
    return { type, ...(t !== null ? { ttl: t } : {}), ...(many ? { values } : { value: values[0] }) };
  });

const ZONE_HEAD = {
  ttl: 3600,
  soa: { mname: 'ns1.example.com.', rname: 'hostmaster.example.com.', serial: 1 },
  nameservers: ['ns1.example.com.'],
  dnssec: { enabled: false },
};

/** A YAML zone file: the example's settings (sometimes changed) and generated records. */
const generatedYaml = fc.record({
  head: fc.oneof({ weight: 4, arbitrary: fc.constant(ZONE_HEAD) }, { weight: 1, arbitrary: fc.object({ maxDepth: 2, maxKeys: 4 }) }),
  dnssec: fc.constantFrom(undefined, { enabled: true, denial: 'nsec' }, { multi_signer: true, enabled: true }, { presigned: true }),
  records: fc.dictionary(fc.oneof(fc.constantFrom('', '@', 'www', '*', '*.wild', 'a.b', 'sub'), nameText), fc.oneof(yamlRecord, fc.array(yamlRecord, { maxLength: 3 })), { maxKeys: 6 }),
}).map(({ head, dnssec, records }) => stringify({ zone: dnssec ? { ...head, dnssec } : head, records }));

const yamlText = fc.oneof(
  { weight: 3, arbitrary: fc.array(textEdit, { maxLength: 6 }).map((edits) => editText(EXAMPLE, edits)) },
  { weight: 4, arbitrary: generatedYaml },
  { weight: 1, arbitrary: fc.tuple(generatedYaml, fc.array(textEdit, { maxLength: 4 })).map(([t, edits]) => editText(t, edits)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
);

const YAML_EXAMPLES = [
  '',
  'zone: [',
  // Billion laughs: aliases refused before they are expanded.
  'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n' +
    'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nzone: *e\nrecords: *e\n',
  // Deep nesting.
  `zone: ${'['.repeat(1000)}`,
  `records:\n  www: ${'{a: '.repeat(1000)}`,
  `${EXAMPLE}\n  x:\n    type: TXT\n    value: ${'a'.repeat(70000)}\n`,
];

/** Loads and builds; ZoneFileError is the one failure allowed. Returns the zone's record count. */
function load(parse: () => LoadedZone): number | undefined {
  try {
    const loaded = parse();
    buildLoadedZone(loaded);
    return loaded.input.records.length;
  } catch (e) {
    if (e instanceof ZoneFileError) return undefined;
    throw e;
  }
}

export const yamlZoneTarget = target<string>({
  name: 'zone-yaml',
  about: 'config/zonefile.ts: any text loads or fails with ZoneFileError, in bounded time and memory',
  weight: 5,
  caseMs: 5000,
  prepare: () => ({
    arbitrary: yamlText,
    examples: YAML_EXAMPLES,
    check(text) {
      const n = load(() => parseZoneFile('zones/example.com.yaml', text, { mtime: new Date(0) }));
      if (n !== undefined && n > text.length) throw new Error(`${n} records from ${text.length} characters`);
    },
  }),
});

// ---- master files ---------------------------------------------------------------------------------------------

const SOA_LINE = '@ 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300';
const owner = fc.oneof(fc.constantFrom('@', '', ' ', 'www', '*.wild', 'sub', 'a.b', 'www.example.com.', 'other.org.', '\\.', '"q"'), nameText);
const masterLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(owner, fc.option(fc.nat(0x7fffffff)), fc.boolean(), presentationValue).map(([o, t, cls, v]) => `${o} ${t ?? ''} ${cls ? 'IN' : ''} ${v.type} ${v.text}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('$ORIGIN', '$TTL', '$INCLUDE', '$GENERATE', '$FOO'), fc.array(fc.oneof(nameText, fc.constantFrom('1h', '300', 'inc.zone', '1-10', 'h$', 'A', '1.2.3.$')), { maxLength: 3 }))
    .map(([d, args]) => `${d} ${args.join(' ')}`) },
  { weight: 1, arbitrary: fc.constantFrom('; comment', '(', ')', 'www A (', ' 192.0.2.1 )', '"', 'www TXT "a" "b" ; c', '\t\tIN A 192.0.2.9', 'www CLASS3 A 1.2.3.4', 'x TYPE65400 \\# 2 ABCD') },
);
const generatedMaster = fc.tuple(fc.boolean(), fc.array(masterLine, { maxLength: 12 })).map(([soa, lines]) => [soa ? SOA_LINE : '', ...lines].join('\n') + '\n');
const masterText = fc.oneof(
  { weight: 4, arbitrary: generatedMaster },
  { weight: 2, arbitrary: fc.tuple(generatedMaster, fc.array(textEdit, { maxLength: 4 })).map(([t, edits]) => editText(t, edits)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
);

/** Files a master file may read: its settings file and $INCLUDEs. One include exists; one includes itself. */
const FILES: Record<string, string> = {
  'inc.zone': 'www 300 IN A 192.0.2.7\n',
  'loop.zone': '$INCLUDE loop.zone\n',
  'example.com.yaml': 'dnssec: { enabled: false }\n',
};
function readText(path: string): string {
  const text = FILES[basename(path)];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
}

export const masterZoneTarget = target<string>({
  name: 'zone-master',
  about: 'config/masterfile.ts, masterzone.ts: any master file (with $INCLUDE, $ORIGIN, $TTL) loads or fails with ZoneFileError, in bounded time',
  weight: 3,
  caseMs: 5000,
  prepare: () => ({
    arbitrary: masterText,
    examples: ['', SOA_LINE + '\n$INCLUDE loop.zone\n', SOA_LINE + '\n$INCLUDE inc.zone\n', `${SOA_LINE}\nwww A ${'('.repeat(5000)}\n`, `${SOA_LINE}\n${'x TXT "a"\n'.repeat(2000)}`],
    check(text) {
      const n = load(() => parseMasterZone('zones/example.com.zone', text, { readText }));
      if (n !== undefined && n > text.length + 10) throw new Error(`${n} records from ${text.length} characters`);
    },
  }),
});
