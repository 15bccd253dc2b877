"""Generate a municipality-sized OneRoster 1.1 roster, and a delta feed on top of it (issue 18).

The default is the size of a mid-sized Nordic municipality: 50 schools, 20,000 pupils, 35,000
guardians, a contact teacher and two subject teachers per class, a leader per school and a
municipality admin. Each school has two classes per grade 1–10 and one club without a grade
(CEDS ``Other``), so a bulk import also carries gradeless classes and their warnings. Everything is
deterministic: the same arguments write the same bytes. Standard library only.

``write_bulk(directory, ...)`` writes the bulk set; ``write_delta(directory, ...)`` writes a delta
(manifest marks orgs and classes absent) that adds pupils with guardians, renames people, moves
pupils between classes, and deletes pupils: the rows a school system sends after a week.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

ORG = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
USER = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username", "userIds",
        "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
        "password"]
CLASS = ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType",
         "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"]
ENROLMENT = ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role",
             "primary", "beginDate", "endDate"]
GIVEN = ["Emma", "Noah", "Sara", "Jonas", "Nora", "Oliver", "Ida", "Lucas", "Ella", "Filip", "Maja", "Emil", "Sofie",
         "Isak", "Ingrid", "Aksel", "Frida", "William", "Astrid", "Magnus"]
FAMILY = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
          "Karlsen", "Berg", "Haugen", "Hagen", "Dahl", "Lund", "Strand", "Moen", "Bakken", "Vik", "Lie"]
STAMP = "2026-11-01T00:00:00Z"


@dataclass(frozen=True)
class Size:
    schools: int = 50
    pupils: int = 20_000
    guardians: int = 35_000

    @property
    def classes_per_school(self) -> int:
        return 20  # two per grade 1-10

    @property
    def pupils_per_school(self) -> int:
        return self.pupils // self.schools


def _name(n: int) -> tuple[str, str]:
    return GIVEN[n % len(GIVEN)], FAMILY[(n // len(GIVEN)) % len(FAMILY)]


def school_of(size: Size, pupil: int) -> int:
    return min(pupil // size.pupils_per_school, size.schools - 1)


def class_of(size: Size, pupil: int) -> str:
    school = school_of(size, pupil)
    return f"gen-c{school}-{pupil % size.classes_per_school}"


def _guardians_of(size: Size, pupil: int) -> list[str]:
    """Pupils 0..k-1 have two guardians, the rest one, so the total is ``size.guardians``."""
    two = size.guardians - size.pupils
    if pupil < two:
        return [f"gen-g{2 * pupil}", f"gen-g{2 * pupil + 1}"]
    return [f"gen-g{two + pupil}"]


class _Writer:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.handles: dict[str, object] = {}
        self.writers: dict[str, csv.DictWriter] = {}

    def row(self, file: str, columns: list[str], values: dict[str, str]) -> None:
        if file not in self.writers:
            handle = (self.directory / file).open("w", newline="", encoding="utf-8")
            self.handles[file] = handle
            self.writers[file] = csv.DictWriter(handle, fieldnames=columns, restval="")
            self.writers[file].writeheader()
        self.writers[file].writerow({"dateLastModified": STAMP, "status": "active", **values})

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()  # type: ignore[attr-defined]


def _pupil(writer: _Writer, size: Size, n: int) -> None:
    given, family = _name(n)
    school = school_of(size, n)
    writer.row("users.csv", USER, {
        "sourcedId": f"gen-p{n}", "enabledUser": "true", "orgSourcedIds": f"gen-s{school}", "role": "student",
        "username": f"p{n}.gen", "givenName": given, "familyName": family,
        "agentSourcedIds": ",".join(_guardians_of(size, n))})


def _guardian(writer: _Writer, size: Size, sourced_id: str, pupil: int) -> None:
    given, family = _name(int(sourced_id[len("gen-g"):]) + 7)
    writer.row("users.csv", USER, {
        "sourcedId": sourced_id, "enabledUser": "true", "orgSourcedIds": f"gen-s{school_of(size, pupil)}",
        "role": "parent", "username": f"{sourced_id[4:]}.gen", "givenName": given, "familyName": family,
        "email": f"{sourced_id[4:]}@foresatt.example", "agentSourcedIds": f"gen-p{pupil}"})


def write_bulk(directory: Path, size: Size = Size()) -> Path:
    """Write the bulk roster of a whole municipality into ``directory``; return it."""
    writer = _Writer(directory)
    writer.row("orgs.csv", ORG, {"sourcedId": "gen-k", "name": "Generert kommune", "type": "district"})
    for s in range(size.schools):
        writer.row("orgs.csv", ORG, {"sourcedId": f"gen-s{s}", "name": f"Skole {s}", "type": "school",
                                     "parentSourcedId": "gen-k"})
    writer.row("users.csv", USER, {"sourcedId": "gen-admin", "enabledUser": "true", "orgSourcedIds": "gen-k",
                                   "role": "administrator", "username": "admin.gen", "givenName": "Kommune",
                                   "familyName": "Admin"})
    for s in range(size.schools):
        writer.row("users.csv", USER, {"sourcedId": f"gen-l{s}", "enabledUser": "true", "orgSourcedIds": f"gen-s{s}",
                                       "role": "administrator", "username": f"l{s}.gen", "givenName": "Rektor",
                                       "familyName": f"Skole{s}"})
        for c in range(size.classes_per_school):
            for t in range(3):
                given, family = _name(s * 100 + c * 3 + t)
                writer.row("users.csv", USER, {
                    "sourcedId": f"gen-t{s}-{c}-{t}", "enabledUser": "true", "orgSourcedIds": f"gen-s{s}",
                    "role": "teacher", "username": f"t{s}-{c}-{t}.gen", "givenName": given, "familyName": family})
    for n in range(size.pupils):
        _pupil(writer, size, n)
        for guardian in _guardians_of(size, n):
            _guardian(writer, size, guardian, n)
    for s in range(size.schools):
        for c in range(size.classes_per_school):
            grade = c // 2 + 1
            writer.row("classes.csv", CLASS, {"sourcedId": f"gen-c{s}-{c}", "title": f"{grade}{'AB'[c % 2]}",
                                              "grades": f"{grade:02d}", "classType": "homeroom",
                                              "schoolSourcedId": f"gen-s{s}"})
            for t in range(3):
                writer.row("enrollments.csv", ENROLMENT, {
                    "sourcedId": f"gen-e-t{s}-{c}-{t}", "classSourcedId": f"gen-c{s}-{c}",
                    "schoolSourcedId": f"gen-s{s}", "userSourcedId": f"gen-t{s}-{c}-{t}", "role": "teacher",
                    "primary": "true" if t == 0 else "false"})
        writer.row("classes.csv", CLASS, {"sourcedId": f"gen-club{s}", "title": "Sjakklubb", "grades": "Other",
                                          "classType": "scheduled", "schoolSourcedId": f"gen-s{s}"})
    for n in range(size.pupils):
        writer.row("enrollments.csv", ENROLMENT, {
            "sourcedId": f"gen-e-p{n}", "classSourcedId": class_of(size, n), "schoolSourcedId":
            f"gen-s{school_of(size, n)}", "userSourcedId": f"gen-p{n}", "role": "student", "primary": "false",
            "beginDate": "2026-08-17"})
        if n % 20 == 0:
            writer.row("enrollments.csv", ENROLMENT, {
                "sourcedId": f"gen-e-club{n}", "classSourcedId": f"gen-club{school_of(size, n)}",
                "schoolSourcedId": f"gen-s{school_of(size, n)}", "userSourcedId": f"gen-p{n}", "role": "student"})
    writer.close()
    return directory


def write_delta(directory: Path, size: Size = Size(), new: int = 200, renamed: int = 500, moved: int = 300,
                deleted: int = 100) -> Path:
    """Write a delta feed on top of ``write_bulk(size)``: ``new`` pupils (with one new guardian each),
    ``renamed`` guardians, ``moved`` pupils to the next class, ``deleted`` pupils marked tobedeleted."""
    writer = _Writer(directory)
    step = max(size.pupils // max(renamed + moved + deleted, 1), 1)
    for i in range(new):
        n = size.pupils + i
        pupil_school = i % size.schools
        given, family = _name(n)
        writer.row("users.csv", USER, {
            "sourcedId": f"gen-p{n}", "enabledUser": "true", "orgSourcedIds": f"gen-s{pupil_school}",
            "role": "student", "username": f"p{n}.gen", "givenName": given, "familyName": family,
            "agentSourcedIds": f"gen-gnew{i}"})
        writer.row("users.csv", USER, {
            "sourcedId": f"gen-gnew{i}", "enabledUser": "true", "orgSourcedIds": f"gen-s{pupil_school}",
            "role": "guardian", "username": f"gnew{i}.gen", "givenName": "Ny", "familyName": family,
            "agentSourcedIds": f"gen-p{n}"})
        writer.row("enrollments.csv", ENROLMENT, {
            "sourcedId": f"gen-e-p{n}", "classSourcedId": f"gen-c{pupil_school}-{i % size.classes_per_school}",
            "schoolSourcedId": f"gen-s{pupil_school}", "userSourcedId": f"gen-p{n}", "role": "student",
            "beginDate": "2026-11-30"})
    picks = iter(range(0, size.pupils, step))
    for _ in range(renamed):
        n = next(picks)
        guardian = _guardians_of(size, n)[0]
        writer.row("users.csv", USER, {
            "sourcedId": guardian, "enabledUser": "true", "orgSourcedIds": f"gen-s{school_of(size, n)}",
            "role": "parent", "username": f"{guardian[4:]}.gen", "givenName": "Endret", "familyName": "Navn",
            "agentSourcedIds": f"gen-p{n}"})
    for _ in range(moved):
        n = next(picks)
        school = school_of(size, n)
        target = f"gen-c{school}-{(n + 1) % size.classes_per_school}"
        writer.row("enrollments.csv", ENROLMENT, {
            "sourcedId": f"gen-e-p{n}", "status": "tobedeleted", "classSourcedId": class_of(size, n),
            "schoolSourcedId": f"gen-s{school}", "userSourcedId": f"gen-p{n}", "role": "student"})
        writer.row("enrollments.csv", ENROLMENT, {
            "sourcedId": f"gen-e-p{n}-moved", "classSourcedId": target, "schoolSourcedId": f"gen-s{school}",
            "userSourcedId": f"gen-p{n}", "role": "student", "beginDate": "2026-11-30"})
    for _ in range(deleted):
        n = next(picks)
        writer.row("users.csv", USER, {"sourcedId": f"gen-p{n}", "status": "tobedeleted"})
    writer.close()
    with (directory / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerows([["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.1"],
                       ["file.orgs", "absent"], ["file.users", "delta"], ["file.classes", "absent"],
                       ["file.enrollments", "delta"], ["source.systemName", "trygg roster generator"]])
    return directory
