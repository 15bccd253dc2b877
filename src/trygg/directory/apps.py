from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _install_facts_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from trygg.directory.facts import install_triggers

    install_triggers(connections[using])


class DirectoryConfig(AppConfig):
    name = "trygg.directory"
    label = "directory"

    def ready(self) -> None:
        from trygg.directory import checks  # noqa: F401  (registers the deployment checks)

        # After every migrate (and flush): a migration that rebuilds a table on SQLite drops its
        # triggers, so they are put back each time rather than made once by one migration.
        post_migrate.connect(_install_facts_triggers, sender=self, dispatch_uid="trygg.facts_triggers")
