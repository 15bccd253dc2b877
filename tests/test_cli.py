"""The ``trygg`` command: seeding the demo school is idempotent and gives every class its channels."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, LiveDatabase

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
