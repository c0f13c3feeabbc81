#!/usr/bin/python3
"""certbot's dns-rfc2136 plugin (Debian: python3-certbot-dns-rfc2136), its own code driven without an ACME
server: the authenticator's perform/cleanup call _RFC2136Client.add_txt_record(validation_name, validation,
ttl) and del_txt_record(validation_name, validation); each first finds the zone by TSIG-signed SOA queries
(RD off) from the full name upwards until an authoritative (AA) answer holds the SOA, then sends one
TSIG-signed UPDATE over TCP: an add (class IN) or a delete of that one TXT record (class NONE). A PluginError
(an rcode other than NOERROR, a bad answer) is reported.

Request on stdin (JSON): {"server": {host, port}, "key": {name, algorithm, secret},
  "ops": [{"op": "add" | "del", "name", "content", "ttl"?: seconds (the plugin's default: 120)}]}
Answer: {"results": ["ok" | "PluginError: ..."]}
"""
import json
import sys

import dns.name
from certbot import errors
from certbot_dns_rfc2136._internal.dns_rfc2136 import Authenticator, _RFC2136Client


def run(req):
    k = req["key"]
    # As the plugin's _get_rfc2136_client does from its credentials file: the algorithm by name, upper-cased.
    algorithm = Authenticator.ALGORITHMS[k["algorithm"].upper()]
    client = _RFC2136Client(req["server"]["host"], int(req["server"]["port"]), k["name"], k["secret"], algorithm, 10)
    results = []
    for op in req["ops"]:
        try:
            if op["op"] == "add":
                client.add_txt_record(op["name"], op["content"], op.get("ttl", 120))
            else:
                client.del_txt_record(op["name"], op["content"])
            results.append("ok")
        except errors.PluginError as e:
            results.append("PluginError: %s" % e)
    return {"results": results}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
