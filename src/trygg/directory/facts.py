"""Who a person is, for the policy engine: their facts, cached in each process and never stale.

``facts_for(ids)`` returns the ``PersonFacts`` of many people at once. Every chat send asks for the
facts of all members of the conversation, so they are cached per process; the cache is kept true by
one counter in the database, the *facts generation*, which triggers bump on every table a person's
facts are read from: enrolments, teaching assignments, guardianships, staff roles, a class's grade
and school, a person's activity, municipality and language, and protection flags. The triggers fire
whatever writes the row (an action, the admin, the roster import, a bulk update, a shell, raw SQL),
so no door can forget to invalidate.

Each call reads the counter (one primary-key read) and drops this process's cache when it moved,
so in every worker process the request after a committed change decides on the new facts: a
guardian who lost parental responsibility is refused at once, not a minute later.

One counter for everyone, not one per person, on purpose: such changes are rare (a roster import at
night, an admin edit in the day), a reload is batched (``load_facts_many``: six queries for any
number of people), and the common case stays one read.

The counter's table and triggers are (re)installed after every ``migrate`` (``install_triggers``,
from ``post_migrate``): SQLite drops a table's triggers when a migration rebuilds the table, so they
are not left to one migration. Where they are missing, nothing is cached.

The cache is filled only outside a transaction. Inside one, the counter may have been bumped by the
transaction's own uncommitted writes; a rollback would then leave facts cached under a number the
next committed change reuses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import DatabaseError, connection

from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Person,
    PersonFacts,
    Role,
    StaffRole,
    TeachingAssignment,
    TeachingKind,
)

GENERATION_TABLE = "trygg_facts_generation"
# Rows per IN (...) list: well under SQLite's oldest limit of 999 parameters.
_CHUNK = 500

_cache: dict[int, PersonFacts] = {}
_cached_generation: int | None = None
_lock = threading.Lock()
T = TypeVar("T")


# (table, what fires it): every table ``load_facts_many`` reads, and only the columns it reads.
WATCHED = (
    ("directory_enrollment", "INSERT OR UPDATE OR DELETE"),
    ("directory_teachingassignment", "INSERT OR UPDATE OR DELETE"),
    ("directory_guardianship", "INSERT OR UPDATE OR DELETE"),
    ("directory_staffrole", "INSERT OR UPDATE OR DELETE"),
    ("directory_protection", "INSERT OR UPDATE OR DELETE"),
    ("directory_schoolclass", "UPDATE OF grade, school_id OR DELETE"),
    # The name too: the nudges and the safety signals name people, from a cache that follows the
    # generation (``generation_cached``).
    ("directory_person", "UPDATE OF is_active, municipality_id, language, name OR DELETE"),
)


def install_triggers(using: Any = None) -> None:
    """Create the facts generation's table and triggers where they are missing (idempotent)."""
    conn = connection if using is None else using
    bump = f"UPDATE {GENERATION_TABLE} SET n = n + 1 WHERE id = 1"  # noqa: S608 - constants only
    with conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {GENERATION_TABLE} (id integer PRIMARY KEY CHECK (id = 1), n bigint NOT NULL)"
        )
        if conn.vendor == "postgresql":
            cursor.execute(f"INSERT INTO {GENERATION_TABLE} (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")  # noqa: S608
            cursor.execute(
                "CREATE OR REPLACE FUNCTION trygg_bump_facts() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {bump}; RETURN NULL; END $$"
            )
            for table, spec in WATCHED:
                # Statement-level: a roster import of 50,000 rows bumps once per statement, not per row.
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER trygg_facts_{table} AFTER {spec} ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION trygg_bump_facts()"
                )
        else:
            cursor.execute(f"INSERT OR IGNORE INTO {GENERATION_TABLE} (id, n) VALUES (1, 0)")  # noqa: S608
            for table, spec in WATCHED:
                # SQLite takes one event per trigger, and has only row-level triggers.
                for number, event in enumerate(part.strip() for part in spec.split(" OR ")):
                    # Dropped first: SQLite has no CREATE OR REPLACE TRIGGER, and a trigger made by
                    # an older version may watch fewer columns.
                    cursor.execute(f"DROP TRIGGER IF EXISTS trygg_facts_{table}_{number}")
                    cursor.execute(
                        f"CREATE TRIGGER trygg_facts_{table}_{number} AFTER {event} ON {table} "
                        f"BEGIN {bump}; END"
                    )


# The generation a caller read moments ago, in the same statement as something else
# (``generation_read_with``); None: read it.
_known_generation: ContextVar[int | None] = ContextVar("trygg_known_generation", default=None)


def generation_column() -> str:
    """The facts generation as a scalar subquery, for a statement that reads it beside its own rows."""
    return f"(SELECT n FROM {GENERATION_TABLE} WHERE id = 1)"  # noqa: S608 - a constant


@contextmanager
def generation_read_with(generation: int | None) -> Iterator[None]:
    """Use ``generation`` (read through ``generation_column`` outside a transaction) for the facts
    and the caches that follow it, instead of reading it again, for reads only.

    A send asked for it three times (the members' facts, the nudges' names, the protected people):
    on PostgreSQL three round trips of its twenty. Not inside a transaction, where the reader's own
    writes may move the counter; nothing may be written within.
    """
    if generation is None or connection.in_atomic_block:
        yield
        return
    token = _known_generation.set(generation)
    try:
        yield
    finally:
        _known_generation.reset(token)


def facts_generation() -> int | None:
    """Return the facts generation, which moves whenever any person's facts may have changed.

    ``None`` where the counter is not installed (a database not migrated by this version).
    """
    known = _known_generation.get()
    if known is not None and not connection.in_atomic_block:
        return known
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT n FROM {GENERATION_TABLE} WHERE id = 1")  # noqa: S608 - a constant
            row = cursor.fetchone()
    except DatabaseError:
        if connection.in_atomic_block:
            raise
        return None
    return int(row[0]) if row else None


def facts_for(person_ids: Iterable[int]) -> dict[int, PersonFacts]:
    """Return the facts of each existing person among ``person_ids``, as of the last commit."""
    global _cached_generation
    wanted = list(dict.fromkeys(person_ids))
    generation = facts_generation()
    result: dict[int, PersonFacts] = {}
    with _lock:
        if generation is None or generation != _cached_generation:
            _cache.clear()
            _cached_generation = generation
        for pid in wanted:
            found = _cache.get(pid)
            if found is not None:
                result[pid] = found
    missing = [pid for pid in wanted if pid not in result]
    if missing:
        loaded = load_facts_many(missing)
        result.update(loaded)
        if generation is not None and not connection.in_atomic_block:
            with _lock:
                if _cached_generation == generation:
                    _cache.update(loaded)
    return result


# Other per-process answers that follow the generation (``generation_cached``): key -> value.
_derived: dict[Any, Any] = {}
_derived_generation: int | None = None
# Bounded: keys name conversations and people, and a long-running process meets many.
_DERIVED_MAX = 4096


def generation_cached(key: Any, load: Callable[[], T]) -> T:
    """Return ``load()``, cached in this process for as long as the facts generation holds.

    For answers read only from what moves the generation (enrolments, teaching, guardianship,
    protection, a person's activity and name): the nudges' names of a conversation are the same
    on every message sent into it. Like ``facts_for``, nothing is cached inside a transaction.
    The caller must not change what it is given.
    """
    global _derived_generation
    generation = facts_generation()
    if generation is not None:
        with _lock:
            if generation != _derived_generation:
                _derived.clear()
                _derived_generation = generation
            elif key in _derived:
                return _derived[key]
    value = load()
    if generation is not None and not connection.in_atomic_block:
        with _lock:
            if _derived_generation == generation:
                if len(_derived) >= _DERIVED_MAX:
                    _derived.clear()
                _derived[key] = value
    return value


def forget_facts() -> None:
    """Drop this process's cached facts (the generation does this by itself; for tests and tools)."""
    global _cached_generation
    global _derived_generation
    with _lock:
        _cache.clear()
        _cached_generation = None
        _derived.clear()
        _derived_generation = None


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def load_facts_many(person_ids: Iterable[int]) -> dict[int, PersonFacts]:
    """Read the facts of many people from the database, in six queries per few hundred people."""
    ids = sorted(set(person_ids))
    result: dict[int, PersonFacts] = {}
    for chunk in _chunks(ids):
        result.update(_load_chunk(chunk))
    return result


def _load_chunk(ids: list[int]) -> dict[int, PersonFacts]:
    people = {pid: (mid, lang) for pid, mid, lang in
              Person.objects.filter(id__in=ids).values_list("id", "municipality_id", "language")}
    pupil_rows: dict[int, list[tuple[int, int, int]]] = {}
    for pid, class_id, grade, school_id in Enrollment.objects.filter(pupil_id__in=ids).values_list(
        "pupil_id", "school_class_id", "school_class__grade", "school_class__school_id"
    ):
        pupil_rows.setdefault(pid, []).append((class_id, grade, school_id))
    teaching_rows: dict[int, list[tuple[int, str, int]]] = {}
    for pid, class_id, kind, school_id in TeachingAssignment.objects.filter(teacher_id__in=ids).values_list(
        "teacher_id", "school_class_id", "kind", "school_class__school_id"
    ):
        teaching_rows.setdefault(pid, []).append((class_id, kind, school_id))
    guardians: set[int] = set()
    children: dict[int, set[int]] = {}
    for guardian_id, pupil_id, responsible in Guardianship.objects.filter(guardian_id__in=ids).values_list(
        "guardian_id", "pupil_id", "parental_responsibility"
    ):
        guardians.add(guardian_id)
        if responsible:
            children.setdefault(guardian_id, set()).add(pupil_id)
    child_classes: dict[int, list[tuple[int, int]]] = {}
    all_children = sorted({c for kids in children.values() for c in kids})
    for chunk in _chunks(all_children):
        for pupil_id, class_id, school_id in Enrollment.objects.filter(pupil_id__in=chunk).values_list(
            "pupil_id", "school_class_id", "school_class__school_id"
        ):
            child_classes.setdefault(pupil_id, []).append((class_id, school_id))
    staff: dict[int, list[tuple[str, int | None, int]]] = {}
    for pid, kind, school_id, municipality_id in StaffRole.objects.filter(person_id__in=ids).values_list(
        "person_id", "kind", "school_id", "municipality_id"
    ):
        staff.setdefault(pid, []).append((kind, school_id, municipality_id))

    result: dict[int, PersonFacts] = {}
    for pid, (municipality_id, language) in people.items():
        pupil_classes = pupil_rows.get(pid, [])
        teaching = teaching_rows.get(pid, [])
        kids = children.get(pid, set())
        kid_classes = [row for kid in kids for row in child_classes.get(kid, [])]
        roles: set[str] = set()
        if pupil_classes:
            roles.add(Role.PUPIL)
        if teaching:
            roles.add(Role.TEACHER)
        if pid in guardians:
            roles.add(Role.GUARDIAN)
        led: set[int] = set()
        reps: set[int] = set()
        admin_of: set[int] = set()
        for kind, school_id, staff_municipality_id in staff.get(pid, []):
            roles.add(kind)
            if kind == Role.LEADER and school_id:
                led.add(school_id)
            elif kind in (Role.UNION_REP, Role.SAFETY_REP) and school_id:
                reps.add(school_id)
            elif kind == Role.ADMIN:
                admin_of.add(staff_municipality_id)
        result[pid] = PersonFacts(
            id=pid,
            roles=frozenset(roles),
            municipality_id=municipality_id,
            language=language,
            pupil_class_ids=frozenset(row[0] for row in pupil_classes),
            # Classes without a grade (electives, clubs) say nothing about the pupil's grade.
            grade=min((row[1] for row in pupil_classes if row[1] is not None), default=None),
            contact_class_ids=frozenset(row[0] for row in teaching if row[1] == TeachingKind.CONTACT),
            subject_class_ids=frozenset(row[0] for row in teaching if row[1] == TeachingKind.SUBJECT),
            child_ids=frozenset(kids),
            child_class_ids=frozenset(row[0] for row in kid_classes),
            led_school_ids=frozenset(led),
            rep_school_ids=frozenset(reps),
            admin_municipality_ids=frozenset(admin_of),
            school_ids=frozenset(
                {row[2] for row in pupil_classes} | {row[2] for row in teaching} | {row[1] for row in kid_classes}
                | led | reps
            ),
        )
    return result
