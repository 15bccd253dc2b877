"""Roster import from OneRoster 1.1 CSV: create, re-import, malformed files, guardians (issue 2, R-LIST-05)."""

from __future__ import annotations

import csv
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from trygg.audit.models import AuditRecord
from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Municipality,
    Person,
    School,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
)
from trygg.directory.queries import list_classes
from trygg.directory.roster import RosterError, check_import_roster

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]

ORG_COLUMNS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
USER_COLUMNS = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username",
                "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
                "agentSourcedIds", "grades", "password", "metadata.parentalResponsibility"]
CLASS_COLUMNS = ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
                 "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes",
                 "periods"]
ENROLLMENT_COLUMNS = ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
                      "userSourcedId", "role", "primary", "beginDate", "endDate"]


def org(sid: str, name: str, kind: str, parent: str = "") -> dict[str, str]:
    return {"sourcedId": sid, "name": name, "type": kind, "parentSourcedId": parent}


def user(sid: str, role: str, username: str, given: str, family: str, org_id: str = "fv-school",
         agents: str = "", **extra: str) -> dict[str, str]:
    return {"sourcedId": sid, "enabledUser": "true", "orgSourcedIds": org_id, "role": role, "username": username,
            "givenName": given, "familyName": family, "email": f"{username}@fjordvik.example",
            "agentSourcedIds": agents, **extra}


def klass(sid: str, title: str, grade: str, school: str = "fv-school") -> dict[str, str]:
    return {"sourcedId": sid, "title": title, "grades": grade, "classType": "homeroom", "schoolSourcedId": school}


def enrol(sid: str, class_id: str, user_id: str, role: str, primary: str = "false") -> dict[str, str]:
    return {"sourcedId": sid, "classSourcedId": class_id, "schoolSourcedId": "fv-school", "userSourcedId": user_id,
            "role": role, "primary": primary}


def roster_rows() -> dict[str, list[dict[str, str]]]:
    """A small municipality: one school, one class, two pupils, their adults."""
    return {
        "orgs.csv": [org("fv-k", "Fjordvik kommune", "district"), org("fv-school", "Fjordvik skole", "school", "fv-k")],
        "users.csv": [
            user("fv-admin", "administrator", "aud.admin", "Aud", "Admin", org_id="fv-k"),
            user("fv-leader", "administrator", "lise.leder", "Lise", "Leder"),
            user("fv-t1", "teacher", "tone.5a", "Tone", "Lærer"),
            user("fv-t2", "teacher", "per.5a", "Per", "Fag"),
            user("fv-p1", "student", "siri.5a", "Siri", "Strand"),
            user("fv-p2", "student", "odin.5a", "Odin", "Berg"),
            user("fv-g1", "parent", "mor.siri", "Mari", "Strand", agents="fv-p1"),
            user("fv-g2", "guardian", "far.siri", "Geir", "Strand", agents="fv-p1",
                 **{"metadata.parentalResponsibility": "false"}),
            user("fv-g3", "relative", "bestemor.odin", "Berit", "Berg", agents="fv-p2"),
            user("fv-g4", "parent", "mor.odin", "Mette", "Berg", agents="fv-p2"),
        ],
        "classes.csv": [klass("fv-5a", "5A", "05")],
        "enrollments.csv": [
            enrol("fv-e1", "fv-5a", "fv-t1", "teacher", "true"),
            enrol("fv-e2", "fv-5a", "fv-t2", "teacher"),
            enrol("fv-e3", "fv-5a", "fv-p1", "student"),
            enrol("fv-e4", "fv-5a", "fv-p2", "student"),
        ],
    }


COLUMNS = {"orgs.csv": ORG_COLUMNS, "users.csv": USER_COLUMNS, "classes.csv": CLASS_COLUMNS,
           "enrollments.csv": ENROLLMENT_COLUMNS}


def write_roster(directory: Path, rows: dict[str, list[dict[str, str]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for file, records in rows.items():
        with (directory / file).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS[file], restval="")
            writer.writeheader()
            writer.writerows(records)
    return directory


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        Municipality, School, SchoolClass, Person, Enrollment, TeachingAssignment, Guardianship, StaffRole)}


def test_import_creates_the_municipality_school_class_people_and_relations(tmp_path: Path) -> None:
    """A first import creates every row and relation the roster names, and counts them as created."""
    report = check_import_roster(write_roster(tmp_path, roster_rows()))

    assert report.counts["municipalities"].created == 1
    assert report.counts["schools"].created == 1
    assert report.counts["classes"].created == 1
    assert report.counts["people"].created == 10
    assert report.counts["enrollments"].created == 2
    assert report.counts["teaching"].created == 2
    assert report.counts["guardianships"].created == 4
    assert report.counts["staff_roles"].created == 2
    school_class = SchoolClass.objects.get(source_id="fv-5a")
    assert (school_class.name, school_class.grade, school_class.school.name) == ("5A", 5, "Fjordvik skole")
    assert school_class.school.municipality.name == "Fjordvik kommune"

    tone = Person.objects.get(username="tone.5a")
    assert tone.facts.contact_class_ids == {school_class.id}
    assert Person.objects.get(username="per.5a").facts.subject_class_ids == {school_class.id}
    assert Person.objects.get(username="siri.5a").facts.pupil_class_ids == {school_class.id}
    leader = Person.objects.get(username="lise.leder")
    assert leader.facts.led_school_ids == {school_class.school_id}
    assert leader.is_staff
    admin = Person.objects.get(username="aud.admin")
    assert admin.facts.admin_municipality_ids == {school_class.school.municipality_id}
    assert not tone.has_usable_password()  # passwords are never imported
    assert tone.language == "nb"
    assert AuditRecord.objects.filter(action="directory.roster_imported").count() == 1


def test_re_import_updates_a_changed_name_and_never_duplicates(tmp_path: Path) -> None:
    """Re-importing the same roster changes nothing; a changed name is updated in place, not added."""
    rows = roster_rows()
    check_import_roster(write_roster(tmp_path / "first", rows))
    before = counts()

    again = check_import_roster(write_roster(tmp_path / "second", rows))
    assert counts() == before
    assert again.total("created") == 0
    assert again.total("updated") == 0
    assert again.counts["people"].unchanged == 10

    rows["users.csv"][4]["givenName"] = "Sigrid"
    rows["classes.csv"][0]["grades"] = "06"
    changed = check_import_roster(write_roster(tmp_path / "third", rows))
    assert counts() == before
    assert changed.counts["people"].updated == 1
    assert changed.counts["classes"].updated == 1
    siri = Person.objects.get(source_id="fv-p1")
    assert siri.name == "Sigrid Strand"
    assert siri.username == "siri.5a"
    assert SchoolClass.objects.get(source_id="fv-5a").grade == 6


def test_a_pupil_missing_from_a_bulk_re_import_has_left_the_class(tmp_path: Path) -> None:
    """A bulk enrollments file is the class's whole membership: a pupil it no longer lists is removed."""
    rows = roster_rows()
    check_import_roster(write_roster(tmp_path / "first", rows))
    rows["enrollments.csv"] = [e for e in rows["enrollments.csv"] if e["userSourcedId"] != "fv-p2"]
    report = check_import_roster(write_roster(tmp_path / "second", rows))
    assert report.counts["enrollments"].removed == 1
    odin = Person.objects.get(source_id="fv-p2")
    assert odin.is_active  # the person stays; only the membership ends
    assert not Enrollment.objects.filter(pupil=odin).exists()


BAD_INPUT = [
    pytest.param("enrollments.csv", lambda r: r["enrollments.csv"].append(enrol("fv-e9", "fv-5a", "nobody",
                                                                                "student")),
                 6, "user 'nobody' is not in users.csv", id="unknown-user-in-last-file"),
    pytest.param("users.csv", lambda r: r["users.csv"][2].update(role="janitor"), 4, "unknown role 'janitor'",
                 id="unknown-role"),
    pytest.param("classes.csv", lambda r: r["classes.csv"][0].update(grades="5th"), 2,
                 "grade '5th' is not a CEDS grade code", id="grade-not-a-ceds-code"),
    pytest.param("users.csv", lambda r: r["users.csv"][3].update(sourcedId="fv-t1"), 5,
                 "sourcedId 'fv-t1' already used on line 4", id="duplicate-sourced-id"),
    pytest.param("users.csv", lambda r: r["users.csv"][1].update(username="kari.4a"), 3,
                 "username 'kari.4a' belongs to another person", id="username-of-a-demo-account"),
    pytest.param("orgs.csv", lambda r: r["orgs.csv"][1].update(parentSourcedId="atlantis"), 3,
                 "parentSourcedId 'atlantis'", id="school-without-municipality"),
    pytest.param("enrollments.csv", lambda r: r["enrollments.csv"][0].update(primary="maybe"), 2,
                 "primary must be true or false", id="bad-boolean"),
]


@pytest.mark.parametrize("bad_file,damage,line,reason", BAD_INPUT)
def test_a_malformed_roster_names_file_line_and_reason_and_writes_nothing(
    tmp_path: Path, bad_file: str, damage: object, line: int, reason: str
) -> None:
    """A bad row anywhere, even in the last file read, aborts the import: nothing at all is written."""
    rows = roster_rows()
    damage(rows)
    before = counts()
    with pytest.raises(RosterError) as caught:
        check_import_roster(write_roster(tmp_path, rows))
    assert (caught.value.file, caught.value.line) == (bad_file, line)
    assert reason in caught.value.reason
    assert f"{bad_file} line {line}" in str(caught.value.message)
    assert counts() == before
    assert not Municipality.objects.filter(source_id="fv-k").exists()
    assert not AuditRecord.objects.filter(action="directory.roster_imported").exists()


def test_a_ragged_row_a_missing_column_and_bad_encoding_are_refused(tmp_path: Path) -> None:
    """Broken CSV (a row with too few fields, a missing required column, invalid UTF-8) names file and line."""
    write_roster(tmp_path, roster_rows())
    users = tmp_path / "users.csv"
    good = users.read_bytes()

    users.write_bytes(good + b"fv-x,,,true,fv-school,student\n")
    with pytest.raises(RosterError) as caught:
        check_import_roster(tmp_path)
    assert (caught.value.file, caught.value.line) == ("users.csv", 12)
    assert "expected 19 fields, found 6" in caught.value.reason

    users.write_bytes(good.replace(b"username,", b"login,", 1))
    with pytest.raises(RosterError) as caught:
        check_import_roster(tmp_path)
    assert (caught.value.line, caught.value.reason) == (1, "missing column(s): username")

    lines = good.split(b"\n")
    lines[5] = lines[5].replace(b"Siri", b"S\xffri")
    users.write_bytes(b"\n".join(lines))
    with pytest.raises(RosterError) as caught:
        check_import_roster(tmp_path)
    assert (caught.value.line, caught.value.reason) == (6, "not valid UTF-8")

    (tmp_path / "classes.csv").unlink()
    with pytest.raises(RosterError) as caught:
        check_import_roster(tmp_path)
    assert caught.value.file == "classes.csv"
    assert caught.value.reason.startswith("file is missing")
    assert not Municipality.objects.filter(source_id="fv-k").exists()


def test_r_list_05_a_guardian_without_parental_responsibility_sees_nothing_about_the_child(
    tmp_path: Path, api_client: object
) -> None:
    """A `relative`, or a parent marked metadata.parentalResponsibility=false, is linked without parental
    responsibility: a guardian by role, but no child and no class (the protected-address incident)."""
    check_import_roster(write_roster(tmp_path, roster_rows()))
    siri = Person.objects.get(source_id="fv-p1")

    mother = Person.objects.get(username="mor.siri")
    assert Guardianship.objects.get(guardian=mother, pupil=siri).parental_responsibility
    assert mother.facts.child_ids == {siri.id}
    assert [c.name for c in list_classes(mother)] == ["5A"]

    for username in ("far.siri", "bestemor.odin"):
        adult = Person.objects.get(username=username)
        assert not Guardianship.objects.get(guardian=adult).parental_responsibility
        assert "guardian" in adult.facts.roles
        assert adult.facts.child_ids == frozenset()
        assert list(list_classes(adult)) == []
        assert api_client(username).get("/api/v1/classes").json() == []


def test_losing_parental_responsibility_in_a_re_import_takes_effect(tmp_path: Path) -> None:
    """A parent whose responsibility the roster withdraws is updated in place and loses sight of the child."""
    rows = roster_rows()
    check_import_roster(write_roster(tmp_path / "first", rows))
    rows["users.csv"][9]["metadata.parentalResponsibility"] = "false"
    report = check_import_roster(write_roster(tmp_path / "second", rows))
    assert report.counts["guardianships"].updated == 1
    assert Person.objects.get(username="mor.odin").facts.child_ids == frozenset()


def _subprocess_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # A fresh SQLite database of its own: the command migrates it, as on a new server.
    for key in ("DATABASE_URL", "REDIS_URL", "TRYGG_TEST_DB_NAME"):
        env.pop(key, None)
    env["TRYGG_DATA_DIR"] = str(data_dir)
    return env


def test_the_command_draws_a_progress_bar_on_a_terminal_and_reports_counts(tmp_path: Path) -> None:
    """`trygg import-roster DIR` on a terminal draws a progress bar, then prints the counts; re-running
    creates nothing; a malformed roster exits non-zero naming file and line."""
    roster = write_roster(tmp_path / "roster", roster_rows())
    env = _subprocess_env(tmp_path / "data")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "trygg.cli", "import-roster", str(roster)], env=env,
                              cwd=REPO, stdout=follower, stderr=subprocess.PIPE, timeout=120)
        os.close(follower)
        follower = -1
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    text = output.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "\r[" in text and "] 100% 17/17" in text
    assert "23 created, 0 updated" in text

    piped = subprocess.run([sys.executable, "-m", "trygg.cli", "import-roster", str(roster)], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "\r[" not in piped.stdout  # no bar when stdout is not a terminal
    assert "0 created, 0 updated, 0 skipped, 0 removed" in piped.stdout

    (roster / "enrollments.csv").write_text((roster / "enrollments.csv").read_text() + "fv-e9,,,fv-5a,fv-school,"
                                            "ghost,student,false,,\n")
    bad = subprocess.run([sys.executable, "-m", "trygg.cli", "import-roster", str(roster)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "enrollments.csv line 6: user 'ghost' is not in users.csv or the directory" in bad.stderr
    assert "Nothing was imported." in bad.stderr


def test_a_danish_roster_makes_danish_speaking_people(tmp_path: Path) -> None:
    """With --country DK the new municipality is Danish and its people get Danish as their language."""
    report = check_import_roster(write_roster(tmp_path, roster_rows()), country="DK")
    assert report.counts["people"].created == 10
    assert Municipality.objects.get(source_id="fv-k").country == "DK"
    assert Person.objects.get(username="siri.5a").language == "da"
