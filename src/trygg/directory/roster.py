"""Roster import: municipalities, schools, classes, people and their relations from OneRoster 1.1 CSV.

The files are ``orgs.csv``, ``users.csv``, ``classes.csv`` and ``enrollments.csv`` (an optional
``manifest.csv`` may mark a file as ``delta``). Everything is matched on ``sourcedId``, which lands
in the models' ``source_id``, so a second import of the same roster updates rows and never doubles
them. The whole import runs in one transaction: the first malformed row raises ``RosterError``
naming the file, the line and the reason, and nothing is written.

An action module under its own name: ``check_import_roster`` validates everything first, then writes
in that one transaction and audits what it changed, as an action does. The policy has nothing to
decide here (only an operator with the command line can run it); facts caches follow on their own
(``trygg.directory.facts``).

How OneRoster maps onto the directory:

- orgs: ``district`` (or ``local``) is a municipality; ``school`` is a school whose
  ``parentSourcedId`` names its municipality. Other org types are skipped.
- users: ``student`` is a pupil (by enrolment); ``teacher`` a teacher (by enrolment, ``primary``
  ``true`` makes the contact teacher); ``administrator`` of a school is its leader, of a district
  the municipality admin. ``parent`` and ``guardian`` link to the pupils in ``agentSourcedIds`` with
  parental responsibility; ``relative`` links *without* it (OneRoster's way to name an adult related
  to the child who is not its guardian), and so does a parent or guardian whose extension column
  ``metadata.parentalResponsibility`` is ``false`` (a parent who has lost it: such a person must see
  nothing about the child). ``aide`` and ``proctor`` are skipped. Passwords are never imported:
  people sign in through the national sign-in or get a password from an administrator.
- A bulk file is the whole truth for what it lists: a class's enrolments and teachers missing from
  the file are removed, as are a listed guardian's links to pupils not in the file, and a listed
  administrator's leader/admin roles not in the file. People are never deleted (they own messages and
  cases); ``status`` ``tobedeleted`` deactivates a user and removes an enrolment. In a ``delta`` file
  nothing is removed except rows marked ``tobedeleted``.
- What OneRoster cannot say is left alone on update: the special-education flag of a class,
  protection flags, union and safety representatives, addresses and passwords.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from trygg.audit.actions import do_audit
from trygg.directory.models import (
    Country,
    Enrollment,
    Guardianship,
    Language,
    Municipality,
    Person,
    Role,
    School,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
    TeachingKind,
)
from trygg.errors import BadInput

FILES = ("orgs.csv", "users.csv", "classes.csv", "enrollments.csv")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "users.csv": ("sourcedId", "orgSourcedIds", "role", "username", "givenName", "familyName"),
    "classes.csv": ("sourcedId", "title", "grades", "schoolSourcedId"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
}
MUNICIPALITY_ORG_TYPES = frozenset({"district", "local"})
GUARDIAN_USER_ROLES = frozenset({"parent", "guardian", "relative"})
SKIPPED_USER_ROLES = frozenset({"aide", "proctor"})
KNOWN_USER_ROLES = frozenset({"student", "teacher", "administrator"}) | GUARDIAN_USER_ROLES | SKIPPED_USER_ROLES
KNOWN_ENROLLMENT_ROLES = frozenset({"student", "teacher", "administrator", "aide", "guardian", "parent", "proctor"})
RESPONSIBILITY_COLUMN = "metadata.parentalResponsibility"
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})

Progress = Callable[[str, int, int], None]
KINDS = ("municipalities", "schools", "classes", "people", "staff_roles", "guardianships", "enrollments",
         "teaching")


class RosterError(BadInput):
    """A malformed roster: names the file, the line (1 is the header) and the reason."""

    code = "bad_roster"

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file} line {line}" if line else file
        super().__init__(f"{where}: {reason}", extra={"file": file, "line": line})


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0


@dataclass
class RosterReport:
    """What an import did, per kind of row."""

    counts: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {kind: vars(tally).copy() for kind, tally in self.counts.items()}

    def total(self, what: str) -> int:
        return sum(getattr(tally, what) for tally in self.counts.values())


@dataclass(frozen=True)
class Row:
    """One CSV record with where it came from, so every later error can point at it."""

    file: str
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()

    def ids(self, column: str) -> list[str]:
        return [part.strip() for part in self.get(column).split(",") if part.strip()]

    def error(self, reason: str) -> RosterError:
        return RosterError(self.file, self.line, reason)

    @property
    def sourced_id(self) -> str:
        return self.get("sourcedId")

    @property
    def to_be_deleted(self) -> bool:
        return self.get("status").lower() == "tobedeleted"


@dataclass
class Roster:
    orgs: list[Row]
    users: list[Row]
    classes: list[Row]
    enrollments: list[Row]
    delta: frozenset[str] = frozenset()

    @property
    def row_count(self) -> int:
        return len(self.orgs) + len(self.users) + len(self.classes) + len(self.enrollments)


# --------------------------------------------------------------------------------------------
# Reading and validating the files (no database).


def _decode(file: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(file, raw[: exc.start].count(b"\n") + 1, "not valid UTF-8") from exc


def read_rows(file: str, text: str, required: Iterable[str]) -> list[Row]:
    """Parse one CSV file into rows; raise ``RosterError`` for a bad header or a ragged row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RosterError(file, 1, f"not valid CSV ({exc})") from exc
    if not header:
        raise RosterError(file, 1, "the file is empty (a header row is required)")
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise RosterError(file, 1, f"missing column(s): {', '.join(missing)}")
    rows: list[Row] = []
    seen: dict[str, int] = {}
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RosterError(file, reader.line_num, f"not valid CSV ({exc})") from exc
        line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise RosterError(file, line, f"expected {len(header)} fields, found {len(record)}")
        row = Row(file, line, dict(zip(header, record, strict=True)))
        if not row.sourced_id:
            raise row.error("sourcedId is empty")
        if row.sourced_id in seen:
            raise row.error(f"sourcedId {row.sourced_id!r} already used on line {seen[row.sourced_id]}")
        seen[row.sourced_id] = line
        rows.append(row)
    return rows


def _read_manifest(directory: Path) -> frozenset[str]:
    """Return the files the manifest marks as ``delta``; without a manifest every file is bulk."""
    path = directory / "manifest.csv"
    if not path.exists():
        return frozenset()
    delta = set()
    text = _decode("manifest.csv", path.read_bytes())
    for record in csv.reader(io.StringIO(text, newline="")):
        if len(record) >= 2 and record[0].strip().startswith("file.") and record[1].strip().lower() == "delta":
            delta.add(record[0].strip()[len("file."):] + ".csv")
    return frozenset(delta)


def read_roster(directory: Path) -> Roster:
    """Read and check the four files of a OneRoster 1.1 CSV roster; raise ``RosterError`` if one is bad."""
    if not directory.is_dir():
        raise RosterError(str(directory), 0, "not a directory")
    for file in FILES:
        if not (directory / file).is_file():
            raise RosterError(file, 0, "file is missing")
    parsed = {
        file: read_rows(file, _decode(file, (directory / file).read_bytes()), REQUIRED_COLUMNS[file])
        for file in FILES
    }
    roster = Roster(parsed["orgs.csv"], parsed["users.csv"], parsed["classes.csv"], parsed["enrollments.csv"],
                    delta=_read_manifest(directory))
    _check_values(roster)
    return roster


def parse_grade(row: Row) -> int:
    """Return the class's grade 1–10 from OneRoster ``grades`` ("04", "4", or a list: the lowest)."""
    values = row.ids("grades")
    if not values:
        raise row.error("grades is empty (a class needs a grade 1–10)")
    grades = []
    for value in values:
        if not value.isdigit():
            raise row.error(f"grade {value!r} is not a grade 1–10")
        grades.append(int(value))
    grade = min(grades)
    if not 1 <= grade <= 10:
        raise row.error(f"grade {grade} is outside 1–10")
    return grade


def _bool(row: Row, column: str, default: bool) -> bool:
    value = row.get(column).lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise row.error(f"{column} must be true or false, not {value!r}")


def _check_values(roster: Roster) -> None:
    """Check what can be checked row by row before anything touches the database."""
    for row in roster.orgs:
        if not row.get("name"):
            raise row.error("name is empty")
        if not row.get("type"):
            raise row.error("type is empty")
    usernames: dict[str, int] = {}
    for row in roster.users:
        role = row.get("role").lower()
        if role not in KNOWN_USER_ROLES:
            raise row.error(f"unknown role {row.get('role')!r}")
        if role in SKIPPED_USER_ROLES:
            continue
        username = row.get("username")
        if not username:
            raise row.error("username is empty")
        if len(username) > 150:
            raise row.error("username is longer than 150 characters")
        if username.lower() in usernames:
            raise row.error(f"username {username!r} already used on line {usernames[username.lower()]}")
        usernames[username.lower()] = row.line
        if not (row.get("givenName") or row.get("familyName")):
            raise row.error("givenName and familyName are both empty")
        if not row.ids("orgSourcedIds"):
            raise row.error("orgSourcedIds is empty")
        _bool(row, "enabledUser", True)
        _bool(row, RESPONSIBILITY_COLUMN, True)
    for row in roster.classes:
        if not row.get("title"):
            raise row.error("title is empty")
        parse_grade(row)
    for row in roster.enrollments:
        role = row.get("role").lower()
        if role not in KNOWN_ENROLLMENT_ROLES:
            raise row.error(f"unknown role {row.get('role')!r}")
        _bool(row, "primary", False)


# --------------------------------------------------------------------------------------------
# Writing.


def check_import_roster(
    directory: Path, actor: Person | None = None, *, progress: Progress | None = None, country: str = "NO"
) -> RosterReport:
    """Validate the roster in ``directory`` and import it in one transaction; return what changed.

    There is no in-app upload: the operator who runs ``trygg import-roster`` on the server already
    holds the database, so no policy rule is asked. ``actor`` is recorded in the audit row when given.
    """
    if country not in Country.values:
        raise BadInput(f"unknown country {country!r}")
    roster = read_roster(Path(directory))
    return do_import_roster(roster, actor, progress=progress, country=country)


def do_import_roster(
    roster: Roster, actor: Person | None = None, *, progress: Progress | None = None, country: str = "NO"
) -> RosterReport:
    """Write a checked roster in one transaction; any ``RosterError`` rolls all of it back."""
    importer = _Importer(roster, progress or (lambda label, done, total: None), country)
    try:
        with transaction.atomic():
            importer.run()
            do_audit(actor, "directory.roster_imported", None, counts=importer.report.as_dict(),
                     delta=sorted(roster.delta))
    except IntegrityError as exc:
        # Row checks catch the clashes they can see; a swap of two usernames inside one roster
        # still trips a unique constraint, and that must read as a roster error, not a crash.
        raise RosterError("users.csv", 0, f"conflicts with the directory ({exc.__class__.__name__})") from exc
    return importer.report


def _changed(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class _Importer:
    def __init__(self, roster: Roster, progress: Progress, country: str) -> None:
        self.roster = roster
        self.progress = progress
        self.country = country
        self.report = RosterReport()
        self.done = 0
        self.total = roster.row_count
        self.municipalities: dict[str, Municipality] = {}
        self.schools: dict[str, School] = {}
        self.classes: dict[str, SchoolClass] = {}
        self.people: dict[str, Person] = {}
        self.listed_class_ids: set[int] = set()

    def tick(self, label: str) -> None:
        self.done += 1
        self.progress(label, self.done, self.total)

    def run(self) -> None:
        self.import_orgs()
        self.import_users()
        self.import_classes()
        self.import_guardianships()
        self.import_enrollments()

    def _count(self, kind: str, created: bool, changed: bool) -> None:
        tally = self.report.counts[kind]
        if created:
            tally.created += 1
        elif changed:
            tally.updated += 1
        else:
            tally.unchanged += 1

    # orgs ---------------------------------------------------------------------------------
    def import_orgs(self) -> None:
        rows = self.roster.orgs
        wanted = {r.sourced_id for r in rows}
        self.municipalities = {m.source_id: m for m in Municipality.objects.filter(source_id__in=wanted)}
        self.schools = {s.source_id: s for s in School.objects.filter(source_id__in=wanted)}
        schools: list[Row] = []
        for row in rows:
            kind = row.get("type").lower()
            if row.to_be_deleted or kind not in MUNICIPALITY_ORG_TYPES | {"school"}:
                self.report.counts["municipalities" if kind in MUNICIPALITY_ORG_TYPES else "schools"].skipped += 1
                self.tick("orgs.csv")
                continue
            if kind == "school":
                schools.append(row)
                continue
            if row.sourced_id in self.schools:
                raise row.error(f"sourcedId {row.sourced_id!r} is a school, not a {kind}")
            municipality = self.municipalities.get(row.sourced_id)
            created = municipality is None
            if created:
                municipality = Municipality(source_id=row.sourced_id, country=self.country)
            changed = _changed(municipality, {"name": row.get("name")[:200]})
            if created or changed:
                municipality.save()
            self.municipalities[row.sourced_id] = municipality
            self._count("municipalities", created, changed)
            self.tick("orgs.csv")
        for row in schools:
            if row.sourced_id in self.municipalities:
                raise row.error(f"sourcedId {row.sourced_id!r} is a municipality, not a school")
            municipality = self.municipality_for(row, row.get("parentSourcedId"))
            school = self.schools.get(row.sourced_id)
            created = school is None
            if created:
                school = School(source_id=row.sourced_id)
            changed = _changed(school, {"name": row.get("name")[:200], "municipality_id": municipality.pk})
            if created or changed:
                school.save()
            self.schools[row.sourced_id] = school
            self._count("schools", created, changed)
            self.tick("orgs.csv")

    def municipality_for(self, row: Row, sourced_id: str) -> Municipality:
        if not sourced_id:
            raise row.error("parentSourcedId is empty (a school needs its municipality, a district org)")
        found = self.municipalities.get(sourced_id) or Municipality.objects.filter(source_id=sourced_id).first()
        if found is None:
            raise row.error(f"parentSourcedId {sourced_id!r} is not a district org in orgs.csv or the directory")
        self.municipalities[sourced_id] = found
        return found

    def school(self, row: Row, sourced_id: str) -> School:
        found = self.schools.get(sourced_id)
        if found is None:
            found = School.objects.filter(source_id=sourced_id).first()
            if found is None:
                raise row.error(f"school {sourced_id!r} is not in orgs.csv or the directory")
            self.schools[sourced_id] = found
        return found

    def org_municipality(self, row: Row, sourced_id: str) -> tuple[Municipality, School | None]:
        """Return the municipality an org belongs to, and the school when the org is one."""
        if sourced_id in self.municipalities:
            return self.municipalities[sourced_id], None
        school = self.schools.get(sourced_id) or School.objects.filter(source_id=sourced_id).first()
        if school is not None:
            self.schools[sourced_id] = school
            return school.municipality, school
        municipality = Municipality.objects.filter(source_id=sourced_id).first()
        if municipality is None:
            raise row.error(f"org {sourced_id!r} is not in orgs.csv or the directory")
        self.municipalities[sourced_id] = municipality
        return municipality, None

    # users --------------------------------------------------------------------------------
    def import_users(self) -> None:
        rows = self.roster.users
        existing = {p.source_id: p for p in Person.objects.filter(source_id__in=[r.sourced_id for r in rows])}
        wanted_names = [r.get("username") for r in rows if r.get("username")]
        taken = {
            p.username.lower(): p.source_id
            for p in Person.objects.filter(username__in=wanted_names).only("username", "source_id")
        }
        for row in rows:
            role = row.get("role").lower()
            person = existing.get(row.sourced_id)
            if role in SKIPPED_USER_ROLES:
                self.report.counts["people"].skipped += 1
                self.tick("users.csv")
                continue
            if row.to_be_deleted:
                if person is not None and person.is_active:
                    person.is_active = False
                    person.save(update_fields=["is_active"])
                    self.report.counts["people"].updated += 1
                else:
                    self.report.counts["people"].skipped += 1
                self.tick("users.csv")
                continue
            username = row.get("username")
            owner = taken.get(username.lower(), row.sourced_id)
            if owner != row.sourced_id:
                raise row.error(f"username {username!r} belongs to another person in the directory")
            municipality, _school = self.org_municipality(row, row.ids("orgSourcedIds")[0])
            name = " ".join(p for p in (row.get("givenName"), row.get("middleName"), row.get("familyName")) if p)
            values = {
                "username": username,
                "name": name[:200],
                "email": row.get("email")[:254],
                "phone": (row.get("phone") or row.get("sms"))[:40],
                "municipality_id": municipality.pk,
                "is_active": _bool(row, "enabledUser", True),
            }
            created = person is None
            if created:
                # OneRoster carries no language; the municipality's country is the best first guess.
                language = Language.DA if municipality.country == Country.DENMARK else Language.NB
                person = Person(source_id=row.sourced_id, language=language)
                person.set_unusable_password()
            changed = _changed(person, values)
            if role == "administrator" and not person.is_staff:
                person.is_staff = changed = True
            if created or changed:
                person.save()
            self.people[row.sourced_id] = person
            self._count("people", created, changed)
            if role == "administrator":
                self.import_staff_roles(row, person)
            self.tick("users.csv")

    def import_staff_roles(self, row: Row, person: Person) -> None:
        wanted: set[tuple[str, int | None, int]] = set()
        for org_id in row.ids("orgSourcedIds"):
            municipality, school = self.org_municipality(row, org_id)
            if school is not None:
                wanted.add((Role.LEADER.value, school.pk, municipality.pk))
            else:
                wanted.add((Role.ADMIN.value, None, municipality.pk))
        have = {
            (r.kind, r.school_id, r.municipality_id): r
            for r in StaffRole.objects.filter(person=person, kind__in=[Role.LEADER, Role.ADMIN])
        }
        tally = self.report.counts["staff_roles"]
        for key in wanted - set(have):
            StaffRole.objects.create(person=person, kind=key[0], school_id=key[1], municipality_id=key[2])
            tally.created += 1
        tally.unchanged += len(wanted & set(have))
        if "users.csv" not in self.roster.delta:
            for key in set(have) - wanted:
                have[key].delete()
                tally.removed += 1

    def person(self, row: Row, sourced_id: str) -> Person:
        return _known(self.people, Person, row, sourced_id, "user", "users.csv")

    # guardianships ------------------------------------------------------------------------
    def import_guardianships(self) -> None:
        """Link guardians and pupils named on either side by ``agentSourcedIds``."""
        by_id = {r.sourced_id: r for r in self.roster.users}
        roles = {sid: r.get("role").lower() for sid, r in by_id.items()}
        pairs: dict[tuple[str, str], tuple[Row, bool]] = {}
        for row in self.roster.users:
            if row.to_be_deleted:
                continue
            role = roles[row.sourced_id]
            if role in GUARDIAN_USER_ROLES:
                responsible = role != "relative" and _bool(row, RESPONSIBILITY_COLUMN, True)
                for pupil_id in row.ids("agentSourcedIds"):
                    pairs[(row.sourced_id, pupil_id)] = (row, responsible)
        for row in self.roster.users:
            if row.to_be_deleted or roles[row.sourced_id] != "student":
                continue
            for agent_id in row.ids("agentSourcedIds"):
                agent_role = roles.get(agent_id)
                if agent_role in GUARDIAN_USER_ROLES and (agent_id, row.sourced_id) not in pairs:
                    agent = by_id[agent_id]
                    responsible = agent_role != "relative" and _bool(agent, RESPONSIBILITY_COLUMN, True)
                    pairs[(agent_id, row.sourced_id)] = (agent, responsible)
        tally = self.report.counts["guardianships"]
        wanted_by_guardian: dict[int, set[int]] = {}
        for (guardian_id, pupil_id), (row, responsible) in pairs.items():
            guardian = self.person(row, guardian_id)
            pupil = self.person(row, pupil_id)
            if guardian.pk == pupil.pk:
                raise row.error("a person cannot be their own guardian")
            wanted_by_guardian.setdefault(guardian.pk, set()).add(pupil.pk)
            link, created = Guardianship.objects.get_or_create(
                guardian=guardian, pupil=pupil, defaults={"parental_responsibility": responsible}
            )
            changed = not created and link.parental_responsibility != responsible
            if changed:
                link.parental_responsibility = responsible
                link.save(update_fields=["parental_responsibility"])
            self._count("guardianships", created, changed)
        if "users.csv" in self.roster.delta:
            return
        for row in self.roster.users:
            if roles[row.sourced_id] in GUARDIAN_USER_ROLES and not row.to_be_deleted:
                guardian = self.people[row.sourced_id]
                stale = Guardianship.objects.filter(guardian=guardian).exclude(
                    pupil_id__in=wanted_by_guardian.get(guardian.pk, set())
                )
                tally.removed += stale.delete()[0]

    # classes ------------------------------------------------------------------------------
    def import_classes(self) -> None:
        rows = self.roster.classes
        existing = {c.source_id: c for c in SchoolClass.objects.filter(source_id__in=[r.sourced_id for r in rows])}
        for row in rows:
            if row.to_be_deleted:
                self.report.counts["classes"].skipped += 1
                self.tick("classes.csv")
                continue
            school = self.school(row, row.get("schoolSourcedId"))
            school_class = existing.get(row.sourced_id)
            created = school_class is None
            if created:
                school_class = SchoolClass(source_id=row.sourced_id)
            changed = _changed(
                school_class, {"name": row.get("title")[:100], "grade": parse_grade(row), "school_id": school.pk}
            )
            if created or changed:
                school_class.save()
            self.classes[row.sourced_id] = school_class
            self.listed_class_ids.add(school_class.pk)
            self._count("classes", created, changed)
            self.tick("classes.csv")

    def school_class(self, row: Row, sourced_id: str) -> SchoolClass:
        return _known(self.classes, SchoolClass, row, sourced_id, "class", "classes.csv")

    # enrollments --------------------------------------------------------------------------
    def import_enrollments(self) -> None:
        pupils_of: dict[int, set[int]] = {}
        teachers_of: dict[int, set[int]] = {}
        for row in self.roster.enrollments:
            role = row.get("role").lower()
            if role not in ("student", "teacher"):
                self.report.counts["enrollments"].skipped += 1
                self.tick("enrollments.csv")
                continue
            school_class = self.school_class(row, row.get("classSourcedId"))
            person = self.person(row, row.get("userSourcedId"))
            if row.to_be_deleted:
                model = Enrollment if role == "student" else TeachingAssignment
                member = {"pupil": person} if role == "student" else {"teacher": person}
                deleted = model.objects.filter(school_class=school_class, **member).delete()[0]
                tally = self.report.counts["enrollments" if role == "student" else "teaching"]
                if deleted:
                    tally.removed += deleted
                else:
                    tally.skipped += 1
            elif role == "student":
                pupils_of.setdefault(school_class.pk, set()).add(person.pk)
                _enrollment, created = Enrollment.objects.get_or_create(pupil=person, school_class=school_class)
                self._count("enrollments", created, False)
            else:
                teachers_of.setdefault(school_class.pk, set()).add(person.pk)
                kind = TeachingKind.CONTACT if _bool(row, "primary", False) else TeachingKind.SUBJECT
                assignment, created = TeachingAssignment.objects.get_or_create(
                    teacher=person, school_class=school_class, defaults={"kind": kind}
                )
                changed = not created and assignment.kind != kind
                if changed:
                    assignment.kind = kind
                    assignment.save(update_fields=["kind"])
                self._count("teaching", created, changed)
            self.tick("enrollments.csv")
        if "enrollments.csv" in self.roster.delta:
            return
        # A bulk file is the whole membership of the classes it lists: whoever it no longer
        # names has left. Classes only referred to (not listed in classes.csv) keep theirs.
        for class_id in self.listed_class_ids:
            gone = Enrollment.objects.filter(school_class_id=class_id).exclude(
                pupil_id__in=pupils_of.get(class_id, set())
            )
            self.report.counts["enrollments"].removed += gone.delete()[0]
            gone_teachers = TeachingAssignment.objects.filter(school_class_id=class_id).exclude(
                teacher_id__in=teachers_of.get(class_id, set())
            )
            self.report.counts["teaching"].removed += gone_teachers.delete()[0]


def _known(cache: dict[str, Any], model: Any, row: Row, sourced_id: str, what: str, file: str) -> Any:
    """Return the row imported (or already in the directory) with ``sourced_id``; else the row's error."""
    found = cache.get(sourced_id)
    if found is None:
        found = model.objects.filter(source_id=sourced_id).first()
        if found is None:
            raise row.error(f"{what} {sourced_id!r} is not in {file} or the directory")
        cache[sourced_id] = found
    return found
