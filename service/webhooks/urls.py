"""Which receiver URLs DS Desk may call: the form of the URL and the addresses its host resolves to. Pure.

Against server-side request forgery (docs/webhooks.md, «Which URLs are refused»): only http and https,
no credentials in the URL, a plain host name or IP address; every address the host resolves to must be
public. Link-local (169.254.0.0/16, fe80::/10), cloud metadata, multicast, reserved and unspecified
addresses are always refused; loopback and private ones only unless `webhooks.allow_private_hosts`
names them; DS Desk's own address and port (`service.host:port`) never. Resolving is the caller's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from yarl import URL

from service.webhooks.errors import UnsafeUrlError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL = 2000
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2"))  # AWS, AWS v6, Alibaba, ECS
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NEVER_ALLOWED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL leads: its host (an IP address or a lower-case ASCII name) and port."""

    scheme: str
    host: str
    port: int

    @property
    def address(self) -> IPAddress | None:
        """The host as an IP address, when it is one (then nothing is resolved)."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """What may be called besides public addresses, and what DS Desk itself is.

    `allow_networks`/`allow_names`: loopback or private addresses allowed (entries of
    `allow_private_hosts`: an address or network, or a host name whose addresses are all allowed).
    `own_*`: DS Desk's service address; `own_any_local` when it listens on every interface.
    """

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_names: frozenset[str] = frozenset()
    own_port: int | None = None
    own_addresses: frozenset[IPAddress] = frozenset()
    own_names: frozenset[str] = frozenset()
    own_any_local: bool = False

    @classmethod
    def of(cls, allow: Iterable[str], own_host: str | None = None, own_port: int | None = None,
           own_addresses: Iterable[str] = ()) -> UrlPolicy:
        networks, names = split_allow_list(allow)
        host = (own_host or "").strip().lower().strip("[]")
        unspecified = host in ("", "0.0.0.0", "::")
        addresses = {ipaddress.ip_address(a.split("%")[0]) for a in own_addresses}
        try:
            addresses.add(ipaddress.ip_address(host))
        except ValueError:
            pass
        return cls(networks, frozenset(names), own_port, frozenset(addresses),
                   frozenset({host, "localhost"} - {""}) if not unspecified else frozenset({"localhost"}),
                   unspecified)


def split_allow_list(entries: Iterable[str]) -> tuple[tuple[IPNetwork, ...], set[str]]:
    """`allow_private_hosts` as networks and host names; ValueError names a wrong entry."""
    networks: list[IPNetwork] = []
    names: set[str] = set()
    for entry in entries:
        text = entry.strip().lower()
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as e:
            if not is_host_name(text):
                raise ValueError(f"{entry!r} is neither an IP address, a network (10.0.0.0/8) nor a host name") from e
            names.add(text)
            continue
        if any(network.version == never.version and network.overlaps(never) for never in NEVER_ALLOWED) or \
                any(address in network for address in METADATA):
            raise ValueError(f"{entry!r}: link-local and cloud metadata addresses can never be allowed")
        networks.append(network)
    return tuple(networks), names


def is_host_name(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    return (0 < len(text) <= 253 and all(_LABEL.fullmatch(label) for label in labels)
            and not _NUMERIC_LABEL.fullmatch(labels[-1]))


def parse_target(url: str) -> Target:
    """The URL's scheme, host and port, or UnsafeUrlError saying (in Russian) what is wrong with its form."""
    text = url.strip()
    if not text or len(text) > MAX_URL or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise UnsafeUrlError(f"Адрес должен быть одной строкой без пробелов, не длиннее {MAX_URL} символов.")
    try:
        parsed = URL(text)
        port = parsed.port
    except (ValueError, TypeError) as e:
        raise UnsafeUrlError("Адрес не разобрать: нужен вид https://host/путь.") from e
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrlError("Адрес должен начинаться с http:// или https://.")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise UnsafeUrlError("Логин и пароль в адресе не допускаются: приёмник проверяет подпись запроса.")
    raw_host = (parsed.raw_host or "").lower()
    if not raw_host or port is None:
        raise UnsafeUrlError("В адресе нет имени сервера.")
    host = raw_host.strip("[]")
    if ":" in host or _is_ipv4(host):
        if "%" in host:
            raise UnsafeUrlError("Адрес IPv6 с зоной (%…) не допускается.")
        return Target(parsed.scheme, str(ipaddress.ip_address(host)), port)
    if not is_host_name(host):
        raise UnsafeUrlError(f"«{host}» — не имя сервера и не IP-адрес.")
    return Target(parsed.scheme, host.rstrip("."), port)


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def address_problem(address: IPAddress) -> tuple[str, bool] | None:
    """Why an address is not public: (Russian reason, whether the allow-list may lift it); None: public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_problem(address.ipv4_mapped)
        if address in NAT64:
            return address_problem(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address in METADATA:
        return "адрес метаданных облака", False
    if address.is_link_local:
        return "локальный адрес канала (link-local)", False
    if address.is_unspecified:
        return "неопределённый адрес", False
    if address.is_multicast:
        return "групповой адрес (multicast)", False
    if address.is_loopback:
        return "адрес этого же компьютера (loopback)", True
    if address.is_reserved:
        return "зарезервированный адрес", False
    if address.is_private or not address.is_global:
        return "адрес внутренней сети", True
    return None


def check_addresses(target: Target, addresses: Iterable[str], policy: UrlPolicy) -> None:
    """UnsafeUrlError unless every address the target's host resolved to may be called."""
    resolved = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
    if not resolved:
        raise UnsafeUrlError(f"Имя «{target.host}» не разрешается ни в один адрес.")
    if target.port == policy.own_port and (target.host in policy.own_names or any(
            a in policy.own_addresses or (policy.own_any_local and _is_local(a)) for a in resolved)):
        raise UnsafeUrlError("Этот адрес ведёт в сам DS Desk: вебхук не может вызывать DS Desk.")
    for address in resolved:
        problem = address_problem(address)
        if problem is None:
            continue
        reason, may_allow = problem
        allowed = may_allow and (target.host in policy.allow_names
                                 or any(address in network for network in policy.allow_networks))
        if not allowed:
            shown = target.host if target.address is not None else f"{target.host} → {address}"
            tail = "" if not may_allow else " (разрешается списком webhooks.allow_private_hosts в config.yaml)"
            raise UnsafeUrlError(f"Адрес {shown}: {reason} — вызывать его нельзя{tail}.")


def _is_local(address: IPAddress) -> bool:
    return address.is_loopback or address.is_unspecified
