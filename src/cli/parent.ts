// The records a parent reads from the child (issue 12): another provider's CDS/CDNSKEY (RFC 7344) published
// beside ours, and CSYNC (RFC 7477), which asks the parent to copy NS and glue. Thin clients of the admin API's
// dns_records routes, like the other admin commands (admin.ts).
import { adminCommand, CliError, resolveZone, table, ZONE, type Client, type Zone } from './admin.js';
import type { Command } from './spec.js';

const PARENT_TYPES = ['CDS', 'CDNSKEY'] as const;

interface Rec { id: string; type: string; content: string; ttl: number }

async function recordsOf(c: Client, zone: Zone, type: string): Promise<Rec[]> {
  return (await c.call('GET', `/zones/${zone.id}/dns_records?type=${type}&per_page=5000`)).result as Rec[];
}

/** `[OWNER] [TTL] [IN] CDS|CDNSKEY RDATA...` -> type and RDATA text (owner, TTL and class are ignored). */
function parseParentRecord(text: string): { type: (typeof PARENT_TYPES)[number]; rdata: string } {
  const tokens = text.replace(/[()]/g, ' ').split(/\s+/).filter((t) => t !== '');
  const i = tokens.findIndex((t) => (PARENT_TYPES as readonly string[]).includes(t.toUpperCase()));
  if (i < 0 || tokens.length - i < 5) throw new CliError("expected 'CDS KEYTAG ALGORITHM DIGESTTYPE DIGEST' or 'CDNSKEY FLAGS 3 ALGORITHM BASE64'", 2);
  return { type: tokens[i].toUpperCase() as 'CDS' | 'CDNSKEY', rdata: tokens.slice(i + 1).join(' ') };
}

/** RDATA text compared loosely: the first three fields, then the key or digest without spaces, case-folded for hex. */
function sameRdata(type: string, a: string, b: string): boolean {
  const norm = (t: string) => {
    const x = t.split(/\s+/).filter(Boolean);
    const tail = x.slice(3).join('');
    return `${x.slice(0, 3).join(' ')} ${type === 'CDS' ? tail.toLowerCase() : tail}`;
  };
  return norm(a) === norm(b);
}

export const cdsCommand = adminCommand({
  name: 'cds', summary: "another provider's CDS/CDNSKEY, published beside ours for the parent (multi-signer zones)",
  args: [ZONE, { name: 'ACTION', choices: ['list', 'add', 'remove'], optional: true }, { name: 'RECORD', optional: true, rest: true }],
  options: {},
  notes: [
    'cds ZONE                      the CDS/CDNSKEY records other providers added (ours are made by the signer)',
    "cds ZONE add 'CDS 12345 13 2 HEX'          publish it beside ours (RFC 7344; multi-signer on)",
    "cds ZONE add 'CDNSKEY 257 3 13 BASE64'",
    "cds ZONE remove 'CDS 12345 13 2 HEX'       withdraw it",
  ],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const action = p.args.ACTION ?? 'list';
    if (action === 'list') {
      if (p.args.RECORD !== undefined) throw new CliError(`unexpected argument '${p.args.RECORD}'`, 2);
      const rows = [['TYPE', 'RECORD', 'RDATA']];
      for (const t of PARENT_TYPES) for (const r of await recordsOf(c, zone, t)) rows.push([t, r.id, r.content]);
      io.out(rows.length === 1 ? `${zone.name}: no CDS/CDNSKEY of other providers (the signer publishes ours)\n` : table(rows));
      return;
    }
    if (!p.args.RECORD) throw new CliError(`usage: tandem cds ZONE ${action} 'CDS|CDNSKEY RDATA'`, 2);
    const { type, rdata } = parseParentRecord(p.args.RECORD);
    if (action === 'add') {
      const rec = (await c.call('POST', `/zones/${zone.id}/dns_records`, { type, name: zone.name, content: rdata, ttl: 3600 })).result as Rec;
      io.out(`${zone.name}: ${type} ${rec.content} published beside ours (record ${rec.id})\n`);
      return;
    }
    const hits = (await recordsOf(c, zone, type)).filter((r) => sameRdata(type, r.content, rdata));
    if (hits.length === 0) throw new CliError(`no ${type} ${rdata} of another provider in ${zone.name} (the signer's own cannot be removed)`);
    for (const h of hits) await c.call('DELETE', `/zones/${zone.id}/dns_records/${h.id}`);
    io.out(`${zone.name}: ${type} ${hits[0].content} withdrawn\n`);
  },
});

export const csyncCommand = adminCommand({
  name: 'csync', summary: 'publish or withdraw the zone\'s CSYNC (RFC 7477): the parent copies NS, A and AAAA from it',
  args: [ZONE, { name: 'ACTION', choices: ['show', 'publish', 'remove'], optional: true }],
  options: {
    immediate: { type: 'boolean', help: 'publish: the parent may act without waiting for approval (RFC 7477 flag 1)' },
    soaminimum: { type: 'boolean', help: 'publish: the parent acts only on a zone serial >= the CSYNC serial (flag 2)' },
    types: { type: 'string', value: 'LIST', defaultText: 'NS,A,AAAA', help: 'publish: the types the parent copies (NS, A, AAAA)' },
    serial: { type: 'string', value: 'N', help: 'publish: the CSYNC serial (default: the SOA serial served now)' },
    ttl: { type: 'string', value: 'SECONDS', defaultText: '3600', help: 'publish: TTL of the record' },
  },
  notes: [
    'csync ZONE                    the CSYNC record, if any',
    'csync ZONE publish [--immediate] [--soaminimum] [--types NS,A,AAAA] [--serial N]   publish (or replace) it',
    'csync ZONE remove             withdraw it',
  ],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const action = p.args.ACTION ?? 'show';
    const existing = await recordsOf(c, zone, 'CSYNC');
    if (action === 'show') {
      io.out(existing.length ? existing.map((r) => `${zone.name}. ${r.ttl} IN CSYNC ${r.content}\n`).join('') : `${zone.name}: no CSYNC record\n`);
      return;
    }
    if (action === 'remove') {
      if (existing.length === 0) throw new CliError(`${zone.name} has no CSYNC record`);
      for (const r of existing) await c.call('DELETE', `/zones/${zone.id}/dns_records/${r.id}`);
      io.out(`${zone.name}: CSYNC withdrawn\n`);
      return;
    }
    const serialText = p.values.serial ?? (zone.tandem?.soa_serial !== undefined ? String(zone.tandem.soa_serial) : undefined);
    if (serialText === undefined || !/^\d+$/.test(serialText) || Number(serialText) > 0xffffffff) {
      throw new CliError(serialText === undefined ? 'the API did not say the zone\'s serial; give --serial N' : `--serial ${serialText} is not a serial (0..4294967295)`, 2);
    }
    const types = (p.values.types ?? 'NS,A,AAAA').split(/[\s,]+/).filter(Boolean).map((t) => t.toUpperCase());
    const flags = (p.values.immediate ? 1 : 0) | (p.values.soaminimum ? 2 : 0);
    const body = { type: 'CSYNC', name: zone.name, content: `${serialText} ${flags} ${types.join(' ')}`, ttl: p.values.ttl ? Number(p.values.ttl) : 3600 };
    const rec = (existing.length
      ? await c.call('PUT', `/zones/${zone.id}/dns_records/${existing[0].id}`, body)
      : await c.call('POST', `/zones/${zone.id}/dns_records`, body)).result as Rec;
    io.out(`${zone.name}. ${rec.ttl} IN CSYNC ${rec.content}\n`);
  },
});

export const PARENT_COMMANDS: readonly Command<any>[] = [cdsCommand, csyncCommand];
