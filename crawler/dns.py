"""Scrapy's name resolution through the run's ``common.resolver.Resolver``.

Enable with::

    TWISTED_DNS_RESOLVER = "crawler.dns.PatrolResolver"     # Scrapy >= 2.14 name
    DNS_RESOLVER = "crawler.dns.PatrolResolver"             # older name, still honoured
    PATROL_RESOLVER = {"nameservers": ["127.0.0.1:5353"], "overrides": {"www.example.gov.cn": ["::1"]},
                       "timeout": 5}

It implements Twisted's ``IHostnameResolver`` (the interface ``HostnameEndpoint`` uses), so
AAAA answers reach the downloader and a site that only has IPv6 can be crawled, unlike
Scrapy's default IPv4-only ``CachingThreadedResolver``.  Lookups that need the network run in
the reactor's thread pool; literal addresses, overrides, ``localhost``, ``.invalid`` and
cached answers are delivered at once.  A name with no address ends the resolution with no
addresses, which the endpoint reports as ``twisted.internet.error.DNSLookupError`` — the
crawl's ``dns`` failure.

The resolver is built from the *process* settings (Scrapy builds it once per reactor, before
any spider), so ``PATROL_RESOLVER`` belongs in the settings given to ``CrawlerProcess``.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from twisted.internet.threads import deferToThreadPool
from zope.interface import implementer

from common.resolver import ResolveError, Resolver

logger = logging.getLogger(__name__)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = False

    def cancel(self) -> None:
        # A lookup in a worker thread cannot be stopped; its late answer is simply dropped.
        self.cancelled = True


def resolver_from_settings(value: Any) -> Resolver:
    """A ``Resolver`` from the ``PATROL_RESOLVER`` setting (a dict, or None for the system's)."""
    value = dict(value or {})
    return Resolver(nameservers=value.get("nameservers") or (),
                    overrides=value.get("overrides") or {},
                    timeout=float(value.get("timeout") or 5.0))


@implementer(IHostnameResolver)
class PatrolResolver:
    """Twisted hostname resolver backed by ``common.resolver.Resolver`` (A and AAAA)."""

    def __init__(self, reactor: Any, resolver: Resolver) -> None:
        self.reactor = reactor
        self.resolver = resolver

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PatrolResolver:
        # ``crawler`` is the CrawlerProcess here (Scrapy passes it while setting up the reactor);
        # only its settings are used.
        raw = crawler.settings.get("PATROL_RESOLVER")
        if isinstance(raw, str):
            import json
            raw = json.loads(raw)   # from the command line: -s PATROL_RESOLVER='{"overrides": ...}'
        return cls(reactor, resolver_from_settings(raw))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(self, resolutionReceiver: IResolutionReceiver, hostName: str, portNumber: int = 0,
                        addressTypes: Sequence[type[IAddress]] | None = None,
                        transportSemantics: str = "TCP") -> IHostResolution:
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        families = _families(addressTypes)
        if not families:
            resolutionReceiver.resolutionComplete()
            return resolution
        known = [self.resolver.peek(hostName, f) for f in families]
        if all(k is not None for k in known):
            self._deliver(_merge(known), resolutionReceiver, resolution, portNumber, transportSemantics)
            return resolution
        d = deferToThreadPool(self.reactor, self.reactor.getThreadPool(), self._lookup, hostName, families)
        d.addCallback(self._deliver, resolutionReceiver, resolution, portNumber, transportSemantics)
        d.addErrback(self._failed, resolutionReceiver, resolution, hostName)
        return resolution

    def _lookup(self, host: str, families: list[int]) -> list[str] | ResolveError:
        try:
            if len(families) == 2:
                return self.resolver.resolve(host)
            return self.resolver.resolve(host, families[0])
        except ResolveError as exc:
            return exc

    def _deliver(self, addresses: list[str] | ResolveError, receiver: IResolutionReceiver,
                 resolution: _Resolution, port: int, semantics: str) -> None:
        if resolution.cancelled:
            return
        if isinstance(addresses, ResolveError):
            logger.debug("DNS lookup of %s failed: %s", resolution.name, addresses.message)
            addresses = []
        kind = "UDP" if semantics == "UDP" else "TCP"
        for address in addresses:
            if ":" in address:
                receiver.addressResolved(IPv6Address(kind, address, port))
            else:
                receiver.addressResolved(IPv4Address(kind, address, port))
        receiver.resolutionComplete()

    def _failed(self, failure: Any, receiver: IResolutionReceiver, resolution: _Resolution,
                host: str) -> None:
        logger.warning("DNS lookup of %s crashed: %s", host, failure.getErrorMessage())
        if not resolution.cancelled:
            receiver.resolutionComplete()


def _families(address_types: Sequence[type[IAddress]] | None) -> list[int]:
    if address_types is None:
        return [socket.AF_INET, socket.AF_INET6]
    families = []
    if IPv4Address in address_types:
        families.append(socket.AF_INET)
    if IPv6Address in address_types:
        families.append(socket.AF_INET6)
    return families


def _merge(known: list[list[str] | ResolveError | None]) -> list[str] | ResolveError:
    addresses: list[str] = []
    error: ResolveError | None = None
    for item in known:
        if isinstance(item, ResolveError):
            error = error or item
        elif item:
            addresses.extend(item)
    if addresses or error is None:
        return addresses
    return error
