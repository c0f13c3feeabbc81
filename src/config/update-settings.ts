// The `update:` part of a zone's `zone:` section (issue 12): who may change the zone by RFC 2136 UPDATE, in the
// manner of BIND's `update-policy`. Each grant names a TSIG key (defined in the server config's `tsig:`; the
// zone manager checks the name exists) and the names and types it may change:
//
//   update:
//     - key: sync-key
//       allow: [{ name: "@", types: [DNSKEY, CDS, CDNSKEY, NS, CSYNC] }]
//
// A rule's `name` is `@` (the apex), a name relative to the zone or absolute (trailing dot), or `*.LABELS`:
// every name strictly below LABELS (BIND's `wildcard`). `subdomain: true` widens a name to itself and every
// name below it (BIND's `subdomain`; `{ name: "@", subdomain: true }` is BIND's `zonesub`). `types` are
// mnemonics (or TYPEnnn); `ANY` allows every type, and is what a delete of every RRset at a name (type ANY)
// needs. Names are kept as absolute text: configs cross thread and process boundaries as plain data.
import { isSeq } from 'yaml';
import { Name, NameError } from '../dns/name.js';
import { isMetaType, RRType, typeFromName, typeName } from '../dns/types.js';
import { asMap, checkKeys, fail, isNull, scalarText, entries, type Source } from './yaml-nodes.js';

export interface UpdateRule {
  /** Absolute presentation form of the rule's name (for `*.sub`, of `sub`). */
  name: string;
  /** exact: that name; subdomain: it and every name below; below: every name strictly below (`*.sub`). */
  match: 'exact' | 'subdomain' | 'below';
  /** Type numbers, or 'ANY' for every type. */
  types: number[] | 'ANY';
}

export interface UpdateGrant {
  /** TSIG key name as written (compared as a DNS name). */
  key: string;
  allow: UpdateRule[];
}

const GRANT_KEYS = ['key', 'allow'] as const;
const RULE_KEYS = ['name', 'subdomain', 'types'] as const;

/** Parses `zone.update` (a list of grants); `origin` makes relative names absolute. */
export function parseUpdateSettings(src: Source, node: unknown, origin: Name): UpdateGrant[] {
  if (isNull(node)) return [];
  if (!isSeq(node)) fail(src, node, 'zone.update must be a list of { key: NAME, allow: [{ name, types }] }');
  return node.items.map((item) => grant(src, item, origin));
}

function grant(src: Source, node: unknown, origin: Name): UpdateGrant {
  const items = entries(src, asMap(src, node, 'a zone.update entry ({ key: NAME, allow: [...] })'));
  checkKeys(src, items, GRANT_KEYS, 'zone.update');
  const k = items.find((e) => e.key === 'key');
  const key = k && scalarText(k.value);
  if (typeof key !== 'string' || key === '') fail(src, k?.value ?? node, 'zone.update: each entry needs key: the name of a TSIG key (server config tsig:); unsigned UPDATE is never accepted');
  const a = items.find((e) => e.key === 'allow');
  if (!a || isNull(a.value)) fail(src, node, `zone.update key ${key}: allow is required, e.g. allow: [{ name: "@", types: [DNSKEY] }]`);
  if (!isSeq(a.value)) fail(src, a.value, 'zone.update allow must be a list of { name, types }');
  return { key, allow: a.value.items.map((r) => rule(src, r, origin)) };
}

function rule(src: Source, node: unknown, origin: Name): UpdateRule {
  const items = entries(src, asMap(src, node, 'a zone.update allow rule ({ name: "@", types: [DNSKEY] })'));
  checkKeys(src, items, RULE_KEYS, 'zone.update allow');
  const n = items.find((e) => e.key === 'name');
  const text = n && scalarText(n.value);
  if (typeof text !== 'string' || text === '') fail(src, n?.value ?? node, 'zone.update allow: name is required ("@", a name, or *.NAME)');
  const sub = items.find((e) => e.key === 'subdomain');
  const subText = sub ? scalarText(sub.value) : 'false';
  if (subText !== 'true' && subText !== 'false') fail(src, sub!.value, 'zone.update allow subdomain must be true or false');
  const wildcard = text.startsWith('*.');
  if (wildcard && subText === 'true') fail(src, sub!.value, 'zone.update allow: subdomain does not combine with a *. name (*.NAME already means every name below NAME)');
  let name: Name;
  try {
    const base = wildcard ? text.slice(2) : text;
    name = base === '@' ? origin : Name.fromText(base, origin);
  } catch (e) {
    if (e instanceof NameError) fail(src, n!.value, `zone.update allow name ${JSON.stringify(text)}: ${e.message}`);
    throw e;
  }
  if (!name.isSubdomainOf(origin)) fail(src, n!.value, `zone.update allow name ${JSON.stringify(text)} is not in the zone ${origin}`);
  const t = items.find((e) => e.key === 'types');
  if (!t || isNull(t.value)) fail(src, node, 'zone.update allow: types is required (mnemonics such as DNSKEY, or ANY)');
  const list = isSeq(t.value) ? t.value.items : [t.value];
  const types: number[] = [];
  let any = false;
  for (const item of list) {
    const mnemonic = scalarText(item);
    if (typeof mnemonic !== 'string' || mnemonic === '') fail(src, item, 'zone.update allow types: each type is a mnemonic such as DNSKEY');
    if (mnemonic.toUpperCase() === 'ANY') { any = true; continue; }
    const type = typeFromName(mnemonic);
    if (type === undefined || isMetaType(type)) fail(src, item, `zone.update allow types: ${JSON.stringify(mnemonic)} is not a record type`);
    if (!types.includes(type)) types.push(type);
  }
  return { name: name.toString(), match: wildcard ? 'below' : subText === 'true' ? 'subdomain' : 'exact', types: any ? 'ANY' : types };
}

/** Whether `rule` covers a change of `type` at `name` (type 255 = ANY: only a rule allowing ANY covers it). */
export function ruleAllows(rule: UpdateRule, name: Name, type: number): boolean {
  const base = Name.fromText(rule.name);
  const inName = rule.match === 'exact' ? name.equals(base)
    : rule.match === 'subdomain' ? name.isSubdomainOf(base)
    : name.isSubdomainOf(base) && !name.equals(base);
  if (!inName) return false;
  return rule.types === 'ANY' || (type !== RRType.ANY && rule.types.includes(type));
}

/** The rule as written back (logs, `tandem` messages). */
export function describeRule(rule: UpdateRule): string {
  const types = rule.types === 'ANY' ? 'ANY' : rule.types.map(typeName).join(',');
  return `${rule.match === 'below' ? '*.' : ''}${rule.name}${rule.match === 'subdomain' ? ' and below' : ''} ${types}`;
}
