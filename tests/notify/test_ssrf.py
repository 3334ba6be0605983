"""check_url: the SSRF validator every HTTP channel runs before each attempt. Literal IPs and localhost only."""

from __future__ import annotations

import socket

import pytest

from app.notify import PermanentFailure, ResolvedAddress, TemporaryFailure, check_url

REFUSED = [
    ("http://127.0.0.1/", "not a public address"),
    ("http://[::1]/", "not a public address"),
    ("http://[::ffff:127.0.0.1]/", "not a public address"),
    ("http://169.254.169.254/latest/meta-data", "not a public address"),
    ("http://10.1.2.3/", "not a public address"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://localhost/", "not a public address"),
    ("http://[2002:7f00:1::]/", "not a public address"),   # 6to4 wrapping 127.0.0.1
    ("http://[64:ff9b::a01:203]/", "not a public address"),  # NAT64 wrapping 10.1.2.3
    ("http://[::127.0.0.1]/", "not a public address"),      # IPv4-compatible
    ("http://100.64.0.1/", "not a public address"),         # carrier-grade NAT
    ("http://224.0.0.1/", "multicast"),
    ("http://user:pw@example.com/", "credentials"),
    ("http://@example.com/", "credentials"),
    ("ftp://x/", "only https"),
    ("file:///etc/passwd", "only https"),
    ("https://localhost:6379/", "port 6379"),
    ("https://8.8.8.8:22/", "port 22"),
    ("https://8.8.8.8:25/", "port 25"),
    ("https://8.8.8.8:9200/", "port 9200"),
    ("https://8.8.8.8:99999/", "port"),
    ("https://8.8.8.8/a b", "spaces"),
    ("https://8.8.8.8\\@127.0.0.1/", "backslashes"),
    ("https:///path", "no host"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_refused_with_a_reason(url, reason):
    with pytest.raises(PermanentFailure, match=reason):
        check_url(url, allow_http=True)


def test_plain_http_needs_the_admin_mark():
    with pytest.raises(PermanentFailure, match="plain http"):
        check_url("http://8.8.8.8/")
    assert check_url("http://8.8.8.8/", allow_http=True)[0].port == 80


def test_an_allowed_network_admits_a_private_address():
    [address] = check_url("http://10.1.2.3/", allow_networks=("10.0.0.0/8",), allow_http=True)
    assert address == ResolvedAddress(host="10.1.2.3", ip="10.1.2.3", port=80, family=socket.AF_INET)


def test_a_mapped_address_is_judged_and_dialled_as_ipv4():
    [address] = check_url("http://[::ffff:127.0.0.1]:8080/", allow_networks=("127.0.0.0/8",), allow_http=True)
    assert (address.ip, address.family, address.port) == ("127.0.0.1", socket.AF_INET, 8080)


def test_an_allowed_network_does_not_lift_the_port_rule_or_multicast():
    with pytest.raises(PermanentFailure, match="port 6379"):
        check_url("http://10.1.2.3:6379/", allow_networks=("10.0.0.0/8",), allow_http=True)
    with pytest.raises(PermanentFailure, match="multicast"):
        check_url("http://224.0.0.1/", allow_networks=("224.0.0.0/8",), allow_http=True)


@pytest.mark.parametrize("network", ["0.0.0.0/0", "::/0", "10.0.0.0/7", "not-a-network"])
def test_malformed_or_too_broad_allow_lists_are_refused(network):
    with pytest.raises(PermanentFailure, match="allow-list"):
        check_url("https://8.8.8.8/", allow_networks=(network,))


def test_every_resolved_address_must_pass():
    def resolve(host, port):
        return ["93.184.216.34", "10.0.0.5"]

    with pytest.raises(PermanentFailure, match=r"hooks\.example resolves to 10\.0\.0\.5"):
        check_url("https://hooks.example/", resolve=resolve)


def test_a_public_name_is_accepted_with_its_ascii_host_and_every_address():
    def resolve(host, port):
        assert (host, port) == ("xn--fiqs8s.example", 8443)
        return ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"]

    addresses = check_url("https://中国.example:8443/hook?x=1", resolve=resolve)
    assert [(a.host, a.ip, a.family) for a in addresses] == [
        ("xn--fiqs8s.example", "93.184.216.34", socket.AF_INET),
        ("xn--fiqs8s.example", "2606:2800:220:1:248:1893:25c8:1946", socket.AF_INET6)]


def test_name_resolution_failures():
    def missing(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def dns_down(host, port):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(PermanentFailure, match="does not exist"):
        check_url("https://hooks.example/", resolve=missing)
    with pytest.raises(TemporaryFailure, match="cannot resolve"):
        check_url("https://hooks.example/", resolve=dns_down)


def test_numeric_tricks_resolve_to_loopback_and_are_refused():
    for url in ("http://2130706433/", "http://0x7f.1/", "http://127.1/"):
        with pytest.raises(PermanentFailure):
            check_url(url, allow_http=True)
