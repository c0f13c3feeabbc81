// `tandem` admin subcommands: thin clients of the admin HTTP API (docs/api.md). They parse flags, call the
// Cloudflare-shaped routes and print plain text. Zones may be given by name or by id.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeSource, type KeySource } from '../state/claims.js';

export const ADMIN_COMMANDS = ['status', 'dnssec', 'import-key', 'keys-list', 'remove-key', 'apex-ns', 'ds', 'zsk'] as const;

export const adminUsage = `Admin commands (talk to a running tandem over its API):
  tandem status [ZONE]                          zones, DNSSEC state, multi-signer and apex NS settings
  tandem dnssec enable ZONE [--multi-signer] [--presigned] [--nsec3]
  tandem dnssec disable ZONE
  tandem dnssec delete ZONE                     remove DNSSEC records (only once disabled)
  tandem dnssec parent-ds ZONE present|absent   lab override of the parent DS check
  tandem import-key ZONE DNSKEY [--ttl N]       add another provider's key; DNSKEY is 'FLAGS 3 ALG BASE64',
                                                a DNSKEY RR line, or @FILE (e.g. a BIND K*.key file)
  tandem keys-list ZONE                         every key in the zone's DNSKEY RRset and who holds it
  tandem remove-key ZONE TAG|RECORD_ID [--all-sources]
                                                let go of a key imported with import-key; it stays while
                                                another source (a dns_record, an NS1 set) holds it, unless
                                                --all-sources
  tandem apex-ns ZONE [on|off]                  serve the zone's apex NS records with ours (multi_provider)
  tandem apex-ns ZONE add|remove HOST           add or remove an apex NS record
  tandem ds ZONE                                our DS record for the registrar
  tandem zsk ZONE                               the ZSKs (ours and imported) for the other providers

Common flags: --api URL (or TANDEM_API; default http://127.0.0.1:8053)
              --token TOKEN (or TANDEM_TOKEN); otherwise --token-file FILE or <--state DIR>/api-token
`;

export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: AdminIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

interface Client {
  call(method: string, path: string, body?: unknown): Promise<any>;
}

/** Names the CLI as its own holder of imported keys (docs/api.md "Who holds a key"); Cloudflare ignores it. */
const SOURCE_HEADER = { 'x-tandem-source': 'cli' };

async function makeClient(values: Record<string, string | boolean | undefined>, io: AdminIo): Promise<Client> {
  const base = String(values.api ?? io.env.TANDEM_API ?? 'http://127.0.0.1:8053').replace(/\/+$/, '');
  const api = /^https?:\/\//.test(base) ? base : `http://${base}`;
  let token = (values.token as string | undefined) ?? io.env.TANDEM_TOKEN ?? io.env.TANDEM_API_TOKEN;
  if (!token) {
    const file = (values['token-file'] as string | undefined) ?? join(String(values.state ?? io.env.TANDEM_STATE ?? '.tandem'), 'api-token');
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch {
      if (values['token-file']) throw new CliError(`cannot read token file ${file}`);
    }
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', ...SOURCE_HEADER };
  if (token) headers.authorization = `Bearer ${token}`;
  else if (io.env.TANDEM_AUTH_EMAIL && io.env.TANDEM_AUTH_KEY) {
    headers['x-auth-email'] = io.env.TANDEM_AUTH_EMAIL;
    headers['x-auth-key'] = io.env.TANDEM_AUTH_KEY;
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

interface Zone { id: string; name: string; name_servers: string[] }

async function resolveZone(c: Client, zone: string | undefined): Promise<Zone> {
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
  const public_key = rd.slice(3).join('').replace(/[()]/g, '');
  if (![flags, protocol, algorithm].every(Number.isInteger) || public_key === '') throw new CliError(`not a DNSKEY: ${line}`, 2);
  return { flags, protocol, algorithm, public_key };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

async function status(c: Client, zoneArg: string | undefined, io: AdminIo): Promise<void> {
  const zones: Zone[] = zoneArg ? [await resolveZone(c, zoneArg)] : (await c.call('GET', '/zones?per_page=50')).result;
  const rows = [['ZONE', 'ID', 'DNSSEC', 'MULTI-SIGNER', 'APEX NS', 'KEYS']];
  for (const z of zones) {
    const d = (await c.call('GET', `/zones/${z.id}/dnssec`)).result;
    const s = (await c.call('GET', `/zones/${z.id}/dns_settings`)).result;
    const zsk = (await c.call('GET', `/zones/${z.id}/dnssec/zsk`)).result as any[];
    const ext = zsk.filter((k) => k.Tag === 'external').length;
    const keys = d.key_tag !== null ? `KSK ${d.key_tag}, ${zsk.length} ZSK${zsk.length === 1 ? '' : 's'}${ext ? ` (${ext} imported)` : ''}` : '-';
    rows.push([z.name, z.id, d.status, d.dnssec_multi_signer ? 'on' : 'off', s.multi_provider ? 'served' : 'ours only', keys]);
  }
  io.out(table(rows));
}

function printDnssec(d: any, zone: Zone, io: AdminIo): void {
  io.out(`${zone.name}: DNSSEC ${d.status}${d.dnssec_multi_signer ? ', multi-signer on' : ''}${d.dnssec_presigned ? ', presigned' : ''}${d.dnssec_use_nsec3 ? ', NSEC3' : ''}\n`);
  if (d.ds) io.out(`DS for the registrar:\n  ${d.ds}\n`);
  if (d.status === 'pending') io.out('Waiting for the parent to publish this DS (status becomes active then).\n');
}

export async function runAdminCommand(cmd: string, argv: string[], io: AdminIo = defaultIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        api: { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, state: { type: 'string' },
        'multi-signer': { type: 'boolean' }, presigned: { type: 'boolean' }, nsec3: { type: 'boolean' }, ttl: { type: 'string' }, 'all-sources': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.out(adminUsage);
      return 0;
    }
    const c = await makeClient(values, io);
    const [a, b, d] = positionals;
    switch (cmd) {
      case 'status':
        await status(c, a, io);
        return 0;
      case 'dnssec': {
        const zone = await resolveZone(c, b);
        const p = `/zones/${zone.id}/dnssec`;
        if (a === 'enable') {
          const body: Record<string, unknown> = { status: 'active' };
          if (values['multi-signer']) body.dnssec_multi_signer = true;
          if (values.presigned) body.dnssec_presigned = true;
          if (values.nsec3) body.dnssec_use_nsec3 = true;
          printDnssec((await c.call('PATCH', p, body)).result, zone, io);
        } else if (a === 'disable') {
          printDnssec((await c.call('PATCH', p, { status: 'disabled' })).result, zone, io);
        } else if (a === 'delete') {
          await c.call('DELETE', p);
          io.out(`${zone.name}: DNSSEC records deleted\n`);
        } else if (a === 'parent-ds') {
          if (d !== 'present' && d !== 'absent') throw new CliError('usage: tandem dnssec parent-ds ZONE present|absent', 2);
          printDnssec((await c.call('POST', `${p}/parent_ds`, { present: d === 'present' })).result, zone, io);
        } else throw new CliError('usage: tandem dnssec enable|disable|delete|parent-ds ZONE', 2);
        return 0;
      }
      case 'import-key': {
        const zone = await resolveZone(c, a);
        const spec = positionals.slice(1).join(' ');
        if (!spec) throw new CliError('usage: tandem import-key ZONE "FLAGS 3 ALG BASE64" | @FILE', 2);
        const text = spec.startsWith('@') ? await readFile(spec.slice(1), 'utf8') : spec;
        const data = parseDnskeyText(text);
        const body: Record<string, unknown> = { type: 'DNSKEY', name: zone.name, data, ttl: values.ttl ? Number(values.ttl) : 3600 };
        const tag = keyTagOf(data.flags, data.protocol, data.algorithm, data.public_key);
        let rec: { id: string; meta?: { key_sources?: string[] } };
        try {
          rec = (await c.call('POST', `/zones/${zone.id}/dns_records`, body)).result;
        } catch (err) {
          // Importing the same key twice is a no-op (the API reports the duplicate as 81058).
          if (err instanceof CliError && /\(81058\)/.test(err.message)) {
            io.out(`key ${tag} is already imported into ${zone.name} with import-key: nothing to do\n`);
            return 0;
          }
          throw err;
        }
        const others = (rec.meta?.key_sources ?? []).filter((s) => s !== 'cli');
        if (others.length > 0) io.out(`key ${tag} was already in ${zone.name}, held by ${others.map((s) => describeSource(s as KeySource)).join(', ')}; import-key holds it too now (record ${rec.id})\n`);
        else io.out(`imported key ${tag} (flags ${data.flags}) into ${zone.name} as record ${rec.id}\n`);
        return 0;
      }
      case 'keys-list': {
        const zone = await resolveZone(c, a);
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
        return 0;
      }
      case 'remove-key': {
        const zone = await resolveZone(c, a);
        if (!b) throw new CliError('usage: tandem remove-key ZONE TAG|RECORD_ID', 2);
        const recs = (await c.call('GET', `/zones/${zone.id}/dns_records?type=DNSKEY&per_page=5000`)).result as any[];
        const hits = recs.filter((r) => r.id === b || String(keyTagOf(r.data.flags, r.data.protocol, r.data.algorithm, r.data.public_key)) === b);
        if (hits.length === 0) throw new CliError(`no imported DNSKEY with tag or id ${b} in ${zone.name} (our own keys cannot be removed here)`);
        if (hits.length > 1) throw new CliError(`key tag ${b} matches ${hits.length} records; give the record id (${hits.map((h) => h.id).join(', ')})`);
        const hit = hits[0];
        const tag = keyTagOf(hit.data.flags, hit.data.protocol, hit.data.algorithm, hit.data.public_key);
        const all = values['all-sources'] === true;
        const res = await c.call('DELETE', `/zones/${zone.id}/dns_records/${hit.id}${all ? '?all_sources=true' : ''}`);
        const left: string[] = res.result?.key_sources ?? [];
        if (left.length > 0) io.out(`key ${tag} is still held by ${left.map((s) => describeSource(s as KeySource)).join(', ')}: import-key's claim is removed, the key stays in ${zone.name} (--all-sources removes it)\n`);
        else io.out(`removed DNSKEY ${tag} (record ${hit.id}) from ${zone.name}${all ? ' (every source)' : ''}\n`);
        return 0;
      }
      case 'apex-ns': {
        const zone = await resolveZone(c, a);
        if (b === 'on' || b === 'off') {
          const s = (await c.call('PATCH', `/zones/${zone.id}/dns_settings`, { multi_provider: b === 'on' })).result;
          io.out(`${zone.name}: apex NS records ${s.multi_provider ? 'are served with ours (multi_provider on)' : 'ignored; only our nameservers are served'}\n`);
        } else if (b === 'add' || b === 'remove') {
          if (!d) throw new CliError(`usage: tandem apex-ns ZONE ${b} HOST`, 2);
          const host = d.replace(/\.$/, '');
          if (b === 'add') {
            await c.call('POST', `/zones/${zone.id}/dns_records`, { type: 'NS', name: zone.name, content: host, ttl: values.ttl ? Number(values.ttl) : 86400 });
            io.out(`added NS ${host} at ${zone.name}\n`);
          } else {
            const recs = (await c.call('GET', `/zones/${zone.id}/dns_records?type=NS&name=${encodeURIComponent(zone.name)}&content=${encodeURIComponent(host)}`)).result as any[];
            if (recs.length === 0) throw new CliError(`no apex NS ${host} in ${zone.name}`);
            for (const r of recs) await c.call('DELETE', `/zones/${zone.id}/dns_records/${r.id}`);
            io.out(`removed NS ${host} from ${zone.name}\n`);
          }
        } else if (b === undefined) {
          const s = (await c.call('GET', `/zones/${zone.id}/dns_settings`)).result;
          const ns = (await c.call('GET', `/zones/${zone.id}/dns_records?type=NS&name=${encodeURIComponent(zone.name)}`)).result as any[];
          io.out(`${zone.name}: multi_provider ${s.multi_provider ? 'on' : 'off'}; ours: ${zone.name_servers.join(', ')}; apex NS records: ${ns.map((r) => r.content).join(', ') || 'none'}\n`);
        } else throw new CliError('usage: tandem apex-ns ZONE [on|off|add HOST|remove HOST]', 2);
        return 0;
      }
      case 'ds': {
        const zone = await resolveZone(c, a);
        const dd = (await c.call('GET', `/zones/${zone.id}/dnssec`)).result;
        if (!dd.ds) throw new CliError(`${zone.name}: DNSSEC is ${dd.status}; no DS to publish`);
        io.out(`${dd.ds}\n`);
        return 0;
      }
      case 'zsk': {
        const zone = await resolveZone(c, a);
        const zsk = (await c.call('GET', `/zones/${zone.id}/dnssec/zsk`)).result as any[];
        for (const k of zsk)
          io.out(`${k.DNSKEY.Hdr.Name} ${k.DNSKEY.Hdr.Ttl} IN DNSKEY ${k.DNSKEY.Flags} ${k.DNSKEY.Protocol} ${k.DNSKEY.Algorithm} ${k.DNSKEY.PublicKey} ; ${k.Tag}\n`);
        if (zsk.length === 0) io.out(`; ${zone.name}: no ZSKs (DNSSEC off)\n`);
        return 0;
      }
      default:
        throw new CliError(`unknown admin command '${cmd}'\n\n${adminUsage}`, 2);
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`tandem ${cmd}: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof TypeError && /parseArgs|option|argument/i.test(e.message)) {
      io.err(`tandem ${cmd}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
