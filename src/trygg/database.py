"""Preparing the database before anything runs: the data directory, and every migration applied."""

from __future__ import annotations


def prepare_database(verbosity: int = 0) -> None:
    """Create the data directory and the database if absent, and migrate it."""
    from django.conf import settings
    from django.core.management import call_command

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "media").mkdir(exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)


def dependency_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions that mean a dependency (the database, Redis) cannot be reached.

    They are answered with 503 and ``Retry-After`` (``trygg.api_errors``), and close sockets with
    1012, so that a client tries again instead of reporting a bug.
    """
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # ConnectionError (builtin) covers a refused socket below redis-py's own wrapping.
    return (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, ConnectionError)


def is_unavailable(exc: BaseException) -> bool:
    """Return whether ``exc`` means a dependency is down rather than a bug.

    SQLite's "database is locked" is an OperationalError too, but a busy database is down for the
    caller all the same: try again shortly.
    """
    return isinstance(exc, dependency_errors())
