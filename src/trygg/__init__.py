"""Trygg: school–home communication where the municipality's guidelines are part of the software."""

__version__ = "0.1.0"


def setup_django_once() -> None:
    """Set Django up unless this process has done so already.

    ``django.setup()`` configures logging again each time it runs: a command run inside a process
    that was set up already (the test suite runs ``trygg.cli.main`` in-process, the server starts
    the worker) left the root logger writing to whatever stderr was then, later closed ("Logging
    error" in CI).
    """
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
