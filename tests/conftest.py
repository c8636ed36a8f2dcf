"""Shared fixtures: the sample government site (patrol.demo.samplesite), served on 127.0.0.1 and ::1.

``sample_site`` builds the "test" profile once per session with today's date and serves it,
together with the second ("external") site.  Its ``manifest`` has real URLs: compare a crawl's
broken links with ``sample_site.manifest.broken_pairs()``.

Timings are short so crawler tests stay fast: the slow page answers after
``SLOW_DELAY_S`` seconds, so give the crawler a request timeout below it (e.g. 1–2 s); the
429 page asks for ``Retry-After: 1``.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from patrol.demo.samplesite import Manifest, SampleServer, build, serve
from patrol.demo.samplesite import free_port as _free_port

SLOW_DELAY_S = 6.0


@dataclass
class SampleSite:
    root: Path                  # the build: www/, ext/, routes.json, manifest.json
    server: SampleServer
    manifest: Manifest          # placeholders resolved for the IPv4 URLs
    raw_manifest: Manifest      # with {base} / {ext} / {port} placeholders
    today: date

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT/"""
        return self.server.url

    @property
    def base6(self) -> str | None:
        """http://[::1]:PORT/ (same port when it was free on both stacks)"""
        return self.server.url6

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ext(self) -> str:
        """Root URL of the second (external) site."""
        assert self.server.ext is not None
        return self.server.ext.url

    @property
    def ext_port(self) -> int:
        assert self.server.ext is not None
        return self.server.ext.port

    def url(self, path: str) -> str:
        """Absolute IPv4 URL of a path on the main site ("/xwzx/zwyw/" or "xwzx/zwyw/")."""
        return self.base + path.lstrip("/")

    def manifest_for(self, base: str) -> Manifest:
        """The manifest with ``base`` as the site root (e.g. ``base6`` for an IPv6 crawl)."""
        return self.raw_manifest.resolve(base, self.ext, self.port)


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleSite]:
    root = tmp_path_factory.mktemp("samplesite") / "site"
    today = date.today()
    raw = build(root, profile="test", today=today, slow_delay=SLOW_DELAY_S)
    server = serve(root)
    try:
        assert server.ext is not None
        yield SampleSite(root=root, server=server, manifest=raw.resolve(server.url, server.ext.url, server.port),
                         raw_manifest=raw, today=today)
    finally:
        server.stop()


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    return _free_port()


def throwaway_server(module_name: str, what: str) -> Iterator[str]:
    """The URL of the server that tests/<module_name>.py's ``start()`` runs, for the fixture's
    time; the test is skipped, with the reason, where none can start (its ``Unavailable``)."""
    module = importlib.import_module(module_name)
    try:
        server = module.start()
    except module.Unavailable as exc:
        pytest.skip(f"no {what} server: {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a database on a throw-away PostgreSQL server (tests/pgserver.py),
    started once per session (one database for the session's tests)."""
    yield from throwaway_server("pgserver", "PostgreSQL")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The URL of a throw-away Redis server (tests/redisserver.py), one per test module."""
    yield from throwaway_server("redisserver", "Redis")


@pytest.fixture
def fresh_pg_database(postgres_url: str) -> str:
    """A database of its own on the session's PostgreSQL server (a URL)."""
    import pgserver
    return pgserver.new_database(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database for the store on each backend: a SQLite file, then a PostgreSQL database
    (skipped, with the reason, where no PostgreSQL server can start)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patrol.db'}"
    return request.getfixturevalue("fresh_pg_database")


def layer_data_dir(root) -> Path:
    """patroldata/text/ with the statistical layer asserting as it did before precision came first
    (assert_statistical: true, suspect_score 2.5): the tests of the layer itself use it."""
    import shutil
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "patroldata" / "text"
    target = Path(root) / "text-layer"
    if not target.exists():
        shutil.copytree(source, target)
        path = target / "statistical.yaml"
        text = path.read_text(encoding="utf-8")
        text = text.replace("assert_statistical: false", "assert_statistical: true")
        import re

        text = re.sub(r"^suspect_score: [0-9.]+", "suspect_score: 2.5", text, flags=re.MULTILINE)
        path.write_text(text, encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def layer_dir(tmp_path_factory):
    return layer_data_dir(tmp_path_factory.mktemp("layer"))


# --- tests by speed ----------------------------------------------------------------------------
# Every test is one of: ``unit`` (pure code, no server, browser or child process), ``integration``
# (local servers on 127.0.0.1/::1, Chromium, SMTP, child processes) or ``e2e`` (patrol commands
# over the sample site).  A module states its kind with ``pytestmark``; a test of an unmarked
# module that uses a server fixture is ``integration``; the rest are ``unit``.
# ``./run.sh test`` runs all; ``./run.sh test -m unit`` the fast ones.
SPEEDS = ("unit", "integration", "e2e")
SERVER_FIXTURES = frozenset({"sample_site", "free_port"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SPEEDS):
            continue
        kind = "integration" if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) else "unit"
        item.add_marker(getattr(pytest.mark, kind))
