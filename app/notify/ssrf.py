"""Is this URL a destination we may POST to? The SSRF validator of docs/security.md §8.

Every HTTP channel calls `check_url` on each attempt and connects only to the addresses it returns.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.notify.failures import PermanentFailure, TemporaryFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Iterable[str]]

# Well-known non-HTTP services above 1023 (databases, caches, brokers, container and cluster APIs).
# Ports 1-1023 other than 80 and 443 are refused as a whole. No allow-list entry lifts either rule.
DENIED_PORTS = frozenset({
    1080, 1433, 1521, 2049, 2375, 2376, 2379, 2380, 3306, 3389, 5432, 5672, 5984, 6379, 6443,
    8500, 9042, 9092, 9200, 9300, 10250, 10255, 11211, 15672, 27017, 50070,
})
MIN_PREFIX = {4: 8, 6: 16}  # an allow-list entry broader than this would switch the validator off
MAX_URL = 2048
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class ResolvedAddress:
    """One validated address of a destination: connect to `ip`, send `host` as Host and TLS name."""

    host: str
    ip: str
    port: int
    family: int


def check_url(url: str, allow_networks: Iterable[str] = (), allow_http: bool = False, *,
              resolve: Resolver | None = None) -> list[ResolvedAddress]:
    """Validate a destination URL and resolve it; raise PermanentFailure with the reason if refused."""
    parts = _split(url, allow_http)
    host = _ascii_host(parts.hostname or "")
    port = _port(parts)
    allowed = parse_networks(allow_networks)
    ips = _resolve(host, port, resolve or _getaddrinfo)
    addresses = []
    for ip in ips:
        refusal = address_refusal(ip, allowed)
        if refusal:
            raise PermanentFailure(f"{host} resolves to {ip}: {refusal}")
        family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        addresses.append(ResolvedAddress(host=host, ip=str(ip), port=port, family=family))
    return addresses


def parse_networks(networks: Iterable[str]) -> tuple[Network, ...]:
    """The admin's allow-list as networks; a malformed or overly broad entry is refused."""
    parsed = []
    for text in networks:
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise PermanentFailure(f"allow-list entry {text!r} is not a network (e.g. 10.0.0.0/8)") from None
        if network.prefixlen < MIN_PREFIX[network.version]:
            raise PermanentFailure(f"allow-list entry {text!r} is broader than /{MIN_PREFIX[network.version]}")
        parsed.append(network)
    return tuple(parsed)


def address_refusal(ip: IPAddress, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why this (already unmapped) address is refused, or None when we may connect to it."""
    if ip.is_unspecified or ip.is_multicast:
        return "unspecified and multicast addresses are never allowed"
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    embedded = _embedded_ipv4(ip)
    if not ip.is_global or (embedded is not None and not embedded.is_global):
        return "not a public address and not in the destination's allowed networks"
    return None


def _split(url: str, allow_http: bool) -> SplitResult:
    if not url or len(url) > MAX_URL or UNSAFE_CHARS.search(url):
        raise PermanentFailure("URL is empty, too long or contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise PermanentFailure("URL cannot be parsed") from None
    if parts.scheme not in ("https", "http"):
        raise PermanentFailure("only https URLs are allowed (http if the admin marked the endpoint)")
    if parts.scheme == "http" and not allow_http:
        raise PermanentFailure("plain http is refused unless the admin marked this endpoint as http")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise PermanentFailure("credentials in the URL are refused; register a secret instead")
    if not parts.hostname:
        raise PermanentFailure("URL has no host")
    return parts


def _ascii_host(hostname: str) -> str:
    try:
        return hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise PermanentFailure("host name is not a valid domain name") from None


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        raise PermanentFailure("URL port is not a number between 0 and 65535") from None
    if port is None:
        return 443 if parts.scheme == "https" else 80
    if port in (80, 443):
        return port
    if port < 1024 or port in DENIED_PORTS:
        raise PermanentFailure(f"port {port} is refused: only 80, 443 and non-service ports from 1024 are allowed")
    return port


def _resolve(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    try:
        texts = list(dict.fromkeys(resolve(host, port)))
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            raise PermanentFailure(f"host {host} does not exist") from None
        raise TemporaryFailure(f"cannot resolve {host}: {exc.strerror}") from None
    if not texts:
        raise PermanentFailure(f"host {host} has no address")
    return [_unmapped(ipaddress.ip_address(text)) for text in texts]


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


def _unmapped(ip: IPAddress) -> IPAddress:
    # ::ffff:127.0.0.1 is neither loopback nor global to ipaddress; judge (and dial) the IPv4 inside.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address that 6to4, NAT64 or IPv4-compatible IPv6 would reach, which must be public too."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or ip in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
