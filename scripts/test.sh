#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine (root), then runs the whole suite.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real DNS tools the interop tests use as clients, peers and validators (Debian packages; BIND's named and
# PowerDNS are peers of `tandem check`; their packages' own services are never used: tests run their own);
# curl and jq for the README walkthrough; python3-prometheus-client parses /metrics in the tests; python3-certbot-dns-rfc2136
# is certbot's UPDATE client (test/interop/update-clients.test.ts drives its code, no ACME server); systemd-analyze,
# setpriv/unshare/nsenter and ip for the systemd unit and Dockerfile checks; gcc and libc6-dev build the UDP addon
# (native/udpio.c, scripts/build-native.mjs, with the headers Node ships).
pkgs=(bind9-dnsutils bind9-utils bind9 knot-dnsutils knot unbound ldnsutils python3-dnspython python3-cryptography python3-prometheus-client python3-certbot-dns-rfc2136 dnsperf
      pdns-server pdns-backend-sqlite3 sqlite3
      curl jq systemd util-linux iproute2 gcc libc6-dev)
tools=(dig delv dnssec-dsfromkey kdig knotd keymgr unbound ldns-verify-zone ldns-key2ds dnsperf named pdns_server pdnsutil sqlite3
       curl jq systemd-analyze setpriv unshare nsenter ip ss cc)
missing=0
for t in "${tools[@]}"; do command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing=1; done
/usr/bin/python3 -c 'import dns.dnssec, prometheus_client.parser, certbot_dns_rfc2136' >/dev/null 2>&1 || missing=1
dpkg -s pdns-backend-sqlite3 >/dev/null 2>&1 || missing=1
if [ "$missing" = 1 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

npm ci --no-audit --no-fund
npm test
