// Key sync with the other signers (issue 12; update/sync/): `tandem sync status|run|remove`, thin clients of the
// admin API's tandem/sync routes, and `tandem push-keys`, one push of our keys by UPDATE, by hand: the keys are
// read from the running server's API and sent from here (the server records nothing of it).
import { adminCommand, CliError, resolveZone, table, type Client } from './admin.js';
import type { Command } from './spec.js';
import { keyLabel, parseDigKey, TsigConfigError } from '../config/tsig.js';
import { parseHostPort } from '../config/transfer-settings.js';
import { Name } from '../dns/name.js';
import { parseRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import { dsRdata, keyTag } from '../dnssec/keys.js';
import { systemClock } from '../dnssec/types.js';
import { DdnsPeer } from '../update/sync/ddns.js';
import { SyncError, type Publication } from '../update/sync/peer.js';
import type { SyncPeerView, SyncStatusView } from '../update/sync/types.js';

const keysText = (list: { type: string; keyTag: number; flags?: number }[]) => list.map((k) => `${k.type}${k.flags !== undefined ? ` ${k.flags}` : ''} ${k.keyTag}`).join(', ') || '-';

function printPeer(p: SyncPeerView, out: (t: string) => void): void {
  out(`${p.name}: ${p.target} - ${p.state}\n`);
  if (p.configured) out(`  publishes: ZSK${p.ksk ? ', KSK' : ''}${p.cds ? ', CDS/CDNSKEY' : ''}; imports their keys: ${p.pull ? 'yes' : 'no'}; every ${p.interval} s\n`);
  if (p.lastPush) out(`  last push ${p.lastPush.at}: ${p.lastPush.ok ? 'ok' : `failed: ${p.lastPush.error}`}; published there: ${keysText(p.published)}\n`);
  if (p.lastPull) out(`  last pull ${p.lastPull.at}: ${p.lastPull.ok ? `ok (${p.lastPull.validated ?? 'validated'})` : `failed: ${p.lastPull.error}`}\n`);
  if (p.theirKeys.length) out(`  their DNSKEY RRset: ${p.theirKeys.map((k) => `${k.flags} ${k.keyTag}${k.ours ? ' (ours)' : ''}`).join(', ')}; imported here: ${p.imported.join(', ') || '-'}\n`);
  for (const d of p.differences) out(`  differs: ${d}\n`);
  if (p.removal) out(`  removal: ${p.removal.step} since ${p.removal.startedAt}; waiting for ${p.removal.waitingFor}\n`);
}

function printStatus(s: SyncStatusView, out: (t: string) => void): void {
  if (s.peers.length === 0) out(`${s.zone}: no key sync peers (zone.sync in the zone file)\n`);
  else out(`${s.zone}: key sync with ${s.peers.length} peer${s.peers.length === 1 ? '' : 's'}\n`);
  for (const p of s.peers) printPeer(p, out);
  if (s.parentNotify.length) {
    out('NOTIFY to the parent (RFC 9859):\n');
    out(table([['AT', 'TYPE', 'RESULT', 'TARGET', 'REASON'], ...s.parentNotify.slice(-10).map((e) => [e.at, e.type, e.result, e.target ?? '-', e.reason ?? ''])]).replace(/^/gm, '  '));
  }
}

export const syncCommand = adminCommand({
  name: 'sync', summary: "key sync with the zone's other signers: status, sync now, or remove a provider",
  args: [{ name: 'ACTION', choices: ['status', 'run', 'remove'] }, { name: 'ZONE' }, { name: 'PEER', optional: true }],
  options: {
    'ds-absent': { type: 'boolean', help: "remove: the parent's DS for the peer's KSKs is gone (when the server cannot ask the parent)" },
    json: { type: 'boolean', help: 'print the API\'s answer as JSON' },
  },
  notes: [
    'status ZONE         every peer (zone.sync): what we published there, its keys, what differs, NOTIFYs to the parent',
    'run ZONE            sync with every peer now (push our keys, pull theirs), then the status',
    'remove ZONE PEER    withdraw the peer\'s keys in RFC 8901 order: its KSKs (and so the CDS/CDNSKEY for them) first,',
    '                    then, once the parent has dropped their DS and the TTLs have passed, its ZSKs; says what it waits for',
  ],
  async run(c, p, io) {
    const zone = await resolveZone(c, p.args.ZONE);
    const action = p.args.ACTION;
    if (action !== 'remove' && p.args.PEER !== undefined) throw new CliError(`unexpected argument '${p.args.PEER}'`, 2);
    if (action === 'remove') {
      if (!p.args.PEER) throw new CliError('usage: tandem sync remove ZONE PEER', 2);
      const body = p.values['ds-absent'] ? { ds_absent: true } : {};
      const v = (await c.call('POST', `/zones/${zone.id}/tandem/sync/${encodeURIComponent(p.args.PEER)}/remove`, body)).result as SyncPeerView;
      if (p.values.json) return io.out(JSON.stringify(v, null, 2) + '\n');
      io.out(`${zone.name}: removing ${v.name}: ${v.removal?.step ?? v.state}\n`);
      io.out(`waiting for: ${v.removal?.waitingFor ?? 'nothing'}\n`);
      return;
    }
    const s = (await c.call(action === 'run' ? 'POST' : 'GET', `/zones/${zone.id}/tandem/sync`, action === 'run' ? {} : undefined)).result as SyncStatusView;
    if (p.values.json) return io.out(JSON.stringify(s, null, 2) + '\n');
    printStatus(s, io.out);
  },
});

/** Our keys as the running server reports them (GET /dnssec: the KSK; GET /dnssec/zsk: the ZSK tagged active). */
async function ourKeys(c: Client, zoneId: string): Promise<{ ksk: Uint8Array; zsk: Uint8Array; ttl: number }> {
  const d = (await c.call('GET', `/zones/${zoneId}/dnssec`)).result;
  if (!d.public_key) throw new CliError(`DNSSEC is ${d.status} for this zone: no keys to push`);
  const zsks = (await c.call('GET', `/zones/${zoneId}/dnssec/zsk`)).result as { Tag: string; DNSKEY: { Flags: number; Protocol: number; Algorithm: number; PublicKey: string; Hdr: { Ttl: number } } }[];
  const own = zsks.find((z) => z.Tag !== 'external');
  if (!own) throw new CliError('the API lists no ZSK of ours');
  const k = own.DNSKEY;
  return {
    ksk: parseRdata(RRType.DNSKEY, `${d.flags} 3 ${d.algorithm} ${d.public_key}`, Name.ROOT),
    zsk: parseRdata(RRType.DNSKEY, `${k.Flags} ${k.Protocol} ${k.Algorithm} ${k.PublicKey}`, Name.ROOT),
    ttl: k.Hdr.Ttl,
  };
}

export const pushKeysCommand = adminCommand({
  name: 'push-keys', summary: 'push our DNSKEYs and CDS/CDNSKEY to another signer by one TSIG-signed UPDATE, by hand',
  args: [{ name: 'ZONE' }],
  options: {
    to: { type: 'string', value: 'HOST:PORT', help: 'the other signer (port 53 when not given)' },
    tsig: { type: 'string', value: '[ALG:]NAME:SECRET', help: 'the TSIG key it takes UPDATE with (as dig -y; hmac-sha256 by default)' },
    ksk: { type: 'boolean', help: 'push our KSK too (the ZSK always goes)' },
    'no-cds': { type: 'boolean', help: 'leave out the CDS/CDNSKEY of our KSK' },
    ttl: { type: 'string', value: 'SECONDS', help: 'TTL of the records (default: our DNSKEY TTL)' },
  },
  notes: ['Key sync (zone.sync in the zone file) does the same on its own, and reads the peer\'s keys back; see tandem sync.'],
  async run(c, p, io) {
    if (!p.values.to) throw new CliError('--to HOST:PORT is required', 2);
    if (!p.values.tsig) throw new CliError('--tsig NAME:SECRET is required: UPDATE is only sent signed', 2);
    const at = parseHostPort(p.values.to, 53);
    if (!at) throw new CliError(`--to ${p.values.to}: not ADDRESS, ADDRESS:PORT or [IPv6]:PORT`, 2);
    let key;
    try {
      key = parseDigKey(p.values.tsig, '--tsig');
    } catch (err) {
      if (err instanceof TsigConfigError) throw new CliError(err.message, 2);
      throw err;
    }
    const zone = await resolveZone(c, p.args.ZONE);
    const origin = Name.fromText(zone.name.endsWith('.') ? zone.name : `${zone.name}.`);
    const own = await ourKeys(c, zone.id);
    const ttl = p.values.ttl !== undefined ? Number(p.values.ttl) : own.ttl;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647) throw new CliError(`--ttl ${p.values.ttl}: not a TTL`, 2);
    const cds = !p.values['no-cds'];
    const add: Publication = { dnskey: p.values.ksk ? [own.zsk, own.ksk] : [own.zsk], cds: cds ? [dsRdata(origin, own.ksk, 2)] : [], cdnskey: cds ? [own.ksk] : [], ttl };
    try {
      await new DdnsPeer({ ...at, key }, origin, systemClock).publish(add, { dnskey: [], cds: [], cdnskey: [], ttl });
    } catch (err) {
      if (err instanceof SyncError) throw new CliError(err.message);
      throw err;
    }
    const what = [...add.dnskey.map((k) => `DNSKEY ${(k[0] << 8) | k[1]} ${keyTag(k)}`), ...(cds ? [`CDS ${keyTag(own.ksk)}`, `CDNSKEY ${keyTag(own.ksk)}`] : [])];
    io.out(`${origin}: pushed ${what.join(', ')} to ${p.values.to} (key ${keyLabel(key.name)}): NOERROR\n`);
  },
});

export const SYNC_COMMANDS: readonly Command<any>[] = [syncCommand, pushKeysCommand];
