"""The ``trygg`` command: seeding the demo school is idempotent and gives every class its channels;
``serve --workers`` spreads connections over its workers."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, LiveDatabase, LiveServer

COUNT = (
    "from trygg.directory.models import Person, SchoolClass\n"
    "from trygg.messaging.models import Conversation\n"
    "print(Person.objects.count(), SchoolClass.objects.count(),"
    " Conversation.objects.filter(kind__in=['class', 'guardians'], school_owned=True).count())"
)


def counts(env: dict[str, str]) -> list[int]:
    # The shell announces its automatic imports first; the counts are the last line.
    return [int(n) for n in run(env, "manage", "shell", "-c", COUNT).strip().splitlines()[-1].split()]


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trygg.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_command_run_in_a_process_already_set_up_leaves_its_logging_alone(capsys) -> None:
    """``trygg.cli.main`` in a process where Django is set up (the suite runs commands in-process)
    does not configure logging again: doing so bound the root logger to that moment's stderr, a
    capture that was closed after the test, and later lines failed ("Logging error" in CI)."""
    from trygg.cli import setup_django

    before = list(logging.getLogger().handlers)
    setup_django()
    assert logging.getLogger().handlers == before


def test_seed_twice_reuses_the_school_and_each_class_has_its_two_school_owned_channels() -> None:
    """R-CHAT-04: the demo's classes start with their school-owned channels; a second seed adds nothing."""
    database = LiveDatabase("cli")
    try:
        people, classes, channels = counts(database.env)
        assert classes == 2 and channels == 2 * classes
        assert "reused" in run(database.env, "seed")
        assert counts(database.env) == [people, classes, channels]
    finally:
        database.drop()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _sockets_on(port: int, state: str) -> set[int]:
    """Inodes of the TCP sockets on local ``port`` in ``state`` (01 established, 0A listening)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(int(fields[9]))
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def _workers(server: LiveServer) -> list[int]:
    # uvicorn's workers are spawned processes; the supervisor's other child is multiprocessing's
    # resource tracker.
    return [pid for pid in _children(server.process.pid)
            if "multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")]


def _spread(server: LiveServer, count: int) -> list[int]:
    """Open ``count`` keep-alive connections at once, make each answer, return how many each
    worker holds."""
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    try:
        request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        for client in clients:
            client.sendall(request)
        for client in clients:
            client.settimeout(30)
            assert client.recv(64).startswith(b"HTTP/1.1 ")
        accepted = _sockets_on(server.port, "01")
        return sorted(len(_socket_inodes(worker) & accepted) for worker in _workers(server))
    finally:
        for client in clients:
            client.close()


def _listening(server: LiveServer) -> dict[int, set[int]]:
    """Each live worker's listening sockets on the server's port."""
    listening = _sockets_on(server.port, "0A")
    return {worker: _socket_inodes(worker) & listening for worker in _workers(server)}


def _wait_for_workers(server: LiveServer, count: int, timeout: float = 60) -> dict[int, set[int]]:
    deadline = time.monotonic() + timeout
    while True:
        held = _listening(server)
        if len(held) == count and all(held.values()) or time.monotonic() > deadline:
            return held
        time.sleep(0.2)


def test_serve_with_two_workers_gives_each_its_own_socket_and_spreads_connections() -> None:
    """Issue 15: with ``--workers 2`` each worker listens on a socket of its own (SO_REUSEPORT) and
    the kernel spreads new connections over them. With uvicorn's one shared socket the worker that
    woke first accepted every connection waiting, so a few keep-alive clients opened together (five
    senders, a proxy's pool) could all land on one worker while the other idled. A worker killed
    with -9 is replaced with a socket of its own; its old one leaves the port with it (the
    supervisor keeps no copy that would take connections nobody accepts)."""
    database = LiveDatabase("spread")
    server = LiveServer(database.env, workers=2)
    try:
        held = _wait_for_workers(server, 2)
        assert len(held) == 2 and all(len(inodes) == 1 for inodes in held.values()), held
        first, second = held.values()
        assert first != second, "both workers listen on one shared socket"
        assert _sockets_on(server.port, "0A") == first | second  # none left over in the supervisor
        per_worker = _spread(server, 24)
        assert sum(per_worker) == 24, per_worker
        # Hashing is random: a worker gets fewer than 4 of 24 about once in 4,000 runs.
        assert min(per_worker) >= 4, f"connections per worker: {per_worker}"

        victim = next(iter(held))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while victim in _workers(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        again = _wait_for_workers(server, 2)
        assert victim not in again and len(again) == 2 and all(len(i) == 1 for i in again.values()), again
        assert _sockets_on(server.port, "0A") == set().union(*again.values())
        assert sum(_spread(server, 24)) == 24
    finally:
        server.stop()
        database.drop()
