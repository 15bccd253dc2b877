"""Roster import: municipalities, schools, classes, people and their relations from OneRoster CSV.

Reading and checking the files (1.1 and 1.2, bulk and delta, CEDS grades, dates) lives in
``roster_files``, the organisations in ``roster_orgs``; this module writes the rest. Everything is
matched on ``sourcedId``, which lands in the models' ``source_id``, so a second import of the same
roster updates rows and never doubles them.
The whole import runs in one transaction: the first bad row raises ``RosterError`` naming the file,
the line and the reason, and nothing is written. What is imported in a weaker form or left alone
is a warning (``RosterReport.warnings``), never a reason to refuse the file.

An action module under its own name: ``check_import_roster`` validates everything first, then
``do_import_roster`` writes in that one transaction and audits what it changed, as an action does.
The policy has nothing to decide here (only an operator with the command line can run it); facts
caches follow on their own (``trygg.directory.facts``).

How OneRoster maps onto the directory:

- orgs: ``district`` (or ``local``) is a municipality; ``school`` is a school whose
  ``parentSourcedId`` names its municipality (when it is empty and the file holds one district,
  that one). A ``department`` belongs to its school: people and classes placed in a department are
  placed in its school. Departments are stored (``Department``), so a later delta that does not ship
  ``orgs.csv`` still finds a department's school. ``state`` and ``national`` orgs have no place in
  Trygg and are skipped with a warning; naming one as a person's only org is an error that says so.
- users: ``student`` is a pupil (by enrolment); ``teacher`` a teacher (by enrolment, ``primary``
  ``true`` makes the contact teacher); ``administrator`` (1.2: also ``principal``,
  ``siteAdministrator``, ``districtAdministrator``) of a school is its leader, of a district the
  municipality admin. ``parent`` and ``guardian`` link to the pupils in ``agentSourcedIds`` with
  parental responsibility; ``relative`` links *without* it (OneRoster's way to name an adult related
  to the child who is not its guardian), and so does a parent or guardian whose extension column
  ``metadata.parentalResponsibility`` is ``false`` (a parent who has lost it: such a person must see
  nothing about the child). ``aide``, ``proctor``, ``counselor`` and ``systemAdministrator`` are
  skipped. Passwords are never imported.
- An enrolment counts only between its ``beginDate`` and its ``endDate`` (exclusive): one that has
  ended removes the membership, one that has not begun is not created yet. An enrolment whose role
  contradicts the person's role in ``users.csv`` (a teacher enrolled as a student) is not imported
  and is reported.
- A bulk file is the whole truth for what it lists: a class's enrolments and teachers missing from
  the file are removed, as are a listed guardian's links to pupils not in the file, and a listed
  user's leader/admin roles not in the file. In a delta file rows create and update, and only rows
  marked ``tobedeleted`` remove. A file the manifest marks ``absent`` changes nothing.
- 1.2 ``roles.csv``: a row marked ``tobedeleted`` removes the role it names: an administrator role's
  leadership (or admin role), a teacher's teaching and a student's enrolments in that org's classes.
- ``tobedeleted``: a user is deactivated (people are never deleted: they own messages and cases)
  and loses every enrolment, class, guardianship and leader role; a class loses its pupils and
  teachers (its row stays, with the conversations that hang on it); an enrolment is removed.
  Municipalities and schools are never removed by a roster (everything hangs on them): that is a
  warning, for an administrator to act on.
- What OneRoster cannot say is left alone on update: the special-education flag of a class,
  protection flags, union and safety representatives, addresses and passwords.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
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
from trygg.directory.roster_files import (
    ADMINISTRATOR_ROLES_12,
    GUARDIAN_USER_ROLES,
    RESPONSIBILITY_COLUMN,
    ROLES_FILE,
    SKIPPED_USER_ROLES,
    Roster,
    RosterError,
    RosterWarning,
    Row,
    is_current,
    parse_bool,
    read_roster,
)
from trygg.directory.roster_orgs import OrgImporter, apply_changes
from trygg.errors import BadInput

__all__ = ["RosterError", "RosterReport", "RosterWarning", "check_import_roster", "do_import_roster"]

Progress = Callable[[str, int, int], None]
KINDS = ("municipalities", "schools", "classes", "people", "staff_roles", "guardianships", "enrollments",
         "teaching")
# Rows per IN (...) list and per bulk insert: well under SQLite's oldest limit of 999 parameters.
CHUNK = 500


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    removed: int = 0


@dataclass
class RosterReport:
    """What an import did, per kind of row, and what it warns about."""

    counts: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in KINDS})
    warnings: list[RosterWarning] = field(default_factory=list)
    version: str = "1.1"

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {kind: vars(tally).copy() for kind, tally in self.counts.items()}

    def total(self, what: str) -> int:
        return sum(getattr(tally, what) for tally in self.counts.values())


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_import_roster(
    directory: Path, actor: Person | None = None, *, progress: Progress | None = None, country: str = "NO",
    today: date | None = None,
) -> RosterReport:
    """Validate the roster in ``directory`` and import it in one transaction; return what changed.

    There is no in-app upload: the operator who runs ``trygg import-roster`` on the server already
    holds the database, so no policy rule is asked. ``actor`` is recorded in the audit row when given.
    ``today`` is the day enrolment dates are measured against (the server's date by default).
    """
    if country not in Country.values:
        raise BadInput(f"unknown country {country!r}")
    today = today or date.today()
    roster = read_roster(Path(directory), today)
    return do_import_roster(roster, actor, progress=progress, country=country, today=today)


def do_import_roster(
    roster: Roster, actor: Person | None = None, *, progress: Progress | None = None, country: str = "NO",
    today: date | None = None,
) -> RosterReport:
    """Write a checked roster in one transaction; any ``RosterError`` rolls all of it back."""
    importer = _Importer(roster, progress or (lambda label, done, total: None), country, today or date.today())
    try:
        with transaction.atomic():
            importer.run()
            do_audit(actor, "directory.roster_imported", None, counts=importer.report.as_dict(),
                     delta=sorted(roster.delta), version=roster.version,
                     warnings=len(importer.report.warnings))
    except IntegrityError as exc:
        # Row checks catch the clashes they can see; a swap of two usernames inside one roster
        # still trips a unique constraint, and that must read as a roster error, not a crash.
        raise RosterError("users.csv", 0, f"conflicts with the directory ({exc.__class__.__name__})") from exc
    return importer.report


class _Importer(OrgImporter):
    def __init__(self, roster: Roster, progress: Progress, country: str, today: date) -> None:
        self.roster = roster
        self.progress = progress
        self.country = country
        self.today = today
        self.report = RosterReport(warnings=list(roster.warnings), version=roster.version)
        self.done = 0
        self.total = roster.row_count
        self.municipalities: dict[str, Municipality] = {}
        self.municipality_by_pk: dict[int, Municipality] = {}
        self.schools: dict[str, School] = {}
        # department sourcedId -> its school: departments are not stored, their people are the school's
        self.departments: dict[str, School] = {}
        self.skipped_orgs: dict[str, tuple[str, int]] = {}
        self.classes: dict[str, int] = {}
        self.people: dict[str, int] = {}
        self.deleted_users: dict[str, int] = {}
        self.deleted_classes: dict[str, int] = {}
        self.listed_class_ids: set[int] = set()

    def tick(self, label: str) -> None:
        self.done += 1
        self.progress(label, self.done, self.total)

    def warn(self, row: Row, message: str) -> None:
        self.report.warnings.append(row.warning(message))

    def run(self) -> None:
        self.import_orgs()
        self.import_users()
        self.import_classes()
        self.import_guardianships()
        self.import_enrollments()
        self.remove_roles()

    def _count(self, kind: str, created: bool, changed: bool) -> None:
        tally = self.report.counts[kind]
        if created:
            tally.created += 1
        elif changed:
            tally.updated += 1
        else:
            tally.unchanged += 1

    # users --------------------------------------------------------------------------------
    def import_users(self) -> None:
        rows = self.roster.users
        existing: dict[str, Person] = {}
        for batch in chunks(r.sourced_id for r in rows):
            existing.update((p.source_id, p) for p in Person.objects.filter(source_id__in=batch))
        taken: dict[str, str | None] = {}
        for batch in chunks(r.get("username") for r in rows if r.get("username")):
            taken.update((name.lower(), sid) for name, sid in
                         Person.objects.filter(username__in=batch).values_list("username", "source_id"))
        new_people: list[tuple[Row, Person]] = []
        staff_rows: list[tuple[Row, Person]] = []
        for row in rows:
            role = row.role
            person = existing.get(row.sourced_id)
            if role in SKIPPED_USER_ROLES:
                self.report.counts["people"].skipped += 1
                self.tick("users.csv")
                continue
            if row.to_be_deleted:
                self.deleted_users[row.sourced_id] = row.line
                if person is not None and (person.is_active or self._has_relations(person)):
                    self.remove_person(person)
                    self.report.counts["people"].removed += 1
                else:
                    self.report.counts["people"].skipped += 1
                self.tick("users.csv")
                continue
            username = row.get("username")
            owner = taken.get(username.lower(), row.sourced_id)
            if owner != row.sourced_id:
                raise row.error(f"username {username!r} belongs to another person in the directory")
            if not role and person is None:
                raise row.error("a new user needs a role in roles.csv")
            name = " ".join(p for p in (row.get("givenName"), row.get("middleName"), row.get("familyName")) if p)
            values: dict[str, Any] = {
                "username": username,
                "name": name[:200],
                "email": row.get("email")[:254],
                "phone": (row.get("phone") or row.get("sms"))[:40],
                "is_active": parse_bool(row, "enabledUser", True),
            }
            municipality = self.user_municipality(row) if role else None
            if municipality is not None:
                values["municipality_id"] = municipality.pk
            created = person is None
            if created:
                # OneRoster carries no language; the municipality's country is the best first guess.
                language = Language.DA if municipality and municipality.country == Country.DENMARK else Language.NB
                person = Person(source_id=row.sourced_id, language=language)
                person.set_unusable_password()
            changed = apply_changes(person, values)
            if row.sourced_id in self.roster.admin_orgs and not person.is_staff:
                person.is_staff = changed = True
            if created:
                new_people.append((row, person))
            elif changed:
                person.save()
            if not created:
                self.people[row.sourced_id] = person.pk
            self._count("people", created, changed)
            if role:
                staff_rows.append((row, person))
            self.tick("users.csv")
        for batch in chunks(new_people):
            Person.objects.bulk_create([person for _row, person in batch])
            for row, person in batch:
                self.people[row.sourced_id] = person.pk
        self.import_staff_roles(staff_rows)

    def user_municipality(self, row: Row) -> Municipality:
        """Return the municipality of the user's first org Trygg places people in."""
        org_ids = row.ids("orgSourcedIds")
        for org_id in org_ids:
            if org_id not in self.skipped_orgs:
                return self.org(row, org_id)[0]
        return self.org(row, org_ids[0])[0]  # raises, naming the skipped org

    def _has_relations(self, person: Person) -> bool:
        return (Enrollment.objects.filter(pupil=person).exists()
                or TeachingAssignment.objects.filter(teacher=person).exists()
                or Guardianship.objects.filter(guardian=person).exists()
                or StaffRole.objects.filter(person=person, kind__in=[Role.LEADER, Role.ADMIN]).exists())

    def remove_person(self, person: Person) -> None:
        """Deactivate a person the roster deletes and end every relation the roster gave them."""
        if person.is_active:
            person.is_active = False
            person.save(update_fields=["is_active"])
        self.report.counts["enrollments"].removed += Enrollment.objects.filter(pupil=person).delete()[0]
        self.report.counts["teaching"].removed += TeachingAssignment.objects.filter(teacher=person).delete()[0]
        self.report.counts["guardianships"].removed += (
            Guardianship.objects.filter(guardian=person).delete()[0]
            + Guardianship.objects.filter(pupil=person).delete()[0]
        )
        self.report.counts["staff_roles"].removed += StaffRole.objects.filter(
            person=person, kind__in=[Role.LEADER, Role.ADMIN]).delete()[0]

    def import_staff_roles(self, rows: list[tuple[Row, Person]]) -> None:
        """Give administrators their leader/admin roles; in a bulk file, remove the ones it no longer names."""
        bulk = self.roster.is_bulk("users.csv") and (self.roster.version != "1.2"
                                                    or not self.roster.is_absent(ROLES_FILE))
        have: dict[int, dict[tuple[str, int | None, int], StaffRole]] = {}
        ids = [p.pk for row, p in rows if bulk or row.sourced_id in self.roster.admin_orgs]
        for batch in chunks(ids):
            for role in StaffRole.objects.filter(person_id__in=batch, kind__in=[Role.LEADER, Role.ADMIN]):
                have.setdefault(role.person_id, {})[(role.kind, role.school_id, role.municipality_id)] = role
        tally = self.report.counts["staff_roles"]
        for row, person in rows:
            wanted: set[tuple[str, int | None, int]] = set()
            for org_id in self.roster.admin_orgs.get(row.sourced_id, []):
                if org_id in self.skipped_orgs:
                    continue
                municipality, school = self.org(row, org_id)
                if school is not None:
                    wanted.add((Role.LEADER.value, school.pk, municipality.pk))
                else:
                    wanted.add((Role.ADMIN.value, None, municipality.pk))
            mine = have.get(person.pk, {})
            for key in wanted - set(mine):
                StaffRole.objects.create(person=person, kind=key[0], school_id=key[1], municipality_id=key[2])
                tally.created += 1
            tally.unchanged += len(wanted & set(mine))
            if bulk:
                for key in set(mine) - wanted:
                    mine[key].delete()
                    tally.removed += 1

    def remove_roles(self) -> None:
        """Remove what each 1.2 ``roles.csv`` row marked tobedeleted names: an administrator role's
        leadership of the school (or the district's admin role), a teacher's teaching and a student's
        enrolments in the classes of that org. The person stays; ``users.csv`` deactivates people."""
        for row in self.roster.deleted_roles:
            user_id, org_id, role = row.get("userSourcedId"), row.get("orgSourcedId"), row.role
            person = self.people.get(user_id) or Person.objects.filter(source_id=user_id).values_list(
                "pk", flat=True).first()
            if person is None:
                self.warn(row, f"user {user_id!r} is not in the directory: nothing to remove")
                continue
            if not org_id or org_id in self.skipped_orgs:
                self.warn(row, f"org {org_id!r} is not one Trygg places people in: nothing to remove")
                continue
            try:
                municipality, school = self.org(row, org_id)
            except RosterError:
                self.warn(row, f"org {org_id!r} is not in orgs.csv or the directory: nothing to remove")
                continue
            if role in ADMINISTRATOR_ROLES_12:
                roles = StaffRole.objects.filter(person_id=person, municipality_id=municipality.pk)
                roles = (roles.filter(kind=Role.LEADER, school_id=school.pk) if school is not None
                         else roles.filter(kind=Role.ADMIN, school__isnull=True))
                self.report.counts["staff_roles"].removed += roles.delete()[0]
            elif role in ("student", "teacher"):
                classes = SchoolClass.objects.filter(school=school) if school is not None else \
                    SchoolClass.objects.filter(school__municipality=municipality)
                if role == "student":
                    self.report.counts["enrollments"].removed += Enrollment.objects.filter(
                        pupil_id=person, school_class__in=classes).delete()[0]
                else:
                    self.report.counts["teaching"].removed += TeachingAssignment.objects.filter(
                        teacher_id=person, school_class__in=classes).delete()[0]
            else:
                self.warn(row, f"a {role} role names no org-bound relation in Trygg (guardianships follow "
                               "agentSourcedIds in users.csv): nothing to remove")

    def _prefetch_people(self, sourced_ids: Iterable[str]) -> None:
        unknown = sorted({sid for sid in sourced_ids if sid and sid not in self.people})
        for batch in chunks(unknown):
            self.people.update(Person.objects.filter(source_id__in=batch).values_list("source_id", "pk"))

    def person_id(self, row: Row, sourced_id: str) -> int:
        found = self.people.get(sourced_id)
        if found is None:
            found = Person.objects.filter(source_id=sourced_id).values_list("pk", flat=True).first()
            if found is None:
                raise row.error(f"user {sourced_id!r} is not in users.csv or the directory")
            self.people[sourced_id] = found
        return found

    # guardianships ------------------------------------------------------------------------
    def import_guardianships(self) -> None:
        """Link guardians and pupils named on either side by ``agentSourcedIds``."""
        users = [r for r in self.roster.users if not r.to_be_deleted]
        by_id = {r.sourced_id: r for r in users}
        roles = {sid: r.role for sid, r in by_id.items()}
        pairs: dict[tuple[str, str], tuple[Row, bool]] = {}
        for row in users:
            if roles[row.sourced_id] in GUARDIAN_USER_ROLES:
                responsible = roles[row.sourced_id] != "relative" and parse_bool(row, RESPONSIBILITY_COLUMN, True)
                for pupil_id in row.ids("agentSourcedIds"):
                    if pupil_id not in self.deleted_users:
                        pairs[(row.sourced_id, pupil_id)] = (row, responsible)
        for row in users:
            if roles[row.sourced_id] != "student":
                continue
            for agent_id in row.ids("agentSourcedIds"):
                agent_role = roles.get(agent_id)
                if agent_role in GUARDIAN_USER_ROLES and (agent_id, row.sourced_id) not in pairs:
                    agent = by_id[agent_id]
                    responsible = agent_role != "relative" and parse_bool(agent, RESPONSIBILITY_COLUMN, True)
                    pairs[(agent_id, row.sourced_id)] = (agent, responsible)
        self._prefetch_people(pupil for _guardian, pupil in pairs)
        wanted: dict[tuple[int, int], tuple[Row, bool]] = {}
        for (guardian_sid, pupil_sid), (row, responsible) in pairs.items():
            guardian, pupil = self.person_id(row, guardian_sid), self.person_id(row, pupil_sid)
            if guardian == pupil:
                raise row.error("a person cannot be their own guardian")
            wanted[(guardian, pupil)] = (row, responsible)
        listed_guardians = [self.people[r.sourced_id] for r in users if roles[r.sourced_id] in GUARDIAN_USER_ROLES]
        existing: dict[tuple[int, int], tuple[int, bool]] = {}
        for batch in chunks(sorted(set(listed_guardians) | {g for g, _p in wanted})):
            for pk, guardian, pupil, responsible in Guardianship.objects.filter(guardian_id__in=batch).values_list(
                "pk", "guardian_id", "pupil_id", "parental_responsibility"
            ):
                existing[(guardian, pupil)] = (pk, responsible)
        tally = self.report.counts["guardianships"]
        new: list[Guardianship] = []
        flips: dict[bool, list[int]] = {True: [], False: []}
        for key, (_row, responsible) in wanted.items():
            if key not in existing:
                new.append(Guardianship(guardian_id=key[0], pupil_id=key[1], parental_responsibility=responsible))
                tally.created += 1
            elif existing[key][1] != responsible:
                flips[responsible].append(existing[key][0])
                tally.updated += 1
            else:
                tally.unchanged += 1
        for batch in chunks(new):
            Guardianship.objects.bulk_create(batch)
        for value, ids in flips.items():
            for batch in chunks(ids):
                Guardianship.objects.filter(pk__in=batch).update(parental_responsibility=value)
        if not self.roster.is_bulk("users.csv"):
            return
        listed = set(listed_guardians)
        stale = [pk for key, (pk, _r) in existing.items() if key[0] in listed and key not in wanted]
        for batch in chunks(stale):
            tally.removed += Guardianship.objects.filter(pk__in=batch).delete()[0]

    # classes ------------------------------------------------------------------------------
    def import_classes(self) -> None:
        rows = self.roster.classes
        existing: dict[str, SchoolClass] = {}
        for batch in chunks(r.sourced_id for r in rows):
            existing.update((c.source_id, c) for c in SchoolClass.objects.filter(source_id__in=batch))
        for row in rows:
            school_class = existing.get(row.sourced_id)
            if row.to_be_deleted:
                self.deleted_classes[row.sourced_id] = row.line
                if school_class is not None:
                    # The row stays: conversations, meetings and class lists hang on it.
                    self.report.counts["enrollments"].removed += Enrollment.objects.filter(
                        school_class=school_class).delete()[0]
                    self.report.counts["teaching"].removed += TeachingAssignment.objects.filter(
                        school_class=school_class).delete()[0]
                    self.report.counts["classes"].removed += 1
                else:
                    self.report.counts["classes"].skipped += 1
                self.tick("classes.csv")
                continue
            school = self.school(row, row.get("schoolSourcedId"))
            created = school_class is None
            if created:
                school_class = SchoolClass(source_id=row.sourced_id)
            changed = apply_changes(school_class, {"name": row.get("title")[:100],
                                              "grade": self.roster.grades[row.sourced_id], "school_id": school.pk})
            if created or changed:
                school_class.save()
            self.classes[row.sourced_id] = school_class.pk
            self.listed_class_ids.add(school_class.pk)
            self._count("classes", created, changed)
            self.tick("classes.csv")

    def class_id(self, row: Row, sourced_id: str) -> int:
        found = self.classes.get(sourced_id)
        if found is None:
            found = SchoolClass.objects.filter(source_id=sourced_id).values_list("pk", flat=True).first()
            if found is None:
                raise row.error(f"class {sourced_id!r} is not in classes.csv or the directory")
            self.classes[sourced_id] = found
        return found

    # enrollments --------------------------------------------------------------------------
    def _conflict(self, row: Row, user_sid: str, roles: dict[str, Row]) -> str | None:
        """Return why an enrolment contradicts the role ``users.csv`` gives the person, if it does."""
        user = roles.get(user_sid)
        if user is None or not user.role:
            return None
        allowed = {"student": ("student",), "teacher": ("teacher", "administrator")}[row.role]
        if user.role in allowed:
            return None
        return (f"not imported: user {user_sid!r} is a {user.role} in users.csv (line {user.line}) "
                f"but enrolled as {row.role}")

    def import_enrollments(self) -> None:
        rows = self.roster.enrollments
        users = {r.sourced_id: r for r in self.roster.users if not r.to_be_deleted}
        skipped = {sid: r for sid, r in users.items() if r.role in SKIPPED_USER_ROLES}
        unknown_classes = sorted({r.get("classSourcedId") for r in rows} - set(self.classes))
        for batch in chunks(unknown_classes):
            self.classes.update(SchoolClass.objects.filter(source_id__in=batch).values_list("source_id", "pk"))
        self._prefetch_people(r.get("userSourcedId") for r in rows)
        class_ids = set(self.listed_class_ids) | {self.classes[s] for s in
                                                  (r.get("classSourcedId") for r in rows) if s in self.classes}
        pupils: dict[tuple[int, int], int] = {}
        teachers: dict[tuple[int, int], tuple[int, str]] = {}
        for batch in chunks(sorted(class_ids)):
            for pk, person, klass in Enrollment.objects.filter(school_class_id__in=batch).values_list(
                    "pk", "pupil_id", "school_class_id"):
                pupils[(person, klass)] = pk
            for pk, person, klass, kind in TeachingAssignment.objects.filter(school_class_id__in=batch).values_list(
                    "pk", "teacher_id", "school_class_id", "kind"):
                teachers[(person, klass)] = (pk, kind)
        wanted_pupils: set[tuple[int, int]] = set()
        wanted_teachers: dict[tuple[int, int], str] = {}
        gone: dict[str, set[int]] = {"enrollments": set(), "teaching": set()}
        enrolled, teaching = self.report.counts["enrollments"], self.report.counts["teaching"]
        for row in rows:
            role = row.role
            if role not in ("student", "teacher"):
                enrolled.skipped += 1
                self.tick("enrollments.csv")
                continue
            tally = enrolled if role == "student" else teaching
            class_sid, user_sid = row.get("classSourcedId"), row.get("userSourcedId")
            deleted = (("class", class_sid, self.deleted_classes.get(class_sid), "classes.csv")
                       if class_sid in self.deleted_classes else
                       ("user", user_sid, self.deleted_users.get(user_sid), "users.csv")
                       if user_sid in self.deleted_users else None)
            if deleted or user_sid in skipped:
                if deleted and not row.to_be_deleted:
                    self.warn(row, f"not imported: {deleted[0]} {deleted[1]!r} is marked tobedeleted "
                                   f"on {deleted[3]} line {deleted[2]}")
                elif not deleted:
                    self.warn(row, f"not imported: user {user_sid!r} has the role {skipped[user_sid].role} in "
                                   f"users.csv (line {skipped[user_sid].line}), which Trygg does not import")
                tally.skipped += 1
                self.tick("enrollments.csv")
                continue
            key = (self.person_id(row, user_sid), self.class_id(row, class_sid))
            conflict = None if row.to_be_deleted else self._conflict(row, user_sid, users)
            if conflict:
                self.warn(row, conflict)
                tally.skipped += 1
            elif row.to_be_deleted or not is_current(row, self.today):
                existing = pupils.get(key) if role == "student" else teachers.get(key, (None, ""))[0]
                if existing is not None and key not in (wanted_pupils if role == "student" else wanted_teachers):
                    gone["enrollments" if role == "student" else "teaching"].add(existing)
                else:
                    tally.skipped += 1
            elif role == "student":
                if key not in wanted_pupils:
                    wanted_pupils.add(key)
                    self._count("enrollments", key not in pupils, False)
            else:
                kind = TeachingKind.CONTACT if parse_bool(row, "primary", False) else TeachingKind.SUBJECT
                if key not in wanted_teachers:
                    wanted_teachers[key] = kind
                    self._count("teaching", key not in teachers, key in teachers and teachers[key][1] != kind)
            self.tick("enrollments.csv")
        for batch in chunks(k for k in wanted_pupils if k not in pupils):
            Enrollment.objects.bulk_create([Enrollment(pupil_id=p, school_class_id=c) for p, c in batch])
        for batch in chunks(k for k in wanted_teachers if k not in teachers):
            TeachingAssignment.objects.bulk_create(
                [TeachingAssignment(teacher_id=p, school_class_id=c, kind=wanted_teachers[(p, c)]) for p, c in batch])
        for kind in (TeachingKind.CONTACT, TeachingKind.SUBJECT):
            changed = [teachers[k][0] for k, v in wanted_teachers.items() if v == kind and k in teachers
                       and teachers[k][1] != kind]
            for batch in chunks(changed):
                TeachingAssignment.objects.filter(pk__in=batch).update(kind=kind)
        if self.roster.is_bulk("enrollments.csv"):
            # A bulk file is the whole membership of the classes it lists: whoever it no longer
            # names has left. Classes only referred to (not listed in classes.csv) keep theirs.
            gone["enrollments"] |= {pk for k, pk in pupils.items()
                                    if k[1] in self.listed_class_ids and k not in wanted_pupils}
            gone["teaching"] |= {v[0] for k, v in teachers.items()
                                 if k[1] in self.listed_class_ids and k not in wanted_teachers}
        for what, model in (("enrollments", Enrollment), ("teaching", TeachingAssignment)):
            for batch in chunks(sorted(gone[what])):
                self.report.counts[what].removed += model.objects.filter(pk__in=batch).delete()[0]
