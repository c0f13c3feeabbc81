"""Shared by the client flows in this folder: TSIG keys, AXFR and sending one UPDATE, with dnspython, the way
Go's miekg/dns (which dnscontrol and external-dns use) does it. Each flow reads one JSON request on stdin and
prints one JSON answer: what it read and every message it sent, as text, with the rcode each got.

A key is {"name", "algorithm" (hmac-sha256, ...), "secret" (base64)}; the server is {"host", "port"}.
"""
import json
import sys

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig

TIMEOUT = 10


def tsig_key(k):
    """miekg/dns takes the key name canonical (dns.Fqdn / dns.CanonicalName) and the algorithm by name."""
    if k is None:
        return None
    return dns.tsig.Key(dns.name.from_text(k["name"]), k["secret"], dns.name.from_text(k["algorithm"]))


def axfr(server, zone, key):
    """dns.Transfer.In with SetAxfr and SetTsig(name, alg, 300, now): one AXFR over TCP, every message's TSIG
    verified (dnspython carries the TSIG context across the messages, RFC 8945 §5.3.1); returns the records in
    order (the SOA first and last) as (name, ttl, class, type, rdata) text tuples, or raises as miekg's
    envelope error would (for an rcode other than NOERROR, or a bad signature)."""
    k = tsig_key(key)
    out = []
    for m in dns.query.xfr(server["host"], zone, port=server["port"], keyring=k, keyname=k.name if k else None,
                           lifetime=TIMEOUT, timeout=TIMEOUT, relativize=False):
        for rrset in m.answer:
            for rd in rrset:
                out.append((rrset.name.to_text(), rrset.ttl, dns.rdataclass.to_text(rrset.rdclass),
                            dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
    return out


def send(server, msg, key, net):
    """client.Exchange(msg) with TsigSecret set and msg.SetTsig(name, alg, 300, now): over UDP or TCP; the
    answer's TSIG is verified (a bad one raises, as miekg's ErrSig). Returns the rcode's name."""
    k = tsig_key(key)
    if k is not None:
        msg.use_tsig(k, fudge=300)
    try:
        if net == "tcp":
            r = dns.query.tcp(msg, server["host"], port=server["port"], timeout=TIMEOUT)
        else:
            r = dns.query.udp(msg, server["host"], port=server["port"], timeout=TIMEOUT)
    except dns.message.UnknownTSIGKey:
        return "NOTAUTH(unsigned answer)"
    except dns.tsig.PeerError as e:  # an answer signed with a TSIG error: BADSIG, BADKEY, BADTIME
        return "NOTAUTH(%s)" % type(e).__name__
    return dns.rcode.to_text(r.rcode())


def rr(name, ttl, rtype, text):
    """dns.NewRR(fmt.Sprintf("%s %d %s %s", ...)): one class IN record from text."""
    return (dns.name.from_text(name), ttl, dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text))


def insert(m, r):
    """Msg.Insert: the RR in the update section, class IN, its TTL (RFC 2136 §2.5.1)."""
    name, ttl, rd = r
    m.add(name, ttl, rd)


def remove(m, r):
    """Msg.Remove: class NONE, TTL 0, the RDATA (RFC 2136 §2.5.4, delete an RR from an RRset)."""
    name, _ttl, rd = r
    m.delete(name, rd)


def remove_name(m, r):
    """Msg.RemoveName: class ANY, type ANY, TTL 0, no RDATA (RFC 2136 §2.5.3, delete all RRsets from a name)."""
    m.delete(r[0])


def message_text(m):
    """The update section as text lines (`name ttl class type rdata`), what the tests assert on."""
    lines = []
    for rrset in m.update:
        if len(rrset) == 0:
            lines.append("%s %d %s %s" % (rrset.name, rrset.ttl, dns.rdataclass.to_text(rrset.deleting or rrset.rdclass), dns.rdatatype.to_text(rrset.rdtype)))
        for rd in rrset:
            lines.append("%s %d %s %s %s" % (rrset.name, rrset.ttl, dns.rdataclass.to_text(rrset.deleting or rrset.rdclass), dns.rdatatype.to_text(rrset.rdtype), rd.to_text()))
    return lines


def main(run):
    req = json.load(sys.stdin)
    try:
        out = run(req)
    except Exception as e:  # reported, never hidden: the test asserts on it
        out = {"error": "%s: %s" % (type(e).__name__, e)}
    json.dump(out, sys.stdout)
