"""Reading a OneRoster CSV roster (1.1 or 1.2, bulk or delta) into checked rows, before any write.

What a school system's export may hold, and how it is read:

- ``manifest.csv`` (``propertyName,value``) names the version (``oneroster.version`` 1.0, 1.1 or
  1.2) and each file's mode (``file.orgs`` ``bulk``, ``delta`` or ``absent``). A delta feed marks
  unchanged files ``absent`` and does not ship them; they are not required. Without a manifest the
  four files of 1.1 (and ``roles.csv`` for 1.2) are required and read as bulk.
- 1.2 moved a user's role and organisations out of ``users.csv`` into ``roles.csv`` (one row per
  user, role and org, with ``roleType`` primary or secondary and its own dates): they are folded
  back onto the user's row, so the importer sees one shape.
- Only the columns Trygg reads are required; every other column of the standard is optional.
- Grades are CEDS codes: ``KG`` is grade 0 (0. klasse, børnehaveklasse), ``01``–``10`` grades
  1–10; ``PK``, ``TK``, ``PS``, ``IT``, ``PR``, ``UG``, ``Other``, grades 11–13 and an empty
  ``grades`` make a class without a grade, with a warning (electives, clubs and mixed groups are
  such classes). Pupils without a grade count as below every grade limit (R-CHAT-02).
- A row marked ``tobedeleted`` is checked for its ``sourcedId`` only: a system that deletes a
  class need not give it a valid grade first.

Every error names the file, the line (1 is the header) and the true reason; warnings are collected
with the same address and listed after the import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from trygg.errors import BadInput

FILES = ("orgs.csv", "users.csv", "classes.csv", "enrollments.csv")
ROLES_FILE = "roles.csv"
VERSIONS = ("1.0", "1.1", "1.2")
MODES = ("bulk", "delta", "absent")

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name", "type"),
    "users.csv": ("sourcedId", "orgSourcedIds", "role", "username", "givenName", "familyName"),
    "classes.csv": ("sourcedId", "title", "schoolSourcedId"),
    "enrollments.csv": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
}
REQUIRED_COLUMNS_12: dict[str, tuple[str, ...]] = {
    **REQUIRED_COLUMNS,
    "users.csv": ("sourcedId", "username", "givenName", "familyName"),
    ROLES_FILE: ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
}

MUNICIPALITY_ORG_TYPES = frozenset({"district", "local"})
# Above a municipality: Trygg has no place for them and skips them with a warning.
SKIPPED_ORG_TYPES = frozenset({"state", "national"})
ORG_TYPES = MUNICIPALITY_ORG_TYPES | SKIPPED_ORG_TYPES | {"school", "department"}

GUARDIAN_USER_ROLES = frozenset({"parent", "guardian", "relative"})
# Adults at school who are neither teachers nor leaders in Trygg's sense: not imported.
SKIPPED_USER_ROLES = frozenset({"aide", "proctor", "counselor", "systemadministrator"})
KNOWN_USER_ROLES = frozenset({"student", "teacher", "administrator"}) | GUARDIAN_USER_ROLES | SKIPPED_USER_ROLES
# 1.2's finer administrator roles: each leads the org it is given for (a school or a municipality).
ADMINISTRATOR_ROLES_12 = frozenset({"administrator", "districtadministrator", "siteadministrator", "principal"})
KNOWN_ENROLLMENT_ROLES = frozenset({"student", "teacher", "administrator", "aide", "guardian", "parent", "proctor"})
RESPONSIBILITY_COLUMN = "metadata.parentalResponsibility"
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})

# CEDS entry grade levels with no Nordic grade: infant/toddler, preschool, pre-kindergarten,
# transitional kindergarten, postsecondary, ungraded, other. Grades 11-13 are upper secondary.
GRADELESS_CODES = frozenset({"IT", "PR", "PK", "TK", "PS", "UG", "OTHER", "11", "12", "13"})
HIGHEST_GRADE = 10


class RosterError(BadInput):
    """A malformed roster: names the file, the line (1 is the header) and the reason."""

    code = "bad_roster"

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file} line {line}" if line else file
        super().__init__(f"{where}: {reason}", extra={"file": file, "line": line})


@dataclass(frozen=True)
class RosterWarning:
    """Something imported in a weaker form or left alone, with where it came from."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


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

    def warning(self, message: str) -> RosterWarning:
        return RosterWarning(self.file, self.line, message)

    @property
    def sourced_id(self) -> str:
        return self.get("sourcedId")

    @property
    def to_be_deleted(self) -> bool:
        return self.get("status").lower() == "tobedeleted"

    @property
    def role(self) -> str:
        return self.get("role").lower()


@dataclass
class Roster:
    orgs: list[Row] = field(default_factory=list)
    users: list[Row] = field(default_factory=list)
    classes: list[Row] = field(default_factory=list)
    enrollments: list[Row] = field(default_factory=list)
    roles: list[Row] = field(default_factory=list)
    version: str = "1.1"
    # file -> bulk / delta / absent
    modes: dict[str, str] = field(default_factory=dict)
    warnings: list[RosterWarning] = field(default_factory=list)
    # class sourcedId -> grade 0-10, or None for a class without a grade
    grades: dict[str, int | None] = field(default_factory=dict)
    # user sourcedId -> orgs where the user is an administrator (leader of a school, admin of a district)
    admin_orgs: dict[str, list[str]] = field(default_factory=dict)
    # 1.2: roles.csv rows marked tobedeleted, each removing the role it names
    deleted_roles: list[Row] = field(default_factory=list)

    @property
    def delta(self) -> frozenset[str]:
        return frozenset(f for f, mode in self.modes.items() if mode == "delta")

    def is_bulk(self, file: str) -> bool:
        return self.modes.get(file) == "bulk"

    def is_absent(self, file: str) -> bool:
        return self.modes.get(file, "absent") == "absent"

    @property
    def row_count(self) -> int:
        return len(self.orgs) + len(self.users) + len(self.classes) + len(self.enrollments)


def _decode(file: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(file, raw[: exc.start].count(b"\n") + 1, "not valid UTF-8") from exc


def read_rows(file: str, text: str, required: Iterable[str], hint: tuple[frozenset[str], str] | None = None
              ) -> list[Row]:
    """Parse one CSV file into rows; raise ``RosterError`` for a bad header or a ragged row.

    ``hint`` is (columns, text): the text is added to the error when one of those columns is missing.
    """
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
        extra = hint[1] if hint and hint[0] & set(missing) else ""
        raise RosterError(file, 1, f"missing column(s): {', '.join(missing)}{extra}")
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


@dataclass(frozen=True)
class Manifest:
    present: bool
    version: str | None
    modes: dict[str, str]


def read_manifest(directory: Path) -> Manifest:
    """Return the manifest's version and file modes; an absent manifest says nothing."""
    path = directory / "manifest.csv"
    if not path.is_file():
        return Manifest(False, None, {})
    text = _decode("manifest.csv", path.read_bytes())
    version: str | None = None
    modes: dict[str, str] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    for record in reader:
        if len(record) < 2:
            continue
        name, value = record[0].strip(), record[1].strip()
        if name == "oneroster.version":
            if value not in VERSIONS:
                raise RosterError("manifest.csv", reader.line_num,
                                  f"oneroster.version {value!r} is not supported (Trygg reads 1.0, 1.1 and 1.2)")
            version = value
        elif name.startswith("file."):
            mode = value.lower()
            if mode not in MODES:
                raise RosterError("manifest.csv", reader.line_num,
                                  f"{name} is {value!r}; a file is bulk, delta or absent")
            modes[name[len("file."):] + ".csv"] = mode
    return Manifest(True, version, modes)


def read_roster(directory: Path, today: date | None = None) -> Roster:
    """Read and check a OneRoster CSV roster (1.1 or 1.2, bulk or delta); raise ``RosterError`` if bad."""
    if not directory.is_dir():
        raise RosterError(str(directory), 0, "not a directory")
    manifest = read_manifest(directory)
    version = manifest.version or ("1.2" if (directory / ROLES_FILE).is_file() else "1.1")
    if version == "1.0":
        version = "1.1"  # the same four files and columns for what Trygg reads
    required = REQUIRED_COLUMNS_12 if version == "1.2" else REQUIRED_COLUMNS
    roster = Roster(version=version)
    for file in required:
        mode = manifest.modes.get(file)
        exists = (directory / file).is_file()
        if mode == "absent":
            if exists:
                roster.warnings.append(RosterWarning(file, 0, "manifest.csv marks it absent: not read"))
            roster.modes[file] = "absent"
        elif exists:
            roster.modes[file] = mode or "bulk"
        elif manifest.present and mode is None:
            roster.modes[file] = "absent"
        elif mode:
            raise RosterError(file, 0, f"file is missing, though manifest.csv marks it {mode}")
        else:
            raise RosterError(file, 0, "file is missing (without a manifest.csv every file is required; "
                                       "a delta feed marks the files it leaves out absent in manifest.csv)")
    for file, mode in roster.modes.items():
        if mode == "absent":
            continue
        hint = None
        if file == "users.csv" and version != "1.2":
            hint = (frozenset({"role", "orgSourcedIds"}),
                    " (a OneRoster 1.2 users.csv? Then roles.csv holds the roles and manifest.csv says "
                    "oneroster.version 1.2)")
        rows = read_rows(file, _decode(file, (directory / file).read_bytes()), required[file], hint)
        setattr(roster, {"orgs.csv": "orgs", "users.csv": "users", "classes.csv": "classes",
                         "enrollments.csv": "enrollments", ROLES_FILE: "roles"}[file], rows)
    today = today or date.today()
    if version == "1.2":
        _fold_roles(roster, today)
    else:
        for row in roster.users:
            if row.role == "administrator":
                roster.admin_orgs[row.sourced_id] = row.ids("orgSourcedIds")
    check_values(roster)
    return roster


def _fold_roles(roster: Roster, today: date) -> None:
    """Put each 1.2 user's primary role and orgs onto its ``users.csv`` row, as 1.1 has them."""
    by_user: dict[str, list[Row]] = {}
    for row in roster.roles:
        if row.to_be_deleted:
            roster.deleted_roles.append(row)
            continue
        role = row.role
        if role not in KNOWN_USER_ROLES and role not in ADMINISTRATOR_ROLES_12:
            raise row.error(f"unknown role {row.get('role')!r}")
        if row.get("roleType").lower() not in ("primary", "secondary"):
            raise row.error(f"roleType must be primary or secondary, not {row.get('roleType')!r}")
        if not row.get("orgSourcedId"):
            raise row.error("orgSourcedId is empty")
        if not is_current(row, today):
            continue
        by_user.setdefault(row.get("userSourcedId"), []).append(row)
    listed = {row.sourced_id for row in roster.users}
    for user_id, rows in by_user.items():
        if user_id not in listed and roster.modes.get("users.csv") == "bulk":
            raise rows[0].error(f"user {user_id!r} is not in users.csv")
    for user in roster.users:
        if user.to_be_deleted:
            continue
        rows = by_user.get(user.sourced_id)
        if not rows:
            if roster.is_absent(ROLES_FILE) or (not roster.is_bulk(ROLES_FILE) and any(
                    r.get("userSourcedId") == user.sourced_id for r in roster.deleted_roles)):
                # A delta that changes only the person's details, or that removes a role: the other
                # roles stay as they are.
                continue
            raise user.error("the user has no current role in roles.csv")
        primary = next((r for r in rows if r.get("roleType").lower() == "primary"), rows[0])
        role = "administrator" if primary.role in ADMINISTRATOR_ROLES_12 else primary.role
        user.values["role"] = role
        orgs = [r.get("orgSourcedId") for r in rows]
        user.values["orgSourcedIds"] = ",".join(dict.fromkeys([primary.get("orgSourcedId"), *orgs]))
        admin = [r.get("orgSourcedId") for r in rows if r.role in ADMINISTRATOR_ROLES_12]
        if admin:
            roster.admin_orgs[user.sourced_id] = admin


def parse_grade(row: Row) -> tuple[int | None, str | None]:
    """Return the class's Nordic grade 0-10 from its CEDS ``grades`` (the lowest of a list), or
    ``None`` with the warning to give for a class without a grade; raise for an unknown code."""
    values = row.ids("grades")
    if not values:
        return None, "grades is empty: imported as a class without a grade"
    grades: list[int] = []
    gradeless: list[str] = []
    for value in values:
        code = value.upper()
        if code == "KG":
            grades.append(0)
        elif code in GRADELESS_CODES or (code.isdigit() and int(code) in (11, 12, 13)):
            gradeless.append(value)
        elif code.isdigit() and int(code) <= HIGHEST_GRADE:
            grades.append(int(code))
        else:
            raise row.error(f"grade {value!r} is not a CEDS grade code (KG, 01-13, PK, TK, PS, UG, Other)")
    if grades:
        return min(grades), None
    return None, f"grade {', '.join(gradeless)} has no Nordic grade 0-10: imported as a class without a grade"


def parse_date(row: Row, column: str) -> date | None:
    value = row.get(column)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise row.error(f"{column} {value!r} is not a date (YYYY-MM-DD)") from None


def is_current(row: Row, today: date) -> bool:
    """Return whether ``today`` lies in ``[beginDate, endDate)`` (OneRoster's end is exclusive)."""
    begin, end = parse_date(row, "beginDate"), parse_date(row, "endDate")
    if begin and end and end < begin:
        raise row.error(f"endDate {end} is before beginDate {begin}")
    return (begin is None or begin <= today) and (end is None or today < end)


def parse_bool(row: Row, column: str, default: bool) -> bool:
    value = row.get(column).lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise row.error(f"{column} must be true or false, not {value!r}")


def check_values(roster: Roster) -> None:
    """Check what can be checked row by row before anything touches the database."""
    for row in roster.orgs:
        if row.to_be_deleted:
            continue
        if not row.get("name"):
            raise row.error("name is empty")
        kind = row.get("type").lower()
        if kind not in ORG_TYPES:
            raise row.error(f"unknown org type {row.get('type')!r} (OneRoster has district, local, school, "
                            "department, state and national)")
    usernames: dict[str, int] = {}
    for row in roster.users:
        if row.to_be_deleted:
            continue
        role = row.role
        if not role and roster.version != "1.2":
            raise row.error("role is empty")
        if role and role not in KNOWN_USER_ROLES:
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
        if role and not row.ids("orgSourcedIds"):
            raise row.error("orgSourcedIds is empty")
        parse_bool(row, "enabledUser", True)
        parse_bool(row, RESPONSIBILITY_COLUMN, True)
    for row in roster.classes:
        if row.to_be_deleted:
            continue
        if not row.get("title"):
            raise row.error("title is empty")
        if not row.get("schoolSourcedId"):
            raise row.error("schoolSourcedId is empty")
        grade, warning = parse_grade(row)
        roster.grades[row.sourced_id] = grade
        if warning:
            roster.warnings.append(row.warning(warning))
    for row in roster.enrollments:
        role = row.role
        if role not in KNOWN_ENROLLMENT_ROLES:
            raise row.error(f"unknown role {row.get('role')!r}")
        parse_bool(row, "primary", False)
        is_current(row, date.today())  # only to check the dates; the importer asks with its own day
