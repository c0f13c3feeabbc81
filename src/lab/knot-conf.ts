// Knot DNS 3.2 as a signing provider of a multi-signer zone (RFC 8901 model 2): its own ECDSA P-256 KSK + ZSK,
// automatic signing, CDS/CDNSKEY always published, on a loopback port, everything in one folder. Shared by
// `tandem lab --with knot` and the interop tests (test/helpers/knot.ts); the facts behind each setting are in the
// shared lab notes (keymgr import-pub, `dnskey-management: incremental` for foreign DNSKEY/CDS/CDNSKEY, ...).

/** The server, log and database sections of a knotd on 127.0.0.1@port living in `dir` (run/ and db/ inside). */
export function knotBaseConf(dir: string, port: number): string {
  return `server:
    rundir: "${dir}/run"
    listen: [ 127.0.0.1@${port} ]
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

log:
  - target: stderr
    any: info

database:
    storage: "${dir}/db"
`;
}

/**
 * The whole config: keys in `dir`/keys, AXFR allowed from loopback, NSEC or NSEC3 (0 iterations, no salt, RFC 9276
 * §3.1). `incremental` keeps DNSKEY, CDS and CDNSKEY records of the zone file beside Knot's own ("way 2").
 */
export function knotConf(p: { dir: string; port: number; zone: string; zoneFile: string; nsec3: boolean; incremental: boolean; updateKey?: { name: string; algorithm: string; secret: string } }): string {
  // Block style; `knotc conf-check` accepts it. `updateKey`: a TSIG key allowed to UPDATE the zone (key sync).
  const k = p.updateKey;
  return `${knotBaseConf(p.dir, p.port)}
${k ? `key:
  - id: ${k.name}
    algorithm: ${k.algorithm}
    secret: ${k.secret}
` : ''}
keystore:
  - id: k
    backend: pem
    config: "${p.dir}/keys"

acl:
  - id: local_xfr
    address: [ 127.0.0.1 ]
    action: transfer
${k ? `  - id: sync_update
    key: ${k.name}
    action: update
` : ''}
policy:
  - id: p
    keystore: k
    algorithm: ecdsap256sha256
    single-type-signing: off
    ksk-lifetime: 0
    zsk-lifetime: 0
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
    cds-cdnskey-publish: always
    nsec3: ${p.nsec3 ? 'on' : 'off'}
${p.nsec3 ? '    nsec3-iterations: 0\n    nsec3-salt-length: 0\n    nsec3-opt-out: off\n' : ''}    dnskey-management: ${p.incremental ? 'incremental' : 'full'}
${p.incremental ? '    delete-delay: 1d\n' : ''}
template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: ${p.zone}
    file: "${p.zoneFile}"
    dnssec-signing: on
    dnssec-policy: p
    acl: [ local_xfr${k ? ', sync_update' : ''} ]
`;
}
