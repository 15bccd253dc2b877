"""The ``trygg`` command: demo, serve, seed, manage, and each app's own subcommands."""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from trygg import setup_django_once
from trygg.database import prepare_database

APPS_WITH_CLI = ("directory", "policy", "messaging", "notifications", "meetings", "classlist", "cases", "signin")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trygg.settings")
    setup_django_once()


def seed_demo_school() -> bool:
    """Create the demo school if absent, with its class channels; return whether it existed."""
    from trygg.directory.demo import demo_exists, seed_demo
    from trygg.messaging.actions import sync_all_class_channels

    prepare_database()
    existed = demo_exists()
    seed_demo()
    # Every class has its school-owned channels from the start (idempotent on a reused database).
    sync_all_class_channels()
    return existed


def cmd_seed(args: argparse.Namespace) -> int:
    existed = seed_demo_school()
    print("Demo data already present; reused." if existed else "Demo data created.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from django.conf import settings

    from trygg.directory.demo import FIXED_ACCOUNTS
    from trygg.signin.demo import start_demo_provider

    existed = seed_demo_school()
    print(f"Data directory: {settings.DATA_DIR}" + (" (reused)" if existed else " (new)"))
    print(f"Trygg demo on http://{args.host}:{args.port}/   password for every account: demo")
    width = max(len(a.username) for a in FIXED_ACCOUNTS)
    for account in FIXED_ACCOUNTS:
        print(f"  {account.username.ljust(width)}  {account.who}")
    public_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104 - a comparison
    idp, note = start_demo_provider(f"http://{public_host}:{args.port}")
    print(note)
    janus, janus_note = start_demo_janus()
    print(janus_note)
    print("Staff accounts confirm confidential pages with a code: .venv/bin/trygg demo-otp USERNAME")
    try:
        return serve(args.host, args.port, workers=1)
    finally:
        if idp is not None:
            idp.stop()
        if janus is not None:
            janus.stop()


def start_demo_janus() -> tuple[object | None, str]:
    """Start Janus on free ports for the demo's lessons and parent meetings (issue 16), unless
    TRYGG_JANUS_URL names servers already. Return the process (to stop at exit) and a line to print."""
    from django.conf import settings

    from trygg.meetings.janus_process import JanusNotAvailable, start_janus

    if settings.TRYGG_JANUS_URL:
        return None, f"Video server (Janus): {', '.join(settings.TRYGG_JANUS_URL)}"
    try:
        server = start_janus()
    except JanusNotAvailable as exc:
        return None, (f"Video server (Janus) is off: {exc}. Lessons and parent meetings fall back to "
                      "the peer-to-peer mesh, with a warning to the organiser.")
    # The demo's own server, known only to this process: the settings say where it is.
    settings.TRYGG_JANUS_URL = [server.url]
    settings.TRYGG_JANUS_PUBLIC_URL = [server.url]
    settings.TRYGG_JANUS_ADMIN_KEY = server.admin_key
    return server, f"Video server (Janus) for lessons and parent meetings on {server.url} (local only)"


def cmd_serve(args: argparse.Namespace) -> int:
    prepare_database()
    return serve(args.host, args.port, workers=args.workers)


def serve(host: str, port: int, workers: int = 1) -> int:
    import uvicorn
    from django.conf import settings

    from trygg.links import set_listen_url
    from trygg.logsafe import uvicorn_log_config
    from trygg.notifications.worker import start_background_worker

    # Links made outside a request (e-mail notices) name the address this server really listens on.
    set_listen_url(host, port)
    # Once, in this process, whatever the number of workers: each job's claim in the database
    # (notifications.worker) keeps it to one run per period even beside `trygg worker` processes.
    start_background_worker()
    options: dict[str, Any] = dict(
        log_level=settings.TRYGG_LOG_LEVEL.lower(),
        # No meeting key or sign-in code in uvicorn's lines either, and no line per request unless
        # asked for (trygg.logsafe).
        log_config=uvicorn_log_config(),
        access_log=settings.TRYGG_ACCESS_LOG,
        proxy_headers=True,
        lifespan="off",
        ws_ping_interval=settings.TRYGG_WS_PING_SECONDS,
        ws_ping_timeout=settings.TRYGG_WS_PING_SECONDS,
        # A bigger frame is refused by uvicorn (1009) before it is buffered whole; the sockets
        # check the same limit themselves under any other server (trygg.events.sockets).
        ws_max_size=settings.TRYGG_SOCKET_MAX_FRAME_BYTES,
        # Frames are small JSON events, 30+ per class message: compressing each cost more CPU in
        # the event loop than it saved on the wire (measured with bench/bench_messaging.py).
        ws_per_message_deflate=False,
        # uvicorn's sans-I/O protocol on the websockets library, not the one on that library's
        # legacy asyncio API: it writes a frame straight to the transport (waiting only while the
        # transport is paused, so a slow reader still holds its sender back) instead of going
        # through the legacy protocol's locks, drain and tasks. 30 sockets of a class channel at
        # 100 msg/s (bench/bench_messaging.py, SQLite, four interleaved rounds): 8.2-8.5 ms of
        # server CPU per message before, 6.9-7.6 after; at 150 offered, 84-96 achieved before,
        # 113-122 after.
        ws="websockets-sansio",
    )
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run("trygg.asgi:application", host=host, port=port, workers=workers, **options)
        return 0
    # Several workers: each gets a listening socket of its own on the same port (SO_REUSEPORT),
    # and the kernel spreads new connections over them (issue 15). uvicorn's own supervisor hands
    # every worker one shared socket; all of them wake for each new connection and the first one
    # accepts everything queued, so a handful of keep-alive connections opened together (five
    # senders, a proxy's pool) often all landed on one worker while the other idled.
    config = uvicorn.Config("trygg.asgi:application", host=host, port=port, workers=workers, **options)
    _spread_supervisor_class()(config).run()
    return 0


def _spread_supervisor_class() -> Any:
    # Built on first use: uvicorn is imported for `serve` only, not for every `trygg` command.
    from uvicorn.supervisors import Multiprocess

    class SpreadSupervisor(Multiprocess):
        """uvicorn's worker supervisor (restarts, signals, health checks), with one SO_REUSEPORT
        socket per worker instead of one socket shared by all.

        uvicorn reads ``self.sockets`` each time it starts a worker (first start, restart of a
        dead or hung one, SIGHUP, SIGTTIN), so the property binds a new socket for that worker.
        The supervisor closes its own copy once the worker has started: a socket left open here
        after its worker died would stay in the port's group and take connections nobody accepts.
        """

        def __init__(self, config: Any) -> None:
            self._handed: list[socket.socket] = []
            super().__init__(config, sockets=[])

        @property  # type: ignore[override]
        def sockets(self) -> list[socket.socket]:
            sock = socket.socket(socket.AF_INET6 if ":" in self.config.host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((self.config.host, self.config.port))
            sock.set_inheritable(True)
            self._handed.append(sock)
            return [sock]

        @sockets.setter
        def sockets(self, value: list[socket.socket]) -> None:
            pass  # uvicorn's __init__ stores the shared socket here; there is none

        def _close_handed(self) -> None:
            while self._handed:
                self._handed.pop().close()

        def init_processes(self) -> None:
            super().init_processes()
            self._close_handed()

        def keep_subprocess_alive(self) -> None:
            super().keep_subprocess_alive()
            self._close_handed()

        def restart_all(self) -> None:
            super().restart_all()
            self._close_handed()

        def handle_ttin(self) -> None:
            super().handle_ttin()
            self._close_handed()

    return SpreadSupervisor


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["trygg manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trygg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="create the demo school if absent and serve it")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    serve_p = sub.add_parser("serve", help="migrate and serve (no demo data)")
    serve_p.add_argument("--host", default="127.0.0.1")
    serve_p.add_argument("--port", type=int, default=8000)
    serve_p.add_argument("--workers", type=int, default=1)
    serve_p.set_defaults(func=cmd_serve)

    seed = sub.add_parser("seed", help="migrate and create the demo data if absent, without serving")
    seed.set_defaults(func=cmd_seed)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    for app in APPS_WITH_CLI:
        try:
            module = importlib.import_module(f"trygg.{app}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"trygg.{app}.cli":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    setup_django()
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
