// Key sync with a provider that speaks Cloudflare's v4 API (method `cloudflare`; another tandem's admin API
// speaks it too): our DNSKEYs (and CDS/CDNSKEY) are dns_records of the zone there, added with POST and
// withdrawn with DELETE (Cloudflare requires dnssec_multi_signer for DNSKEY records); the peer's own keys are
// its KSK (GET /dnssec) and its ZSKs (GET /dnssec/zsk, those not tagged `external`, i.e. not imported). The
// calls and shapes are those of the provider reference (docs/api.md); the token goes as `Authorization: Bearer`.
import { Name } from '../../dns/name.js';
import { formatRdata, parseRdata, rdataEquals } from '../../dns/rdata.js';
import { RRType, typeName } from '../../dns/types.js';
import { SyncError, type PeerClient, type PeerKeys, type Publication } from './peer.js';

export interface HttpOptions {
  baseUrl: string;
  token: () => Promise<string>;
  /** Per request, ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface CfRecord { id: string; type: string; name: string; content?: string; data?: Record<string, unknown> }

/** One JSON request; the body's `success` (Cloudflare's envelope) or the HTTP status decides. */
export async function jsonRequest(o: HttpOptions, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<any> {
  const url = `${o.baseUrl}${path}`;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, {
      method, headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
  } catch (err) {
    throw new SyncError(`${method} ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let json: any;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new SyncError(`${method} ${url}: HTTP ${res.status} without JSON`);
  }
  if (!res.ok || json?.success === false) {
    const why = Array.isArray(json?.errors) ? json.errors.map((e: { code?: number; message?: string }) => `${e.message} (${e.code})`).join('; ') : json?.message ?? '';
    throw new SyncError(`${method} ${url}: HTTP ${res.status}${why ? `: ${why}` : ''}`);
  }
  return json;
}

/** RDATA of a dns_record from its `data` (Cloudflare's structured form) or its `content` (presentation). */
function recordRdata(type: number, r: CfRecord): Uint8Array | undefined {
  const d = r.data;
  try {
    if (d && (type === RRType.DNSKEY || type === RRType.CDNSKEY) && d.public_key !== undefined) return parseRdata(type, `${d.flags} ${d.protocol} ${d.algorithm} ${d.public_key}`, Name.ROOT);
    if (d && type === RRType.CDS && d.digest !== undefined) return parseRdata(type, `${d.key_tag} ${d.algorithm} ${d.digest_type} ${d.digest}`, Name.ROOT);
    return r.content !== undefined ? parseRdata(type, r.content, Name.ROOT) : undefined;
  } catch {
    return undefined;
  }
}

/** The `data` object Cloudflare takes for a DNSKEY/CDNSKEY or CDS record. */
function recordData(type: number, rdata: Uint8Array): Record<string, unknown> {
  const f = formatRdata(type, rdata).split(' ');
  if (type === RRType.CDS) return { key_tag: Number(f[0]), algorithm: Number(f[1]), digest_type: Number(f[2]), digest: f.slice(3).join('') };
  return { flags: Number(f[0]), protocol: Number(f[1]), algorithm: Number(f[2]), public_key: f.slice(3).join('') };
}

/**
 * Cloudflare takes TTLs from 30 s to 1 day, or 1 for "automatic" (code 9021 otherwise): a shorter TTL of ours is
 * sent as automatic. The peer serves one TTL per RRset anyway (RFC 2181 §5.2), its own DNSKEY TTL.
 */
export const cloudflareTtl = (ttl: number): number => (ttl < 30 ? 1 : Math.min(ttl, 86400));

export class CloudflarePeer implements PeerClient {
  private zoneId?: string;

  constructor(private readonly o: HttpOptions, private readonly zone: Name, zoneId?: string) {
    this.zoneId = zoneId;
  }

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    return jsonRequest(this.o, method, path, { authorization: `Bearer ${await this.o.token()}` }, body);
  }

  /** The zone's id there: configured, or looked up by name. */
  private async id(): Promise<string> {
    if (this.zoneId) return this.zoneId;
    const name = this.zone.toString().replace(/\.$/, '');
    const found = (await this.call('GET', `/zones?name=${encodeURIComponent(name)}`)).result as { id: string; name: string }[];
    const z = found?.find((x) => x.name.replace(/\.$/, '').toLowerCase() === name.toLowerCase());
    if (!z) throw new SyncError(`${this.o.baseUrl} has no zone ${name} (GET /zones?name=${name})`);
    return (this.zoneId = z.id);
  }

  private async records(id: string, type: number): Promise<CfRecord[]> {
    return (await this.call('GET', `/zones/${id}/dns_records?type=${typeName(type)}&per_page=5000`)).result as CfRecord[];
  }

  async publish(add: Publication, remove: Publication): Promise<void> {
    const id = await this.id();
    const name = this.zone.toString().replace(/\.$/, '');
    for (const [type, want, gone] of [
      [RRType.DNSKEY, add.dnskey, remove.dnskey], [RRType.CDS, add.cds, remove.cds], [RRType.CDNSKEY, add.cdnskey, remove.cdnskey],
    ] as const) {
      if (want.length === 0 && gone.length === 0) continue;
      const there = (await this.records(id, type)).filter((r) => r.name.replace(/\.$/, '').toLowerCase() === name.toLowerCase());
      const at = (rdata: Uint8Array) => there.filter((r) => { const x = recordRdata(type, r); return x !== undefined && rdataEquals(x, rdata); });
      for (const rdata of gone) for (const r of at(rdata)) await this.call('DELETE', `/zones/${id}/dns_records/${r.id}`);
      for (const rdata of want) {
        if (at(rdata).length > 0) continue;
        await this.call('POST', `/zones/${id}/dns_records`, { type: typeName(type), name, ttl: cloudflareTtl(add.ttl), data: recordData(type, rdata) });
      }
    }
  }

  async keys(): Promise<PeerKeys> {
    const id = await this.id();
    const d = (await this.call('GET', `/zones/${id}/dnssec`)).result as { public_key?: string | null; flags?: number | null; algorithm?: string | null };
    const zsks = (await this.call('GET', `/zones/${id}/dnssec/zsk`)).result as { Tag?: string; DNSKEY?: { Flags: number; Protocol: number; Algorithm: number; PublicKey: string } }[];
    const out: Uint8Array[] = [];
    const add = (text: string) => {
      try {
        out.push(parseRdata(RRType.DNSKEY, text, Name.ROOT));
      } catch (err) {
        throw new SyncError(`${this.o.baseUrl}: a key it lists does not parse (${(err as Error).message}): ${text}`);
      }
    };
    if (d?.public_key && d.flags != null && d.algorithm != null) add(`${d.flags} 3 ${d.algorithm} ${d.public_key}`);
    // `external` ZSKs are the ones imported there (ours among them): the peer's own are the others.
    for (const z of zsks ?? []) if (z.DNSKEY && z.Tag !== 'external') add(`${z.DNSKEY.Flags} ${z.DNSKEY.Protocol} ${z.DNSKEY.Algorithm} ${z.DNSKEY.PublicKey}`);
    if (out.length === 0) throw new SyncError(`${this.o.baseUrl} lists no DNSSEC keys for ${this.zone} (is DNSSEC on there?)`);
    return { dnskeys: out, channel: 'api' };
  }
}
