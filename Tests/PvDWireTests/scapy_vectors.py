#!/usr/bin/python3
"""Router Advertisements built by scapy, independently of pvd's encoder.

Prints one JSON object per line: {"name", "hex", "expect"}, where "expect" is
the subset of `pvd ra decode --json` output that the packet must decode to,
written from the values given to scapy here. Scapy 2.5 has no PvD option
(type 21), so that option's header is packed by hand (integration/scapy_ra.py,
from RFC 8801 §3.1) with its PvD ID from scapy's dns_encode; the options
nested in it are scapy's own builders.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from scapy_ra import pvd_option  # noqa: E402  (RFC 8801 option header, shared with the integration tests)
from scapy.layers.inet6 import (ICMPv6ND_RA, ICMPv6NDOptDNSSL, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
                                ICMPv6NDOptRDNSS, ICMPv6NDOptRouteInfo, ICMPv6NDOptSrcLLAddr)


def ra(**fields):
    return bytes(ICMPv6ND_RA(**fields))


def emit(name, message, expect):
    print(json.dumps({"name": name, "hex": message.hex(), "expect": expect}))


INF = 0xFFFFFFFF

# 1. A plain RA as radvd would send it: no PvD option, so an implicit PvD.
emit("plain-ra",
     ra(chlim=64, M=1, O=1, prf=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
     + bytes(ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"))
     + bytes(ICMPv6NDOptMTU(mtu=1480))
     + bytes(ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, L=1, A=1,
                                   validlifetime=86400, preferredlifetime=14400))
     + bytes(ICMPv6NDOptRDNSS(dns=["2001:db8::53", "2001:db8::54"], lifetime=600))
     + bytes(ICMPv6NDOptDNSSL(searchlist=["example.com", "corp.example.com"], lifetime=600))
     + bytes(ICMPv6NDOptRouteInfo(prefix="2001:db8:100::", plen=48, prf=1, rtlifetime=900)),
     {"cur_hop_limit": 64, "managed": True, "other": True, "preference": "high",
      "router_lifetime": 1800, "reachable_time": 30000, "retrans_timer": 1000,
      "source_lla": "02:00:00:00:00:01", "mtu": 1480,
      "prefixes": [{"prefix": "2001:db8:1::/64", "on_link": True, "autonomous": True,
                    "valid_lifetime": 86400, "preferred_lifetime": 14400}],
      "routes": [{"prefix": "2001:db8:100::/48", "preference": "high", "lifetime": 900}],
      "rdnss": [{"lifetime": 600, "servers": ["2001:db8::53", "2001:db8::54"]}],
      "dnssl": [{"lifetime": 600, "domains": ["example.com", "corp.example.com"]}],
      "unknown": [], "pvd": None})

# 2. The realistic PvD RA of the benchmark: R flag with its own header, two PIOs,
#    RDNSS, DNSSL and RIO nested in the PvD option.
nested_header = ra(chlim=64, O=1, prf=3, routerlifetime=600, reachabletime=0, retranstimer=0)[:16]
emit("pvd-with-ra-header",
     ra(chlim=64, routerlifetime=0)
     + bytes(ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:02"))
     + pvd_option("corp.example.com", 7, h=True, delay=2, ra_header=nested_header, nested=
                  bytes(ICMPv6NDOptPrefixInfo(prefix="2001:db8:a::", prefixlen=64, validlifetime=7200,
                                              preferredlifetime=3600))
                  + bytes(ICMPv6NDOptPrefixInfo(prefix="2001:db8:b::", prefixlen=64, A=0,
                                                validlifetime=INF, preferredlifetime=INF))
                  + bytes(ICMPv6NDOptRDNSS(dns=["2001:db8:a::53"], lifetime=300))
                  + bytes(ICMPv6NDOptDNSSL(searchlist=["corp.example.com"], lifetime=300))
                  + bytes(ICMPv6NDOptRouteInfo(prefix="2001:db8:c::", plen=56, prf=3, rtlifetime=600))),
     {"router_lifetime": 0, "source_lla": "02:00:00:00:00:02", "prefixes": [], "rdnss": [],
      "pvd": {"id": "corp.example.com", "sequence": 7, "h": True, "l": False, "r": True, "delay": 2,
              "ra_header": {"cur_hop_limit": 64, "other": True, "managed": False, "preference": "low",
                            "router_lifetime": 600},
              "options": {"prefixes": [
                  {"prefix": "2001:db8:a::/64", "on_link": True, "autonomous": True,
                   "valid_lifetime": 7200, "preferred_lifetime": 3600},
                  {"prefix": "2001:db8:b::/64", "on_link": True, "autonomous": False,
                   "valid_lifetime": INF, "preferred_lifetime": INF}],
                  "rdnss": [{"lifetime": 300, "servers": ["2001:db8:a::53"]}],
                  "dnssl": [{"lifetime": 300, "domains": ["corp.example.com"]}],
                  "routes": [{"prefix": "2001:db8:c::/56", "preference": "low", "lifetime": 600}],
                  "mtu": None}}})

# 3. L flag, largest delay and sequence, mixed-case PvD ID, options outside and inside.
emit("pvd-legacy-mixed-case",
     ra(chlim=255, routerlifetime=9000)
     + bytes(ICMPv6NDOptPrefixInfo(prefix="2001:db8:5::", prefixlen=64))
     + pvd_option("Lab.Example.NET", 65535, l=True, delay=15,
                  nested=bytes(ICMPv6NDOptMTU(mtu=9000))),
     {"cur_hop_limit": 255, "router_lifetime": 9000,
      "prefixes": [{"prefix": "2001:db8:5::/64"}],
      "pvd": {"id": "Lab.Example.NET", "sequence": 65535, "h": False, "l": True, "r": False, "delay": 15,
              "ra_header": None, "options": {"mtu": 9000, "prefixes": []}}})

# 4. Route information at the extremes of prefix length: the default route and a /128.
emit("rio-extremes",
     ra(routerlifetime=1800)
     + bytes(ICMPv6NDOptRouteInfo(prefix="::", plen=0, rtlifetime=INF))
     + bytes(ICMPv6NDOptRouteInfo(prefix="2001:db8::1", plen=128, prf=1, rtlifetime=60)),
     {"routes": [{"prefix": "::/0", "preference": "medium", "lifetime": INF},
                 {"prefix": "2001:db8::1/128", "preference": "high", "lifetime": 60}]})

# 5. An option type pvd does not know (PREF64, RFC 8781) is kept as raw bytes.
pref64 = bytes([38, 2]) + struct.pack("!H", (600 // 8) << 3 | 1) + bytes.fromhex("0064ff9b0000000000000000")
emit("unknown-option",
     ra(routerlifetime=1800) + pref64,
     {"unknown": [{"type": 38, "hex": pref64[2:].hex()}], "pvd": None})

# 6. A PvD option with no nested options at all: PvD ID only, one label.
emit("pvd-bare",
     ra(routerlifetime=1800) + pvd_option("lab", 1),
     {"pvd": {"id": "lab", "sequence": 1, "h": False, "l": False, "r": False, "delay": 0,
              "options": {"prefixes": [], "rdnss": [], "dnssl": [], "routes": [], "unknown": []}}})
