// Key sync with NS1 (method `ns1`; another tandem's /v1 routes speak it too): our DNSKEYs are one external key
// set of the zone there (PUT /v1/zones/{zone}/dnssec/external_keys/{set}, the whole set each time; DELETE when
// none is left), the peer's own keys are `keys.dnskey` of GET /v1/zones/{zone}/dnssec. NS1 takes no CDS/CDNSKEY
// (config/sync-settings.ts refuses `cds` for it). The token goes as `X-NSONE-Key`.
import { Name } from '../../dns/name.js';
import { formatRdata, parseRdata } from '../../dns/rdata.js';
import { RRType } from '../../dns/types.js';
import { jsonRequest, type HttpOptions } from './cloudflare.js';
import { SyncError, type PeerClient, type PeerKeys, type Publication } from './peer.js';

export class Ns1Peer implements PeerClient {
  constructor(private readonly o: HttpOptions, private readonly zone: Name, private readonly keySet: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    return jsonRequest(this.o, method, path, { 'x-nsone-key': await this.o.token() }, body);
  }

  private get path(): string {
    return `/zones/${encodeURIComponent(this.zone.toString().replace(/\.$/, ''))}/dnssec`;
  }

  async publish(add: Publication): Promise<void> {
    const set = `${this.path}/external_keys/${encodeURIComponent(this.keySet)}`;
    if (add.dnskey.length === 0) {
      await this.call('DELETE', set).catch((err: unknown) => { if (!/HTTP 404/.test((err as Error).message)) throw err; });
      return;
    }
    const data = add.dnskey.map((r) => {
      const f = formatRdata(RRType.DNSKEY, r).split(' ');
      return { flags: Number(f[0]), protocol: Number(f[1]), algorithm: Number(f[2]), public_key: f.slice(3).join('') };
    });
    await this.call('PUT', set, { dnskey: { ttl: add.ttl, data } });
  }

  async keys(): Promise<PeerKeys> {
    const d = await this.call('GET', this.path) as { keys?: { dnskey?: unknown[][] } };
    const list = d.keys?.dnskey ?? [];
    if (list.length === 0) throw new SyncError(`${this.o.baseUrl} lists no DNSSEC keys for ${this.zone}`);
    return {
      channel: 'api',
      dnskeys: list.map((k) => {
        try {
          return parseRdata(RRType.DNSKEY, k.map(String).join(' '), Name.ROOT);
        } catch (err) {
          throw new SyncError(`${this.o.baseUrl}: a key it lists does not parse (${(err as Error).message})`);
        }
      }),
    };
  }
}
