#!/usr/bin/python3
"""dnscontrol's AXFRDDNS provider, reproduced with dnspython message for message (dnscontrol is a Go program,
packaged neither by Debian nor by npm; this follows providers/axfrddns/axfrddnsProvider.go of v4, which builds
its messages with miekg/dns):

- GetZoneRecords(): one AXFR over TCP signed with the `transfer-key` (SetTsig, fudge 300); RRSIG, DNSKEY,
  CDNSKEY, CDS, NSEC, NSEC3, NSEC3PARAM and TYPE65534 are set aside (they only tell it the zone is signed),
  the closing SOA is dropped, and GetZoneRecordsCorrections drops the opening one: dnscontrol never manages
  the SOA (the server keeps the serial).
- GetZoneRecordsCorrections(): diff2.ByRecord between those records and the desired ones (here: a list of
  `name ttl type rdata` lines); then ONE UPDATE for the whole change set, over TCP (update-mode default),
  signed with the `update-key`: a DELETE is Msg.Remove (class NONE, TTL 0; a CNAME: Msg.RemoveName, class ANY
  type ANY), a CREATE is Msg.Insert (a CNAME after Msg.RemoveName of its name), a CHANGE is Remove of the old
  then Insert of the new; when an apex NS record is deleted or changed, the message starts with an Insert of
  `ZONE. NS dnscontrol.invalid.` and ends with its Remove, so the apex never loses its last NS on the way.

Request on stdin (JSON): {"op": "get" | "push", "server": {host, port}, "zone", "transfer_key", "update_key",
  "desired"?: ["name ttl type rdata", ...] (absolute names)}
Answer: get -> {"records": ["name ttl type rdata", ...], "dnssec": bool};
        push -> {"changes": [...], "message": {"lines": [...], "net": "tcp", "rcode"} | null}
"""
import common
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.update

DNSSEC = ("RRSIG", "DNSKEY", "CDNSKEY", "CDS", "NSEC", "NSEC3", "NSEC3PARAM", "TYPE65534")


def norm(name, ttl, rtype, data):
    rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), data)
    return (dns.name.from_text(name).to_text().lower(), int(ttl), rtype, rd.to_text())


def get(req):
    rrs = common.axfr(req["server"], req["zone"], req.get("transfer_key"))
    found, dnssec = [], False
    for (name, ttl, _cls, rtype, data) in rrs:
        if rtype in DNSSEC:
            dnssec = True
            continue
        found.append(norm(name, ttl, rtype, data))
    if found and found[-1][2] == "SOA":  # RFC 5936 §2.2: the SOA comes first and last; the last one goes
        found = found[:-1]
    return found, dnssec


def by_record(existing, desired):
    """diff2.ByRecord: per (name, type), records in both with the same TTL are left alone; the rest pair up
    as CHANGE (same rdata, other TTL first, then in order), the leftovers are DELETE or CREATE."""
    keys = []
    for r in existing + desired:
        if (r[0], r[2]) not in keys:
            keys.append((r[0], r[2]))
    changes = []
    for k in keys:
        old = [r for r in existing if (r[0], r[2]) == k]
        new = [r for r in desired if (r[0], r[2]) == k]
        for r in list(old):
            if r in new:
                old.remove(r)
                new.remove(r)
        for r in list(old):  # same rdata, another TTL
            same = [n for n in new if n[3] == r[3]]
            if same:
                changes.append(("CHANGE", r, same[0]))
                old.remove(r)
                new.remove(same[0])
        while old and new:
            changes.append(("CHANGE", old.pop(0), new.pop(0)))
        changes += [("DELETE", r, None) for r in old] + [("CREATE", None, r) for r in new]
    return changes


def push(req):
    found, _dnssec = get(req)
    if found and found[0][2] == "SOA":  # "Ignoring the SOA, others providers don't manage it either."
        found = found[1:]
    desired = [norm(*line.split(None, 3)) for line in req["desired"]]
    changes = by_record(found, desired)
    out = {"changes": ["%s %s" % (c[0], " ".join(str(x) for x in (c[2] or c[1]))) for c in changes], "message": None}
    if not changes:
        return out
    apex = dns.name.from_text(req["zone"]).to_text().lower()
    as_rr = lambda r: common.rr(r[0], r[1], r[2], r[3])
    m = dns.update.UpdateMessage(req["zone"])
    dummy = common.rr(req["zone"], 3600, "NS", "dnscontrol.invalid.")  # dns.NewRR without a TTL: miekg's default, 3600
    ns_deleted = any(c[0] in ("CHANGE", "DELETE") and c[1][2] == "NS" and c[1][0] == apex for c in changes)
    if ns_deleted:
        common.insert(m, dummy)
    for kind, old, new in changes:
        if kind == "DELETE":
            (common.remove_name if old[2] == "CNAME" else common.remove)(m, as_rr(old))
        elif kind == "CREATE":
            if new[2] == "CNAME":
                common.remove_name(m, as_rr(new))
            common.insert(m, as_rr(new))
        else:
            (common.remove_name if "CNAME" in (old[2], new[2]) else common.remove)(m, as_rr(old))
            common.insert(m, as_rr(new))
    if ns_deleted:
        common.remove(m, dummy)
    lines = common.message_text(m)
    out["message"] = {"lines": lines, "net": "tcp", "rcode": common.send(req["server"], m, req.get("update_key"), "tcp")}
    return out


def run(req):
    if req["op"] == "get":
        found, dnssec = get(req)
        return {"records": [" ".join(str(x) for x in r) for r in found], "dnssec": dnssec}
    return push(req)


if __name__ == "__main__":
    common.main(run)
