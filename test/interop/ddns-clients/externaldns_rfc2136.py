#!/usr/bin/python3
"""external-dns's rfc2136 provider with its TXT registry, reproduced with dnspython message for message
(external-dns is a Go program, packaged neither by Debian nor by npm; this follows provider/rfc2136/rfc2136.go
and registry/txt.go of v0.14-v0.15, which build their messages with miekg/dns):

- Records(): with --rfc2136-tsig-axfr, one AXFR signed with the key (SetTsig, fudge 300); the IN records of
  types A, AAAA, CNAME, TXT and NS are grouped by (name, type) into endpoints; the TXT registry reads the
  ownership records `heritage=external-dns,external-dns/owner=OWNER,external-dns/resource=...`.
- ApplyChanges(): the registry adds to every changed endpoint its ownership TXT records, the old format at
  PREFIX+name (not for AAAA) and the new one at PREFIX+<type>-name, with no TTL of their own; then, in
  chunks of --rfc2136-batch-change-size endpoints, one UPDATE per chunk for the creates (Msg.Insert, TTL
  max(min-ttl, the endpoint's TTL if set), else min-ttl, which defaults to 0), one per chunk for the updates
  (for each endpoint, Msg.Remove of every old target, class NONE TTL 0, then Msg.Insert of every new one) and
  one per chunk for the deletes (Msg.Remove). Each is TSIG-signed (fudge 300) and goes over UDP, over TCP
  when it is longer than 512 octets; an rcode other than NOERROR is an error, and the next chunk is still sent.

Request on stdin (JSON): {"op": "records" | "apply", "server": {host, port}, "zone", "key",
  "axfr_key"? (default: key), "owner"? ("default"), "prefix"? (""), "min_ttl"? (0), "batch"? (50),
  "changes"?: {"create": [EP], "update_old": [EP], "update_new": [EP], "delete": [EP]}}
  EP = {"name", "type", "targets": [text], "ttl"?: seconds (absent: not configured), "resource"?}
Answer: records -> {"endpoints": [{name, type, ttl, targets, owner?}]};
        apply -> {"messages": [{"lines": [...], "net": "udp"|"tcp", "rcode"}], "errors": [...]}
"""
import common
import dns.update

TYPES = ("A", "AAAA", "CNAME", "TXT", "NS")


def txt_value(ep, owner):
    """endpoint.Labels.Serialize(true): the labels sorted by key, quoted as one string."""
    labels = {"external-dns/owner": owner, "external-dns/resource": ep.get("resource", "")}
    body = ",".join(["heritage=external-dns"] + ["%s=%s" % (k, labels[k]) for k in sorted(labels)])
    return '"%s"' % body


def txt_names(ep, prefix):
    """affixNameMapper.toTXTName (old format) and toNewTXTName (new format, `<type>-` before the first label)."""
    first, _, rest = ep["name"].partition(".")
    old = prefix + first + ("." + rest if rest else "")
    new = prefix + ep["type"].lower() + "-" + first + ("." + rest if rest else "")
    return ([old] if ep["type"] != "AAAA" else []) + [new]


def registry_txt(ep, req):
    """TXTRegistry.generateTXTRecord: endpoints of type TXT, no TTL configured."""
    if ep["type"] == "TXT":
        return []
    value = txt_value(ep, req.get("owner", "default"))
    return [{"name": n, "type": "TXT", "targets": [value]} for n in txt_names(ep, req.get("prefix", ""))]


def add_record(m, ep, req):
    ttl = req.get("min_ttl", 0)
    if ep.get("ttl") is not None and ep["ttl"] > ttl:
        ttl = ep["ttl"]
    for t in ep["targets"]:
        common.insert(m, common.rr(ep["name"], ttl, ep["type"], t))


def remove_record(m, ep):
    for t in ep["targets"]:
        common.remove(m, common.rr(ep["name"], ep.get("ttl") or 0, ep["type"], t))


def chunks(xs, n):
    return [xs[i:i + n] for i in range(0, len(xs), n)]


def records(req):
    rrs = common.axfr(req["server"], req["zone"], req.get("axfr_key", req["key"]))
    eps = []
    for (name, ttl, cls, rtype, data) in rrs:
        if cls != "IN" or rtype not in TYPES:
            continue
        name = name.rstrip(".")
        for ep in eps:
            if ep["name"] == name and ep["type"] == rtype:
                ep["targets"].append(data)
                break
        else:
            eps.append({"name": name, "type": rtype, "ttl": ttl, "targets": [data]})
    # the registry: ownership from the TXT records in either format
    owners = {}
    for ep in eps:
        if ep["type"] == "TXT":
            for t in ep["targets"]:
                if "heritage=external-dns" in t:
                    owners[ep["name"]] = t.strip('"').split("external-dns/owner=")[1].split(",")[0]
    for ep in eps:
        if ep["type"] != "TXT":
            for n in txt_names(ep, req.get("prefix", "")):
                if n in owners:
                    ep["owner"] = owners[n]
    return {"endpoints": eps}


def apply(req):
    ch = req["changes"]
    create = ch.get("create", []) + [t for ep in ch.get("create", []) for t in registry_txt(ep, req)]
    old = ch.get("update_old", []) + [t for ep in ch.get("update_old", []) for t in registry_txt(ep, req)]
    new = ch.get("update_new", []) + [t for ep in ch.get("update_new", []) for t in registry_txt(ep, req)]
    delete = ch.get("delete", []) + [t for ep in ch.get("delete", []) for t in registry_txt(ep, req)]
    batch = req.get("batch", 50)
    out = {"messages": [], "errors": []}

    def send(m):
        if len(m.update) == 0:  # only send if there are records available
            return
        k = common.tsig_key(req["key"])
        probe = dns.update.UpdateMessage(req["zone"])
        probe.update = m.update
        if k is not None:
            probe.use_tsig(k, fudge=300)
        net = "tcp" if len(probe.to_wire()) > 512 else "udp"
        lines = common.message_text(m)
        rcode = common.send(req["server"], m, req["key"], net)
        out["messages"].append({"lines": lines, "net": net, "rcode": rcode})
        if rcode != "NOERROR":
            out["errors"].append("bad return code: %s" % rcode)

    for chunk in chunks(create, batch):
        m = dns.update.UpdateMessage(req["zone"])
        for ep in chunk:
            add_record(m, ep, req)
        send(m)
    for i0 in range(0, len(new), batch):
        m = dns.update.UpdateMessage(req["zone"])
        for i, ep in enumerate(new[i0:i0 + batch]):
            remove_record(m, old[i0 + i])
            add_record(m, ep, req)
        send(m)
    for chunk in chunks(delete, batch):
        m = dns.update.UpdateMessage(req["zone"])
        for ep in chunk:
            remove_record(m, ep)
        send(m)
    return out


if __name__ == "__main__":
    common.main(lambda req: records(req) if req["op"] == "records" else apply(req))
