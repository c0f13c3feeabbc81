// The zone `tandem check` is tested on: tandem serves test/fixtures/check/ms.test.yaml, the other provider (Knot,
// BIND or PowerDNS) the same records from this text. The other provider's nameserver is ns1.other.ms.test.
export const CHECK_ZONE = 'ms.test.';
export const OTHER_NS = 'ns1.other.ms.test';

/** The other provider's copy, with its own SOA MNAME; `ttl` for every record (BIND's policy caps it). */
export function otherZone(ttl = 300): string {
  return `$ORIGIN ms.test.
$TTL ${ttl}
@          IN SOA ns1.other.ms.test. hostmaster.ms.test. 1 3600 600 86400 300
@          IN NS  ns1.other.ms.test.
@          IN NS  ns1.tandem.ms.test.
ns1.tandem IN A   127.0.0.1
ns1.other  IN A   127.0.0.1
www        IN A   192.0.2.1
mail       IN MX  10 www.ms.test.
a.b        IN TXT "deep"
alias      IN CNAME www.ms.test.
*.wild     IN A   192.0.2.80
sub        IN NS  ns1.sub.ms.test.
sub        IN DS  12345 13 2 85689FEAA6F14CAE5237B0318403E6BE6708C8C75A329240F8E0DCAD745ED6C9
ns1.sub    IN A   192.0.2.53
insecure   IN NS  ns1.example.net.
`;
}
