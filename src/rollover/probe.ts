// The DNS side of a rollover: every provider's DNSKEY RRset, asked of each provider directly (RD clear, like a
// resolver asks an authoritative server), and the zone's DS RRset, asked of the parent resolver (as
// state/parentds.ts does). Providers are the HOST:PORT list given at `rollover start`, or else the zone's apex NS
// hosts (each address of each name, port 53), resolved through the parent resolver: in RFC 8901 model 2 the apex
// NS RRset names every provider's servers, and a resolver may ask any of them.
import { Resolver } from 'node:dns/promises';
import { formatEndpoint, type Endpoint } from '../config/server.js';
import type { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { ask } from '../lab/ask.js';
import { systemResolver } from '../state/parentds.js';
import type { ParentPoll, ProviderPoll } from './machine.js';
import type { RolloverProbes } from './service.js';
import { providerEndpoint } from './state.js';

/** One provider's DNSKEY RRset and its TTL. */
export async function pollDnskey(server: Endpoint, zone: Name, timeoutMs = 3000): Promise<ProviderPoll> {
  const provider = formatEndpoint(server);
  const a = await ask(server, zone, RRType.DNSKEY, { dnssec: false, timeoutMs });
  if (!a.ok) return { provider, ok: false, reason: a.reason };
  if (a.message.rcode !== 0) return { provider, ok: false, reason: `rcode ${a.message.rcode}` };
  if (!a.message.aa) return { provider, ok: false, reason: 'not authoritative for the zone (AA clear)' };
  const rrs = a.message.answer.filter((r) => r.type === RRType.DNSKEY && r.name.equals(zone));
  return { provider, ok: true, dnskeys: rrs.map((r) => r.rdata), ttl: Math.max(0, ...rrs.map((r) => r.ttl)) };
}

/**
 * The DS RRset of `zone` through a resolver (RD and DO set). Its TTL is the RRSIG's Original TTL when there is
 * one (a cache counts the TTL down, RFC 4034 §3.1.4), else the largest TTL of the DS records.
 */
export async function pollParentDs(resolver: Endpoint, zone: Name, timeoutMs = 3000): Promise<ParentPoll> {
  const a = await ask(resolver, zone, RRType.DS, { rd: true, dnssec: true, timeoutMs });
  if (!a.ok) return { ok: false, reason: a.reason };
  if (a.message.rcode !== 0 && a.message.rcode !== 3) return { ok: false, reason: `the resolver answered rcode ${a.message.rcode}` };
  const ds = a.message.answer.filter((r) => r.type === RRType.DS && r.name.equals(zone));
  const sig = a.message.answer.find((r) => r.type === RRType.RRSIG && r.name.equals(zone) && ((r.rdata[0] << 8) | r.rdata[1]) === RRType.DS);
  const original = sig ? new DataView(sig.rdata.buffer, sig.rdata.byteOffset).getUint32(4) : 0;
  return { ok: true, ds: ds.map((r) => r.rdata), ttl: Math.max(original, ...ds.map((r) => r.ttl)) };
}

/** The addresses of the apex NS hosts, port 53, through `resolver` (or the system's). */
async function nsEndpoints(names: Name[], resolver: Endpoint | undefined): Promise<{ endpoints: Endpoint[]; errors: ProviderPoll[] }> {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (resolver) r.setServers([formatEndpoint(resolver)]);
  const endpoints: Endpoint[] = [];
  const errors: ProviderPoll[] = [];
  for (const n of names) {
    const host = n.toString().replace(/\.$/, '');
    const found: string[] = [];
    for (const family of ['resolve4', 'resolve6'] as const) {
      try {
        found.push(...(await r[family](host)));
      } catch {
        // no address of this family
      }
    }
    if (found.length === 0) errors.push({ provider: host, ok: false, reason: 'no address (A/AAAA) found for this NS host' });
    for (const h of found) endpoints.push({ host: h, port: 53 });
  }
  return { endpoints, errors };
}

/** The probes the server gives the rollover service. */
export function dnsProbes(opts: { parentResolver?: Endpoint; timeoutMs?: number } = {}): RolloverProbes {
  const resolver = () => opts.parentResolver ?? systemResolver();
  return {
    async providers(zone, providers, apexNs) {
      let servers: Endpoint[];
      let errors: ProviderPoll[] = [];
      if (providers.length) servers = providers.map(providerEndpoint);
      else ({ endpoints: servers, errors } = await nsEndpoints(apexNs, resolver()));
      const polls = await Promise.all(servers.map((s) => pollDnskey(s, zone, opts.timeoutMs)));
      return [...polls, ...errors];
    },
    async parentDs(zone) {
      const r = resolver();
      if (!r) return { ok: false, reason: 'no parent resolver (--parent-resolver, or a nameserver in /etc/resolv.conf)' };
      return pollParentDs(r, zone, opts.timeoutMs);
    },
  };
}
