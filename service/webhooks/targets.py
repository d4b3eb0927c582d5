"""Where a webhook may point: public addresses only, checked when it is set and again at every connect.

A webhook is a request the service makes on an admin's word, so without a check an admin (or a
stolen admin token) could make the service call itself, the database, the cache or the cloud's
metadata endpoint. Names are resolved and every address they give is checked; spellings such as
``0x7f000001`` or ``127.1`` resolve to what they mean. The check runs twice: when the webhook is
set (a clear 422 naming the address) and inside the HTTP client's connect, on the very address
connected to, so that a name that later resolves inward is refused too (DNS rebinding).

Hosts an operator trusts (a receiver on the same network) are listed in CB_WEBHOOK_ALLOWED_HOSTS:
``host`` allows any port of it, ``host:port`` that port only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services that sit on otherwise ordinary-looking addresses.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"): "a cloud metadata address",  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("100.100.100.200"): "a cloud metadata address",  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"): "a cloud metadata address",  # AWS over IPv6
}


@dataclass(frozen=True)
class TargetPolicy:
    """Which hosts may be called although their addresses are not public (CB_WEBHOOK_ALLOWED_HOSTS)."""

    allowed: frozenset[str] = frozenset()

    @classmethod
    def from_setting(cls, value: str) -> TargetPolicy:
        return cls(frozenset(_host_key(entry) for entry in value.split(",") if entry.strip()))

    def allows(self, host: str, port: int) -> bool:
        host = _host_key(host)
        return host in self.allowed or f"{host}:{port}" in self.allowed


def refusal(address: IPAddress) -> str | None:
    """Why the service must not call this address, or None when it is a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return METADATA_ADDRESSES[address]
    for kind, flag in (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return f"{kind} address"
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "a non-public address"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` stands for (an address literal in any spelling stands for itself)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def first_refusal(host: str, addresses: Iterable[IPAddress]) -> str | None:
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            shown = host if host == str(address) else f"{host} resolves to {address},"
            return f"{shown} {reason}; webhooks may only call public addresses (see CB_WEBHOOK_ALLOWED_HOSTS)"
    return None


async def check_url(url: str, policy: TargetPolicy) -> str | None:
    """Why a webhook may not point at ``url`` (None when it may). A name that does not resolve yet
    passes: it is checked again at every connect."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if policy.allows(host, port):
        return None
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError):
        return None
    return first_refusal(host, addresses)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, but it resolves the name itself, refuses inward addresses, and
    connects to the address it checked (TLS still verifies the certificate against the name)."""

    def __init__(self, policy: TargetPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self.inner = inner or AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  # httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self.policy.allows(host, port):
            return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc.strerror or exc}") from exc
        reason = first_refusal(host, addresses)
        if reason is not None:
            raise httpcore.ConnectError(f"refused: {reason}")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the next address, as a resolver-driven connect would
                last = exc
        raise last or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  # httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are not sent over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(policy: TargetPolicy) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through GuardedBackend."""
    transport = httpx.AsyncHTTPTransport()
    # httpx builds its connection pool without a way to pass a network backend; the pool hands this
    # attribute to each connection it opens.
    transport._pool._network_backend = GuardedBackend(policy)
    return transport


def _host_key(host: str) -> str:
    return host.strip().lower().removeprefix("[").replace("]", "")
