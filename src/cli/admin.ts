// `tandem` admin subcommands: thin clients of the admin HTTP API (docs/api.md). They parse flags, call the
// Cloudflare-shaped routes and print plain text. Zones may be given by name or by id. Each command is one
// definition (spec.ts): its flags, arguments and help come from there.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSource, type KeySource } from '../state/claims.js';
import { defineCommand, processIo, runCommand, type ArgSpec, type Command, type Io, type OptionSpecs, type Parsed } from './spec.js';
import { base64Problem } from '../dns/rdata/text.js';

/** The admin commands' output and environment (tests pass their own). */
export type AdminIo = Io;

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface Client {
  call(method: string, path: string, body?: unknown): Promise<any>;
}

/** Names the CLI as its own holder of imported keys (docs/api.md "Who holds a key"); Cloudflare ignores it. */
const SOURCE_HEADER = { 'x-tandem-source': 'cli' };

const DEFAULT_API = 'http://127.0.0.1:8053';

/** The flags every admin command takes: where the API is and how to prove who we are. */
export const API_OPTIONS = {
  api: { type: 'string', value: 'URL', defaultText: DEFAULT_API, help: "the running server's admin API (env TANDEM_API)" },
  token: { type: 'string', value: 'TOKEN', help: 'API token (env TANDEM_TOKEN)' },
  'token-file': { type: 'string', value: 'FILE', help: 'read the API token from FILE' },
  state: { type: 'string', value: 'DIR', defaultText: '.tandem', help: "the server's state folder: its api-token is read when no token is given (env TANDEM_STATE)" },
} as const satisfies OptionSpecs;

type ApiValues = { api?: string; token?: string; 'token-file'?: string; state?: string };

/**
 * The API client. Credentials: --token, TANDEM_TOKEN (or TANDEM_API_TOKEN), --token-file, the server's
 * `<state>/api-token`, or TANDEM_AUTH_EMAIL + TANDEM_AUTH_KEY. A token file that cannot be read is said so
 * here, rather than sending no credentials and printing the server's "missing credentials" (9106).
 */
async function makeClient(values: ApiValues, io: AdminIo): Promise<Client> {
  const base = String(values.api ?? io.env.TANDEM_API ?? DEFAULT_API).replace(/\/+$/, '');
  const api = /^https?:\/\//.test(base) ? base : `http://${base}`;
  let token = values.token ?? io.env.TANDEM_TOKEN ?? io.env.TANDEM_API_TOKEN;
  const emailKey = io.env.TANDEM_AUTH_EMAIL && io.env.TANDEM_AUTH_KEY;
  if (!token && (values['token-file'] !== undefined || !emailKey)) {
    const named = values['token-file'];
    const file = named ?? join(String(values.state ?? io.env.TANDEM_STATE ?? '.tandem'), 'api-token');
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message;
      throw new CliError(named !== undefined
        ? `cannot read the token file ${file} (${why})`
        : `no API token: --token and TANDEM_TOKEN are not set and the server's token file ${file} cannot be read (${why}); ` +
          'give --token, --token-file FILE, or --state DIR naming the state folder of the running server');
    }
    if (!token) throw new CliError(`the token file ${file} is empty`);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', ...SOURCE_HEADER };
  if (token) headers.authorization = `Bearer ${token}`;
  else if (emailKey) {
    headers['x-auth-email'] = io.env.TANDEM_AUTH_EMAIL!;
    headers['x-auth-key'] = io.env.TANDEM_AUTH_KEY!;
  }
  return {
    async call(method, path, body) {
      let res: Response;
      try {
        res = await fetch(`${api}/client/v4${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (e) {
        throw new CliError(`cannot reach the API at ${api}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
      }
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError(`API answered HTTP ${res.status} without JSON`);
      }
      if (!json.success) {
        const errs = (json.errors ?? []).map((e: { code: number; message: string }) => `${e.message} (${e.code})`).join('; ');
        throw new CliError(`API error (HTTP ${res.status}): ${errs}`);
      }
      return json;
    },
  };
}

export interface Zone { id: string; name: string; name_servers: string[]; tandem?: { soa_serial?: number } }

export async function resolveZone(c: Client, zone: string | undefined): Promise<Zone> {
  if (!zone) throw new CliError('missing ZONE', 2);
  if (/^[0-9a-f]{32}$/.test(zone)) return (await c.call('GET', `/zones/${zone}`)).result;
  const name = zone.replace(/\.$/, '');
  const found = (await c.call('GET', `/zones?name=${encodeURIComponent(name)}`)).result as Zone[];
  if (found.length === 0) throw new CliError(`no zone ${name} on this server`);
  return found[0];
}

/** RFC 4034 Appendix B key tag of DNSKEY RDATA. */
function keyTagOf(flags: number, protocol: number, algorithm: number, publicKey: string): number {
  const rdata = Buffer.concat([Buffer.from([flags >> 8, flags & 0xff, protocol, algorithm]), Buffer.from(publicKey, 'base64')]);
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** 'FLAGS PROTO ALG KEY...', or an RR line containing 'DNSKEY', or the first DNSKEY line of a file. */
function parseDnskeyText(text: string): { flags: number; protocol: number; algorithm: number; public_key: string } {
  const line = text.split('\n').map((l) => l.replace(/;.*$/, '').trim()).find((l) => l !== '' && (/\bDNSKEY\b/i.test(l) || /^\d+\s+\d+\s+\d+\s+\S/.test(l)));
  if (!line) throw new CliError('no DNSKEY found: expected "FLAGS 3 ALGORITHM BASE64KEY"', 2);
  const tokens = line.split(/\s+/);
  const i = tokens.findIndex((t) => t.toUpperCase() === 'DNSKEY');
  const rd = i >= 0 ? tokens.slice(i + 1) : tokens;
  const [flags, protocol, algorithm] = rd.slice(0, 3).map(Number);
  // Presentation form (RFC 4034 §2.2): the key may be split by white space (and parentheses); inside the parts,
  // base64 is decoded strictly (RFC 4648 §3.3), as the API does.
  const public_key = rd.slice(3).join('').replace(/[()]/g, '');
  if (![flags, protocol, algorithm].every(Number.isInteger) || public_key === '') throw new CliError(`not a DNSKEY: ${line}`, 2);
  const problem = base64Problem(public_key);
  if (problem) throw new CliError(`the DNSKEY public key is not base64: ${problem}`, 2);
  return { flags, protocol, algorithm, public_key };
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

async function status(c: Client, zoneArg: string | undefined, io: AdminIo): Promise<void> {
  const zones: Zone[] = zoneArg ? [await resolveZone(c, zoneArg)] : (await c.call('GET', '/zones?per_page=50')).result;
  const rows = [['ZONE', 'ID', 'DNSSEC', 'MULTI-SIGNER', 'APEX NS', 'KEYS', 'TRANSFER']];
  for (const z of zones) {
    const d = (await c.call('GET', `/zones/${z.id}/dnssec`)).result;
    const s = (await c.call('GET', `/zones/${z.id}/dns_settings`)).result;
    const zsk = (await c.call('GET', `/zones/${z.id}/dnssec/zsk`)).result as any[];
    const ext = zsk.filter((k) => k.Tag === 'external').length;
    const keys = d.key_tag !== null ? `KSK ${d.key_tag}, ${zsk.length} ZSK${zsk.length === 1 ? '' : 's'}${ext ? ` (${ext} imported)` : ''}` : '-';
    const inc = await c.call('GET', `/zones/${z.id}/secondary_dns/incoming`).then((r) => r.result.tandem, () => undefined);
    const xfr = inc ? `secondary, ${inc.state}${inc.serial !== undefined ? ` ${inc.serial}` : ''}${inc.lastError ? ' (last refresh failed)' : ''}` : '-';
    rows.push([z.name, z.id, d.status, d.dnssec_multi_signer ? 'on' : 'off', s.multi_provider ? 'served' : 'ours only', keys, xfr]);
  }
  io.out(table(rows));
}

function printDnssec(d: any, zone: Zone, io: AdminIo): void {
  io.out(`${zone.name}: DNSSEC ${d.status}${d.dnssec_multi_signer ? ', multi-signer on' : ''}${d.dnssec_presigned ? ', presigned' : ''}${d.dnssec_use_nsec3 ? ', NSEC3' : ''}\n`);
  if (d.ds) io.out(`DS for the registrar:\n  ${d.ds}\n`);
  if (d.status === 'pending') io.out('Waiting for the parent to publish this DS (status becomes active then).\n');
}

/**
 * One admin command: its own flags beside API_OPTIONS, and a body that gets the client. Errors of the API or
 * of the arguments are printed as `tandem CMD: message` (exit 1, or 2 for a wrong command line).
 */
export function adminCommand<const O extends OptionSpecs>(c: {
  name: string; summary: string; args: ArgSpec[]; options: O; notes?: string[];
  run(client: Client, p: Parsed<O & typeof API_OPTIONS>, io: AdminIo): Promise<void>;
}): Command<O & typeof API_OPTIONS> {
  return defineCommand({
    name: c.name, summary: c.summary, group: 'admin', args: c.args, notes: c.notes,
    options: { ...c.options, ...API_OPTIONS },
    async run(p, io) {
      try {
        await c.run(await makeClient(p.values as ApiValues, io), p, io);
        return 0;
      } catch (e) {
        if (e instanceof CliError) {
          io.err(`tandem ${c.name}: ${e.message}\n`);
          return e.exitCode;
        }
        throw e;
      }
    },
  });
}

export const ZONE: ArgSpec = { name: 'ZONE' };

export const statusCommand = adminCommand({
  name: 'status', summary: 'zones, DNSSEC state, multi-signer and apex NS settings, keys', args: [{ name: 'ZONE', optional: true }], options: {},
  run: (c, p, io) => status(c, p.args.ZONE, io),
});

export const dnssecCommand = adminCommand({
  name: 'dnssec', summary: 'turn DNSSEC on or off for a zone, or tell it the parent has the DS (labs)',
  args: [{ name: 'ACTION', choices: ['enable', 'disable', 'delete', 'parent-ds'] }, ZONE, { name: 'present|absent', optional: true }],
  options: {
    'multi-signer': { type: 'boolean', help: 'enable: import other providers\' keys (RFC 8901 model 2)' },
    presigned: { type: 'boolean', help: 'enable: serve the signatures a secondary zone receives' },
    nsec3: { type: 'boolean', help: 'enable: deny existence with NSEC3 (RFC 5155)' },
  },
  notes: [
    'enable ZONE      sign the zone (DNSSEC pending until the parent has our DS)',
    'disable ZONE     publish the delete CDS/CDNSKEY, keep signing until the DS is gone (pending-disabled)',
    'delete ZONE      remove the DNSSEC records (only once disabled)',
    'parent-ds ZONE present|absent   lab override of the parent DS check',
  ],
  async run(c, p, io) {
    const action = p.args.ACTION;
    const zone = await resolveZone(c, p.args.ZONE);
    const path = `/zones/${zone.id}/dnssec`;
    if (action !== 'parent-ds' && p.args['present|absent'] !== undefined) throw new CliError(`unexpected argument '${p.args['present|absent']}'`, 2);
    if (action === 'enable') {
      const body: Record<string, unknown> = { status: 'active' };
      if (p.values['multi-signer']) body.dnssec_multi_signer = true;
      if (p.values.presigned) body.dnssec_presigned = true;
      if (p.values.nsec3) body.dnssec_use_nsec3 = true;
      printDnssec((await c.call('PATCH', path, body)).result, zone, io);
    } else if (action === 'disable') {
      printDnssec((await c.call('PATCH', path, { status: 'disabled' })).result, zone, io);
    } else if (action === 'delete') {
      await c.call('DELETE', path);
      io.out(`${zone.name}: DNSSEC records deleted\n`);
    } else {
      const d = p.args['present|absent'];
      if (d !== 'present' && d !== 'absent') throw new CliError('usage: tandem dnssec parent-ds ZONE present|absent', 2);
      printDnssec((await c.call('POST', `${path}/parent_ds`, { present: d === 'present' })).result, zone, io);
    }
  },
});

export const importKeyCommand = adminCommand({
  name: 'import-key', summary: "add another provider's DNSKEY to a multi-signer zone (held by the CLI until remove-key)",
  args: [ZONE, { name: 'DNSKEY', rest: true }],
  options: { ttl: { type: 'string', value: 'SECONDS', defaultText: '3600', help: 'TTL of the record' } },
  notes: ["DNSKEY is 'FLAGS 3 ALGORITHM BASE64', a DNSKEY RR line, or @FILE (e.g. a BIND K*.key file)."],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const spec = p.args.DNSKEY!;
    const text = spec.startsWith('@') ? await readFile(spec.slice(1), 'utf8') : spec;
    const data = parseDnskeyText(text);
    const body: Record<string, unknown> = { type: 'DNSKEY', name: zone.name, data, ttl: p.values.ttl ? Number(p.values.ttl) : 3600 };
    const tag = keyTagOf(data.flags, data.protocol, data.algorithm, data.public_key);
    let rec: { id: string; meta?: { key_sources?: string[] } };
    try {
      rec = (await c.call('POST', `/zones/${zone.id}/dns_records`, body)).result;
    } catch (err) {
      // Importing the same key twice is a no-op (the API reports the duplicate as 81058).
      if (err instanceof CliError && /\(81058\)/.test(err.message)) {
        io.out(`key ${tag} is already imported into ${zone.name} with import-key: nothing to do\n`);
        return;
      }
      throw err;
    }
    const others = (rec.meta?.key_sources ?? []).filter((s) => s !== 'cli');
    if (others.length > 0) io.out(`key ${tag} was already in ${zone.name}, held by ${others.map((s) => describeSource(s as KeySource)).join(', ')}; import-key holds it too now (record ${rec.id})\n`);
    else io.out(`imported key ${tag} (flags ${data.flags}) into ${zone.name} as record ${rec.id}\n`);
  },
});

export const keysListCommand = adminCommand({
  name: 'keys-list', summary: "every key in the zone's DNSKEY RRset and who holds it", args: [ZONE], options: {},
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const dd = (await c.call('GET', `/zones/${zone.id}/dnssec`)).result;
    const zsk = (await c.call('GET', `/zones/${zone.id}/dnssec/zsk`)).result as any[];
    const recs = (await c.call('GET', `/zones/${zone.id}/dns_records?type=DNSKEY&per_page=5000`)).result as any[];
    const rows = [['TAG', 'FLAGS', 'ALG', 'SOURCE', 'HELD BY', 'RECORD', 'PUBLIC KEY']];
    if (dd.key_tag !== null) rows.push([String(dd.key_tag), String(dd.flags), dd.algorithm, 'ours (KSK)', '-', '-', dd.public_key]);
    for (const k of zsk.filter((k) => k.Tag !== 'external')) rows.push([String(keyTagOf(k.DNSKEY.Flags, k.DNSKEY.Protocol, k.DNSKEY.Algorithm, k.DNSKEY.PublicKey)), String(k.DNSKEY.Flags), String(k.DNSKEY.Algorithm), 'ours (ZSK)', '-', '-', k.DNSKEY.PublicKey]);
    for (const r of recs) {
      const held = (r.meta?.key_sources ?? ['records']).join(',');
      rows.push([String(keyTagOf(r.data.flags, r.data.protocol, r.data.algorithm, r.data.public_key)), String(r.data.flags), String(r.data.algorithm), 'imported', held, r.id, r.data.public_key]);
    }
    io.out(rows.length === 1 ? `${zone.name}: no keys (DNSSEC ${dd.status})\n` : table(rows));
  },
});

export const removeKeyCommand = adminCommand({
  name: 'remove-key', summary: "let go of a key imported with import-key (it stays while another source holds it)",
  args: [ZONE, { name: 'TAG|RECORD_ID' }],
  options: { 'all-sources': { type: 'boolean', help: 'remove the key whoever holds it (a dns_record, an NS1 set)' } },
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const b = p.args['TAG|RECORD_ID']!;
    const recs = (await c.call('GET', `/zones/${zone.id}/dns_records?type=DNSKEY&per_page=5000`)).result as any[];
    const hits = recs.filter((r) => r.id === b || String(keyTagOf(r.data.flags, r.data.protocol, r.data.algorithm, r.data.public_key)) === b);
    if (hits.length === 0) throw new CliError(`no imported DNSKEY with tag or id ${b} in ${zone.name} (our own keys cannot be removed here)`);
    if (hits.length > 1) throw new CliError(`key tag ${b} matches ${hits.length} records; give the record id (${hits.map((h) => h.id).join(', ')})`);
    const hit = hits[0];
    const tag = keyTagOf(hit.data.flags, hit.data.protocol, hit.data.algorithm, hit.data.public_key);
    const all = p.values['all-sources'] === true;
    const res = await c.call('DELETE', `/zones/${zone.id}/dns_records/${hit.id}${all ? '?all_sources=true' : ''}`);
    const left: string[] = res.result?.key_sources ?? [];
    if (left.length > 0) io.out(`key ${tag} is still held by ${left.map((s) => describeSource(s as KeySource)).join(', ')}: import-key's claim is removed, the key stays in ${zone.name} (--all-sources removes it)\n`);
    else io.out(`removed DNSKEY ${tag} (record ${hit.id}) from ${zone.name}${all ? ' (every source)' : ''}\n`);
  },
});

export const apexNsCommand = adminCommand({
  name: 'apex-ns', summary: "the zone's apex NS records: show, serve them with ours (on|off), add or remove one",
  args: [ZONE, { name: 'ACTION', choices: ['on', 'off', 'add', 'remove'], optional: true }, { name: 'HOST', optional: true }],
  options: { ttl: { type: 'string', value: 'SECONDS', defaultText: '86400', help: 'add: TTL of the NS record' } },
  notes: [
    'apex-ns ZONE                 multi_provider and the apex NS records',
    'apex-ns ZONE on|off          serve the apex NS records with ours (multi_provider), or ours only',
    'apex-ns ZONE add|remove HOST add or remove an apex NS record',
  ],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const b = p.args.ACTION;
    const d = p.args.HOST;
    if ((b === 'on' || b === 'off' || b === undefined) && d !== undefined) throw new CliError(`unexpected argument '${d}'`, 2);
    if (b === 'on' || b === 'off') {
      const s = (await c.call('PATCH', `/zones/${zone.id}/dns_settings`, { multi_provider: b === 'on' })).result;
      io.out(`${zone.name}: apex NS records ${s.multi_provider ? 'are served with ours (multi_provider on)' : 'ignored; only our nameservers are served'}\n`);
    } else if (b === 'add' || b === 'remove') {
      if (!d) throw new CliError(`usage: tandem apex-ns ZONE ${b} HOST`, 2);
      const host = d.replace(/\.$/, '');
      if (b === 'add') {
        await c.call('POST', `/zones/${zone.id}/dns_records`, { type: 'NS', name: zone.name, content: host, ttl: p.values.ttl ? Number(p.values.ttl) : 86400 });
        io.out(`added NS ${host} at ${zone.name}\n`);
      } else {
        const recs = (await c.call('GET', `/zones/${zone.id}/dns_records?type=NS&name=${encodeURIComponent(zone.name)}&content=${encodeURIComponent(host)}`)).result as any[];
        if (recs.length === 0) throw new CliError(`no apex NS ${host} in ${zone.name}`);
        for (const r of recs) await c.call('DELETE', `/zones/${zone.id}/dns_records/${r.id}`);
        io.out(`removed NS ${host} from ${zone.name}\n`);
      }
    } else {
      const s = (await c.call('GET', `/zones/${zone.id}/dns_settings`)).result;
      const ns = (await c.call('GET', `/zones/${zone.id}/dns_records?type=NS&name=${encodeURIComponent(zone.name)}`)).result as any[];
      io.out(`${zone.name}: multi_provider ${s.multi_provider ? 'on' : 'off'}; ours: ${zone.name_servers.join(', ')}; apex NS records: ${ns.map((r) => r.content).join(', ') || 'none'}\n`);
    }
  },
});

export const zskCommand = adminCommand({
  name: 'zsk', summary: 'the ZSKs (ours and imported) as DNSKEY RRs, for the other providers', args: [ZONE], options: {},
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const zsk = (await c.call('GET', `/zones/${zone.id}/dnssec/zsk`)).result as any[];
    for (const k of zsk) io.out(`${k.DNSKEY.Hdr.Name} ${k.DNSKEY.Hdr.Ttl} IN DNSKEY ${k.DNSKEY.Flags} ${k.DNSKEY.Protocol} ${k.DNSKEY.Algorithm} ${k.DNSKEY.PublicKey} ; ${k.Tag}\n`);
    if (zsk.length === 0) io.out(`; ${zone.name}: no ZSKs (DNSSEC off)\n`);
  },
});

/** `tandem ds ZONE --api URL`: our DS as the running server reports it (keys.ts decides offline or API). */
export async function adminDs(values: ApiValues, zoneArg: string, io: AdminIo): Promise<number> {
  try {
    const c = await makeClient(values, io);
    const zone = await resolveZone(c, zoneArg);
    const dd = (await c.call('GET', `/zones/${zone.id}/dnssec`)).result;
    if (!dd.ds) throw new CliError(`${zone.name}: DNSSEC is ${dd.status}; no DS to publish`);
    io.out(`${dd.ds}\n`);
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`tandem ds: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

/** The zone's transfers: a secondary's state (primary, serial, timers, last error), a primary's outgoing set-up. */
async function transferStatus(c: Client, zone: Zone, io: AdminIo): Promise<void> {
  const inc = await c.call('GET', `/zones/${zone.id}/secondary_dns/incoming`).then((r) => r.result, () => undefined);
  const out = await c.call('GET', `/zones/${zone.id}/secondary_dns/outgoing`).then((r) => r.result, () => undefined);
  if (inc) {
    const t = inc.tandem;
    io.out(`${zone.name}: secondary, ${t.state}${t.serial !== undefined ? `, serial ${t.serial}` : ''}${t.primary ? ` (from ${t.primary})` : ''}\n`);
    io.out(`  primaries: ${t.primaries.join(', ')}; dnssec: ${t.dnssec}${t.refreshing ? '; refreshing now' : ''}\n`);
    const times = [['last transfer', t.lastTransfer], ['last refresh', t.lastRefresh], ['next refresh', t.nextRefresh], ['expires', t.expiresAt]]
      .filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
    if (times.length) io.out(`  ${times.join('; ')}\n`);
    if (t.lastError) io.out(`  last error ${t.lastError.at} from ${t.lastError.primary}: ${t.lastError.reason}\n`);
  }
  if (out) {
    const t = out.tandem;
    const allow = t.allow.map((a: { address?: string; key?: string; content: string }) => `${[a.address, a.key && `key ${a.key}`].filter(Boolean).join(' + ')} (${a.content})`);
    io.out(`${zone.name}: primary, serial ${t.serial}; transfers to ${allow.join(', ') || 'nobody'}\n`);
    io.out(`  NOTIFY: ${t.notify.join(', ') || 'none'}; IXFR journal ${t.journal.kept} of ${t.journal.max} changes\n`);
  }
  if (!inc && !out) io.out(`${zone.name}: no zone transfers (neither zone.secondary nor zone.transfer in its zone file)\n`);
}

export const transferCommand = adminCommand({
  name: 'transfer', summary: "a zone's transfers: a secondary's primary, serial, timers and errors; a primary's allow list and NOTIFY",
  args: [ZONE, { name: 'ACTION', choices: ['status', 'refresh', 'retransfer'], optional: true }],
  options: {},
  notes: [
    'status       (default) what the zone transfers in and out',
    'refresh      a secondary zone: ask the primaries now (SOA, then IXFR when newer), then show the state',
    'retransfer   a secondary zone: transfer the whole zone now (AXFR), then show the state',
  ],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const action = p.args.ACTION ?? 'status';
    if (action === 'refresh') await c.call('POST', `/zones/${zone.id}/secondary_dns/refresh`, {});
    else if (action === 'retransfer') await c.call('POST', `/zones/${zone.id}/secondary_dns/force_axfr`, {});
    await transferStatus(c, zone, io);
  },
});

export const ADMIN_COMMANDS: readonly Command<any>[] = [statusCommand, dnssecCommand, importKeyCommand, keysListCommand, removeKeyCommand, apexNsCommand, zskCommand, transferCommand];

/** Runs admin command `name` (`ds` included) with `argv`, as `tandem name ...` does. */
export async function runAdminCommand(name: string, argv: string[], io: AdminIo = processIo): Promise<number> {
  const { dsCommand } = await import('./keys.js');
  const { PARENT_COMMANDS } = await import('./parent.js');
  const { SYNC_COMMANDS } = await import('./sync.js');
  const { rolloverCommand } = await import('./rollover.js');
  const cmd = name === 'ds' ? dsCommand : [...ADMIN_COMMANDS, ...PARENT_COMMANDS, ...SYNC_COMMANDS, rolloverCommand].find((c) => c.name === name);
  if (!cmd) {
    io.err(`tandem: unknown admin command '${name}'\n`);
    return 2;
  }
  return runCommand(cmd, argv, io);
}
