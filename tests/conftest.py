"""Shared fixtures: the demo school, its people, API clients, and the live server + browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("TRYGG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    # CI sets the scale-path variables and must fail, not skip, when they cannot be reached.
    if os.environ.get("DATABASE_URL"):
        import psycopg

        url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        try:
            psycopg.connect(url, connect_timeout=5).close()
        except Exception as exc:  # noqa: BLE001
            raise pytest.UsageError(f"DATABASE_URL is set but PostgreSQL is unreachable: {exc}") from exc
    if os.environ.get("REDIS_URL"):
        import redis

        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
        except Exception as exc:  # noqa: BLE001
            raise pytest.UsageError(f"REDIS_URL is set but Redis is unreachable: {exc}") from exc


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: Playwright's sync API keeps an event loop on the main thread,
    and Django refuses database calls from a thread with a running loop.

    The heavy external suites (marker ``once_in_ci``: the flows through a real OpenID provider,
    Janus with real media, the W3C checker, schemathesis, the fault suite) test what does not
    depend on the database, and each starts servers of its own. CI runs them once: ``.ci/run``
    sets ``TRYGG_HEAVY_SUITES=off`` for its second run, which leaves them out of the collection
    (they are deselected, not skipped). Wherever they run, a missing tool fails them. Tests marked
    ``postgresql`` are deselected the same way when ``DATABASE_URL`` is not set.
    """
    items.sort(key=lambda item: "/e2e/" in str(item.path).replace("\\", "/"))
    if not os.environ.get("DATABASE_URL"):
        # What only PostgreSQL does (marker ``postgresql``) is left out of the SQLite run, as the
        # heavy suites are below: deselected, not skipped. CI runs the suite on both databases.
        only_pg = [item for item in items if item.get_closest_marker("postgresql")]
        if only_pg:
            config.hook.pytest_deselected(items=only_pg)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql")]
    if os.environ.get("TRYGG_HEAVY_SUITES", "").lower() in ("off", "0", "no"):
        heavy = [item for item in items if item.get_closest_marker("once_in_ci")]
        if heavy:
            config.hook.pytest_deselected(items=heavy)
            items[:] = [item for item in items if not item.get_closest_marker("once_in_ci")]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Close connections after each use in the test process: a kept one in a socket test's thread
    would hold the test database open at teardown. Live servers keep theirs (their own settings)."""
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    """Seed the demo school once per session, committed, for every test to share."""
    from trygg.directory.demo import seed_demo

    with django_db_blocker.unblock():
        seed_demo()


@pytest.fixture
def demo(db: None) -> object:
    """The demo municipality (re-seeded if a transactional test flushed it)."""
    from trygg.directory.demo import seed_demo

    return seed_demo()


@pytest.fixture
def person(demo: object) -> Callable[[str], object]:
    """Return a demo account by username, fresh from the database (facts not cached)."""
    from trygg.directory.models import Person

    def get(username: str) -> Person:
        return Person.objects.get(username=username)

    return get


@pytest.fixture
def api_client(demo: object) -> Callable[[str | None], Client]:
    """Return a Django test client signed in with a bearer token as ``username`` (None: anonymous)."""
    from trygg.directory.models import ApiToken, Person

    def make(username: str | None = None) -> Client:
        if username is None:
            return Client()
        _token, raw = ApiToken.issue(Person.objects.get(username=username))
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def strong_api_client(demo: object) -> Callable[[str], Client]:
    """Return a test client with a stepped-up bearer token (as ``POST /api/v1/auth/token`` with a
    current ``otp`` gives): it opens case files, protected records and the access-request export."""
    from trygg.directory.models import ApiToken, Person

    def make(username: str) -> Client:
        _token, raw = ApiToken.issue(Person.objects.get(username=username), method="password+otp", strong=True)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def step_up(client: Client) -> Client:
    """Mark a signed-in test client's browser session as just stepped up (as the step-up page does
    after a right code) and return it."""
    from trygg.signin.stepup import SESSION_STRONG_AT

    session = client.session
    session[SESSION_STRONG_AT] = time.time()
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    """Compiled policies are per process; a test that changes configuration must not leak it."""
    from trygg.policy import engine

    engine.invalidate()
    yield
    engine.invalidate()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Give each test channel-layer objects of its own.

    Every async test runs on an event loop of its own, and channels_redis keeps one receive lock and
    count per layer object for all of a process's specific channels. A receive that a test's loop
    left pending when it closed (a socket's, or the hub's, cancelled too late to run its cleanup)
    would bind that lock to a dead loop, and the next test's sockets would fail with "bound to a
    different event loop". A server has one loop for its life, so this only concerns tests.
    """
    from channels.layers import channel_layers

    from trygg.events import hub

    channel_layers.backends = {}
    # What the hub remembers of pushes and long polls' tokens belongs to one database's ids.
    hub._pushed.clear()
    hub._links.clear()
    hub._link_order.clear()
    hub._poll_tokens.clear()
    yield


@pytest.fixture(autouse=True)
def _clear_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """Start each test with an empty cache (login throttles live there).

    Not for browser tests: on Redis, clearing would also drop the live server's channel groups.
    """
    if "/e2e/" not in str(request.node.path).replace("\\", "/"):
        from django.core.cache import cache

        from trygg import ratelimits

        cache.clear()
        ratelimits.reset()
    yield


# ---------------------------------------------------------------------------------------------
# Live server (real uvicorn, real ASGI, real sockets) and the browser.


class CountingApp:
    """An ASGI app behind one of the server's doors (``trygg.doors``), counting the requests that
    reach it: a door's tests tell by it whether the door answered or handed on to Django."""

    def __init__(self, app: Any) -> None:
        self.app, self.calls = app, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Return once ``url``/healthz answers 200; raise with the log's tail if the server exits or
    does not come up within ``timeout`` seconds.

    Between attempts it waits on the process itself (``wait`` returns at once if it exits), so a
    crashed start fails at once and no fixed sleep is needed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            pass
        try:
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"server exited ({process.returncode}): {log.read_text()[-3000:]}")
    raise RuntimeError(f"server did not start within {timeout:.0f} s: {log.read_text()[-3000:]}")


class LiveServer:
    """A ``trygg serve`` subprocess on its own database, seeded with the demo school."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="trygg-live-", suffix=".log", delete=False)  # noqa: SIM115
        self.start()

    def start(self) -> None:
        """Start the server (again, on the same port and database, after ``kill``)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trygg.cli", "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        self._wait()

    def kill(self) -> None:
        """kill -9: no shutdown, no close frames, whatever was in flight is cut off."""
        self.process.kill()
        self.process.wait(timeout=10)

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def _wait(self, timeout: float = 60) -> None:
        wait_until_serving(self.url, self.process, Path(self.log.name), timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        # The log is kept only while the server runs; a failed start has already shown it.
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


class LiveDatabase:
    """A database of its own for live servers: a temp SQLite dir, or a fresh PostgreSQL database."""

    def __init__(self, label: str, environ: Mapping[str, str] | None = None) -> None:
        """``environ`` names the PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``) to use, if
        any; by default the test run's own environment."""
        environ = os.environ if environ is None else environ
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"trygg-{label}-"))
        self.env = {k: v for k, v in environ.items() if not k.startswith("PYTEST_")}
        self.env["TRYGG_DATA_DIR"] = str(self.data_dir)
        self.env["DJANGO_SETTINGS_MODULE"] = "trygg.settings"
        self.env.pop("TRYGG_TEST_DB_NAME", None)
        self.pg_name: str | None = None
        if environ.get("DATABASE_URL"):
            import psycopg

            self.pg_name = f"trygg_{label}_{os.getpid()}_{int(time.time() * 1000) % 100000}"
            base = environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
            self._admin_url = base
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            self.env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + self.pg_name
        if environ.get("REDIS_URL"):
            # Separate channel and cache prefixes keep parallel runs on one Redis apart.
            self.env["TRYGG_CHANNEL_PREFIX"] = f"trygg-{label}-{os.getpid()}"
        subprocess.run([sys.executable, "-m", "trygg.cli", "seed"], env=self.env, cwd=REPO, check=True,
                       capture_output=True)

    def drop(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.pg_name:
            import psycopg

            with psycopg.connect(self._admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def live_database() -> Iterator[LiveDatabase]:
    database = LiveDatabase("e2e")
    yield database
    database.drop()


@pytest.fixture(scope="session")
def trygg_server(live_database: LiveDatabase) -> Iterator[LiveServer]:
    """One ``trygg serve`` for the whole session (pytest-django's ``live_server`` is a thread, not ASGI).

    Its delivery tests send hundreds of messages from one person as fast as they can: load, not
    abuse, so the abuse limits are lifted here as for benchmarks (they have tests of their own).
    """
    server = LiveServer({**live_database.env, "TRYGG_RATE_LIMITS": "off"})
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server_url(trygg_server: LiveServer) -> str:
    return trygg_server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: object, live_server_url: str) -> Iterator[Callable[..., object]]:
    """Return a factory of pages, each in its own browser context (its own cookies)."""
    contexts = []

    def make(locale: str = "nb-NO") -> object:
        context = browser.new_context(base_url=live_server_url, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., object]) -> object:
    return new_page()


def sign_in(page: object, username: str, password: str = "demo") -> None:
    """Sign in through the login page, as a person would."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


# The last time step whose code each demo account used on the live server: a code is good once, so
# a second step-up within 30 s uses the next step's code (within the device's tolerance of one).
_TOTP_STEPS_USED: dict[str, int] = {}


def step_up_in_browser(page: object, username: str) -> None:
    """Confirm with the demo account's authenticator code on the step-up page, as a person would."""
    from trygg.signin.demo import demo_totp_key, totp_code

    now_step = int(time.time() // 30)
    step = max(now_step, _TOTP_STEPS_USED.get(username, -1) + 1)
    if step > now_step + 1:
        raise RuntimeError(f"{username} stepped up twice within 30 s already; a third code does not exist yet")
    _TOTP_STEPS_USED[username] = step
    page.goto("/signin/step-up/?next=/")
    page.fill("#id_otp", totp_code(demo_totp_key(username), step_offset=step - now_step))
    page.click("[data-testid=otp-form] button")
    page.wait_for_url(lambda url: "/signin/step-up/" not in url)


@pytest.fixture
def signed_in_page(new_page: Callable[..., object]) -> Callable[[str], object]:
    """Return a factory: ``signed_in_page("kari.4a")`` is a page signed in as that person."""

    def make(username: str) -> object:
        p = new_page()
        sign_in(p, username)
        return p

    return make
