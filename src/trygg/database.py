"""Preparing the database before anything runs: the data directory, and every migration applied."""

from __future__ import annotations


def prepare_database(verbosity: int = 0) -> None:
    """Create the data directory and the database if absent, and migrate it."""
    from django.conf import settings
    from django.core.management import call_command

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "media").mkdir(exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)
