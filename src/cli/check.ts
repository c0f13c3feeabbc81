// `tandem check ZONE --ns HOST[:PORT]...`: the multi-signer checker (src/lab/check.ts). Thin: parse the flags,
// read the trust anchors, run the check, print the report (human or --json); exit 1 on any error.
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Endpoint } from '../config/server.js';
import { Name } from '../dns/name.js';
import { systemClock } from '../dnssec/types.js';
import { AnchorError, parseAnchorText, parseDsText, type TrustAnchors } from '../lab/anchors.js';
import { runCheck, type Provider } from '../lab/check.js';
import { parseNameArg } from '../lab/names.js';
import { formatReport } from '../lab/report.js';
import { defineCommand, UsageError, type Command } from './spec.js';

/** `HOST`, `HOST:PORT`, `[IPv6]:PORT` or a bare IPv6 address; port 53 unless given. */
export function parseServerArg(text: string): { host: string; port: number } {
  const t = text.trim();
  let host = t, port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(t);
  if (bracket) { host = bracket[1]; port = bracket[2] ? Number(bracket[2]) : 53; }
  else if ((t.match(/:/g) ?? []).length === 1) {
    const [h, p] = t.split(':');
    if (!/^\d{1,5}$/.test(p)) throw new Error(`bad port in '${text}'`);
    host = h; port = Number(p);
  }
  if (!host || port < 1 || port > 65535) throw new Error(`bad address '${text}': expected HOST[:PORT]`);
  return { host, port };
}

async function resolveServer(text: string): Promise<Endpoint> {
  const s = parseServerArg(text);
  if (isIP(s.host)) return s;
  try {
    return { host: (await lookup(s.host)).address, port: s.port };
  } catch (err) {
    throw new Error(`cannot resolve ${s.host}: ${(err as Error).message}`);
  }
}

export const checkCommand: Command<any> = defineCommand({
  name: 'check', group: 'lab',
  summary: 'check a multi-signer set-up over DNS: keys, DS, CDS/CDNSKEY, NS and answers of every provider validated with every provider\'s keys',
  args: [{ name: 'ZONE' }],
  options: {
    ns: { type: 'string', multiple: true, value: 'HOST[:PORT]', help: 'a provider\'s nameserver (one per provider; port 53 unless given)' },
    ds: { type: 'string', value: 'FILE', help: 'the DS set at the parent: DS records in presentation form, one a line (`tandem ds` prints ours)' },
    parent: { type: 'string', value: 'HOST[:PORT]', help: 'ask this server (the parent\'s, or a resolver) for the DS set' },
    anchor: { type: 'string', value: 'FILE', help: 'trust anchors in delv\'s syntax (trust-anchors { "zone." static-ds|static-key ...; };)' },
    name: { type: 'string', multiple: true, value: "'NAME TYPE'", help: 'a name to ask every provider as well (type A unless given)' },
    'names-only': { type: 'boolean', help: 'ask only the apex and the --name names (no AXFR, NSEC walk or made-up names)' },
    'expiry-days': { type: 'string', value: 'N', default: '3', help: 'warn about signatures that expire within N days' },
    'no-co': { type: 'boolean', help: 'never send the Compact Answers OK bit (RFC 9824 §5.1)' },
    timeout: { type: 'string', value: 'MS', default: '3000', help: 'per question' },
    json: { type: 'boolean', help: 'print the report as JSON' },
  },
  notes: [
    'Each answer is validated with each provider\'s DNSKEY RRset (pinned pairs), so a missing ZSK shows even when',
    'a resolver would retry another server. Exit 0: no errors (warnings allowed); 1: errors; 2: wrong command line.',
  ],
  async run(p, io) {
    const v = p.values as Record<string, string | string[] | boolean | undefined>;
    const zone = Name.fromText(p.args.ZONE!.endsWith('.') ? p.args.ZONE! : `${p.args.ZONE}.`);
    const ns = (v.ns as string[] | undefined) ?? [];
    if (ns.length === 0) throw new UsageError(checkCommand, 'at least one --ns HOST[:PORT] is needed');
    const trust = ['ds', 'parent', 'anchor'].filter((k) => v[k] !== undefined);
    if (trust.length > 1) throw new UsageError(checkCommand, `--${trust.join(', --')}: give one of them`);
    const expiryDays = Number(v['expiry-days']);
    const timeoutMs = Number(v.timeout);
    if (!Number.isFinite(expiryDays) || expiryDays < 0) throw new UsageError(checkCommand, `--expiry-days must be a number of days, not '${v['expiry-days']}'`);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new UsageError(checkCommand, `--timeout must be at least 100 ms, not '${v.timeout}'`);
    let names;
    let parent;
    try {
      names = ((v.name as string[] | undefined) ?? []).map((n) => parseNameArg(n, zone));
      parent = v.parent !== undefined ? { server: await resolveServer(v.parent as string), label: v.parent as string } : undefined;
    } catch (err) {
      throw new UsageError(checkCommand, (err as Error).message);
    }
    let anchors: TrustAnchors | undefined;
    const file = (v.ds ?? v.anchor) as string | undefined;
    if (file !== undefined) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        io.err(`tandem check: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        return 1;
      }
      try {
        anchors = v.ds !== undefined ? parseDsText(text, file, zone) : parseAnchorText(text, file, zone);
      } catch (err) {
        if (!(err instanceof AnchorError)) throw err;
        io.err(`tandem check: ${err.message}\n`);
        return 1;
      }
    }
    const providers: Provider[] = [];
    for (const text of ns) {
      try {
        providers.push({ label: text, server: await resolveServer(text) });
      } catch (err) {
        throw new UsageError(checkCommand, `--ns ${(err as Error).message}`);
      }
    }
    const report = await runCheck({
      zone, providers, anchors, parent, names, namesOnly: v['names-only'] === true, expiryDays,
      co: v['no-co'] !== true, timeoutMs, now: () => systemClock.now(),
    });
    io.out(v.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.ok ? 0 : 1;
  },
});
