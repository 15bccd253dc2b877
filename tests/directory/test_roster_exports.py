"""Rosters as school systems export them (issue 18): OneRoster 1.1 and 1.2, bulk and delta, CEDS
grades, departments, tobedeleted rows, dates and conflicting roles. Every fixture is written here.

R-CHAT-02 (pupils without a grade count as below the grade limit), R-I18N-01 (Danish 0. klasse).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.directory.test_roster import REPO, _subprocess_env, counts, enrol, klass, org, roster_rows, user
from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Municipality,
    Person,
    School,
    SchoolClass,
    TeachingAssignment,
)
from trygg.directory.roster import RosterError, check_import_roster

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 30)

ORG_11 = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
USER_11 = ["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username", "userIds",
           "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds",
           "grades", "password", "metadata.parentalResponsibility"]
CLASS_11 = ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode",
            "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"]
ENROL_11 = ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId",
            "role", "primary", "beginDate", "endDate"]
# 1.2: role and orgs leave users.csv for roles.csv; a few new person columns arrive.
USER_12 = ["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName",
           "familyName", "middleName", "preferredFirstName", "preferredMiddleName", "preferredLastName",
           "pronouns", "userMasterIdentifier", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades",
           "password", "primaryOrgSourcedId", "resourceSourcedIds"]
ROLE_12 = ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate", "endDate",
           "orgSourcedId", "userProfileSourcedId"]
COLUMNS_11 = {"orgs.csv": ORG_11, "users.csv": USER_11, "classes.csv": CLASS_11, "enrollments.csv": ENROL_11}


def write(directory: Path, rows: dict[str, list[dict[str, str]]], columns: dict[str, list[str]] | None = None,
          manifest: dict[str, str] | None = None) -> Path:
    """Write the files of ``rows`` (only those), and a manifest.csv when ``manifest`` is given."""
    columns = {**COLUMNS_11, **(columns or {})}
    directory.mkdir(parents=True, exist_ok=True)
    for file, records in rows.items():
        with (directory / file).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns[file], restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(records)
    if manifest is not None:
        with (directory / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["propertyName", "value"])
            writer.writerows(manifest.items())
    return directory


def delta_manifest(version: str = "1.1", **modes: str) -> dict[str, str]:
    files = {"orgs": "absent", "users": "absent", "classes": "absent", "enrollments": "absent", **modes}
    return {"manifest.version": "1.0", "oneroster.version": version,
            **{f"file.{name}": mode for name, mode in files.items()}}


def messages(report: object) -> list[str]:
    return [str(w) for w in report.warnings]  # type: ignore[attr-defined]


# --- grades --------------------------------------------------------------------------------


def test_r_i18n_01_kg_is_grade_0_and_pk_empty_and_other_grades_make_classes_without_a_grade(tmp_path: Path) -> None:
    """A municipality-wide file with a KG class, a PK class, an elective with empty grades, an 'Other'
    club and an upper-secondary 11 is imported whole: KG is grade 0 (Danish 0. klasse), the rest are
    classes without a grade, each named in a warning."""
    rows = roster_rows()
    rows["classes.csv"] += [klass("fv-0a", "0A", "KG"), klass("fv-pk", "Førskole", "PK"),
                            klass("fv-valg", "Valgfag drama", ""), klass("fv-klubb", "Sjakklubb", "Other"),
                            klass("fv-vg1", "VG1", "11"), klass("fv-mix", "1-2 blandet", "KG,01,PK")]
    report = check_import_roster(write(tmp_path, rows), country="DK", today=TODAY)

    grades = dict(SchoolClass.objects.filter(source_id__startswith="fv-").values_list("source_id", "grade"))
    assert grades == {"fv-5a": 5, "fv-0a": 0, "fv-pk": None, "fv-valg": None, "fv-klubb": None, "fv-vg1": None,
                      "fv-mix": 0}
    warned = messages(report)
    assert "classes.csv line 4: grade PK has no Nordic grade 0-10: imported as a class without a grade" in warned
    assert "classes.csv line 5: grades is empty: imported as a class without a grade" in warned
    assert any(w.startswith("classes.csv line 6: grade Other") for w in warned)
    assert any(w.startswith("classes.csv line 7: grade 11") for w in warned)
    assert len(warned) == 4


def test_r_chat_02_pupils_without_a_grade_count_as_below_the_limit(tmp_path: Path, api_client: object) -> None:
    """Two pupils who share only a club without a grade cannot start a pupil–pupil chat (not knowing
    their grade must not open it); two pupils of grade 9 can (the limit is 8)."""
    rows = roster_rows()
    rows["users.csv"] += [user("fv-p3", "student", "ida.9a", "Ida", "Lie"), user("fv-p4", "student", "jon.9a",
                                                                                   "Jon", "Lie")]
    rows["classes.csv"] += [klass("fv-club", "Sjakklubb", "Other"), klass("fv-9a", "9A", "09")]
    rows["enrollments.csv"] += [enrol("fv-e5", "fv-club", "fv-p1", "student"),
                                enrol("fv-e6", "fv-club", "fv-p2", "student"),
                                enrol("fv-e7", "fv-9a", "fv-p3", "student"),
                                enrol("fv-e8", "fv-9a", "fv-p4", "student")]
    rows["enrollments.csv"] = [e for e in rows["enrollments.csv"] if e["classSourcedId"] != "fv-5a"
                               or e["role"] == "teacher"]
    check_import_roster(write(tmp_path, rows), today=TODAY)
    assert Person.objects.get(username="siri.5a").facts.grade is None

    refused = api_client("siri.5a").post("/api/v1/conversations", {"kind": "direct", "member_usernames": ["odin.5a"]},
                                         content_type="application/json")
    assert refused.status_code == 403
    assert "min_grade" in refused.json().get("params", {}) or "8" in refused.json()["message"]
    allowed = api_client("ida.9a").post("/api/v1/conversations", {"kind": "direct", "member_usernames": ["jon.9a"]},
                                        content_type="application/json")
    assert allowed.status_code in (200, 201), allowed.content


def test_a_class_with_an_unknown_grade_code_names_the_code(tmp_path: Path) -> None:
    """A grade that is no CEDS code is a real error, and says which codes are meant."""
    rows = roster_rows()
    rows["classes.csv"][0]["grades"] = "fifth"
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, rows), today=TODAY)
    assert (caught.value.file, caught.value.line) == ("classes.csv", 2)
    assert "not a CEDS grade code" in caught.value.reason


# --- orgs ----------------------------------------------------------------------------------


def test_a_school_without_parent_belongs_to_the_one_district_of_the_file(tmp_path: Path) -> None:
    """parentSourcedId is optional: with one district in orgs.csv, the school belongs to it."""
    rows = roster_rows()
    rows["orgs.csv"][1]["parentSourcedId"] = ""
    check_import_roster(write(tmp_path, rows), today=TODAY)
    assert School.objects.get(source_id="fv-school").municipality.source_id == "fv-k"


def test_a_school_without_parent_among_two_districts_says_so(tmp_path: Path) -> None:
    rows = roster_rows()
    rows["orgs.csv"][1]["parentSourcedId"] = ""
    rows["orgs.csv"].append(org("nb-k", "Nabo kommune", "district"))
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, rows), today=TODAY)
    assert (caught.value.file, caught.value.line) == ("orgs.csv", 3)
    assert "parentSourcedId is empty and orgs.csv holds 2 district orgs" in caught.value.reason


def test_a_department_places_its_people_and_classes_in_its_school_and_a_state_org_is_skipped(tmp_path: Path) -> None:
    """A department is part of its school (people and classes in it land there); a state org above the
    district is skipped with a warning, and naming it as someone's only org says what it is."""
    rows = roster_rows()
    rows["orgs.csv"] = [org("fv-state", "Region Syd", "state"), org("fv-k", "Fjordvik kommune", "district",
                                                                     "fv-state"),
                        org("fv-school", "Fjordvik skole", "school", "fv-k"),
                        org("fv-mellom", "Mellomtrinnet", "department", "fv-school")]
    rows["users.csv"][2]["orgSourcedIds"] = "fv-mellom"
    rows["classes.csv"][0]["schoolSourcedId"] = "fv-mellom"
    report = check_import_roster(write(tmp_path, rows), today=TODAY)
    assert SchoolClass.objects.get(source_id="fv-5a").school.source_id == "fv-school"
    assert Person.objects.get(username="tone.5a").municipality.source_id == "fv-k"
    assert "orgs.csv line 2: a state org has no place in Trygg (it holds municipalities): skipped" in messages(report)

    rows["users.csv"][3]["orgSourcedIds"] = "fv-state"
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path / "again", rows), today=TODAY)
    assert (caught.value.file, caught.value.line) == ("users.csv", 5)
    assert "org 'fv-state' is a state org (orgs.csv line 2), which Trygg skips" in caught.value.reason


def test_a_delta_without_orgs_csv_places_a_class_of_a_stored_department_in_its_school(tmp_path: Path) -> None:
    """Departments are stored: a later delta that does not ship orgs.csv (the manifest marks it absent)
    still places a new class and a new teacher named by the department in its school."""
    rows = roster_rows()
    rows["orgs.csv"].append(org("fv-ung", "Ungdomstrinnet", "department", "fv-school"))
    check_import_roster(write(tmp_path / "bulk", rows), today=TODAY)

    delta = {
        "users.csv": [user("fv-t9", "teacher", "kai.8a", "Kai", "Lund", org_id="fv-ung")],
        "classes.csv": [klass("fv-8a", "8A", "08", school="fv-ung")],
        "enrollments.csv": [enrol("fv-e90", "fv-8a", "fv-t9", "teacher", primary="true")],
    }
    report = check_import_roster(write(tmp_path / "delta", delta, manifest=delta_manifest(
        users="delta", classes="delta", enrollments="delta")), today=TODAY)

    school = School.objects.get(source_id="fv-school")
    assert SchoolClass.objects.get(source_id="fv-8a").school == school
    assert Person.objects.get(username="kai.8a").municipality_id == school.municipality_id
    assert TeachingAssignment.objects.filter(school_class__source_id="fv-8a", teacher__username="kai.8a").exists()
    assert report.counts["classes"].created == 1


def test_an_unknown_org_type_is_named(tmp_path: Path) -> None:
    rows = roster_rows()
    rows["orgs.csv"][1]["type"] = "campus"
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, rows), today=TODAY)
    assert (caught.value.line, caught.value.reason.split(" (")[0]) == (3, "unknown org type 'campus'")


# --- tobedeleted ---------------------------------------------------------------------------


def test_r_priv_01_tobedeleted_rows_remove_what_they_name_and_are_not_checked_beyond_their_id(
    tmp_path: Path
) -> None:
    """A tobedeleted class (with a grade nobody checks) loses its pupils and teachers; a tobedeleted user
    is deactivated and loses every relation, so they see nothing any more (R-PRIV-01); an enrolment into
    the deleted class is reported with the line that deleted it, not as 'not in classes.csv'."""
    rows = roster_rows()
    rows["classes.csv"].append(klass("fv-6a", "6A", "06"))
    rows["enrollments.csv"].append(enrol("fv-e5", "fv-6a", "fv-p2", "student"))
    check_import_roster(write(tmp_path / "first", rows), today=TODAY)
    assert Enrollment.objects.filter(school_class__source_id="fv-6a").count() == 1

    rows["classes.csv"][1].update(status="tobedeleted", grades="nonsense", title="")
    rows["users.csv"][9].update(status="tobedeleted")  # mor.odin leaves
    report = check_import_roster(write(tmp_path / "second", rows), today=TODAY)

    assert SchoolClass.objects.filter(source_id="fv-6a").exists()  # kept: conversations hang on it
    assert not Enrollment.objects.filter(school_class__source_id="fv-6a").exists()
    assert report.counts["classes"].removed == 1
    assert "enrollments.csv line 6: not imported: class 'fv-6a' is marked tobedeleted on classes.csv line 3" in \
        messages(report)
    mother = Person.objects.get(username="mor.odin")
    assert not mother.is_active
    assert not Guardianship.objects.filter(guardian=mother).exists()
    assert mother.facts.child_ids == frozenset() and "guardian" not in mother.facts.roles
    assert report.counts["people"].removed == 1


def test_a_tobedeleted_school_is_kept_with_a_warning(tmp_path: Path) -> None:
    rows = roster_rows()
    check_import_roster(write(tmp_path / "first", rows), today=TODAY)
    rows["orgs.csv"].append({**org("fv-old", "Gamle skole", "school", "fv-k"), "status": "tobedeleted"})
    report = check_import_roster(write(tmp_path / "second", rows), today=TODAY)
    assert any(w.startswith("orgs.csv line 4: school 'fv-old' is marked tobedeleted but is not removed")
               for w in messages(report))


# --- delta ---------------------------------------------------------------------------------


def test_a_delta_feed_with_absent_files_creates_updates_and_removes(tmp_path: Path) -> None:
    """The manifest marks unchanged files absent and they are not shipped; the delta's rows create a
    pupil and her enrolment, rename a class, and remove an enrolment marked tobedeleted; nothing the
    delta does not name is removed."""
    check_import_roster(write(tmp_path / "bulk", roster_rows()), today=TODAY)
    before = counts()
    delta = {
        "users.csv": [user("fv-p9", "student", "nora.5a", "Nora", "Vik")],
        "classes.csv": [klass("fv-5a", "5A Nord", "05")],
        "enrollments.csv": [enrol("fv-e9", "fv-5a", "fv-p9", "student"),
                            {**enrol("fv-e4", "fv-5a", "fv-p2", "student"), "status": "tobedeleted"}],
    }
    report = check_import_roster(write(tmp_path / "delta", delta, manifest=delta_manifest(
        users="delta", classes="delta", enrollments="delta")), today=TODAY)

    pupils = set(Enrollment.objects.filter(school_class__source_id="fv-5a").values_list("pupil__username", flat=True))
    assert pupils == {"siri.5a", "nora.5a"}
    assert SchoolClass.objects.get(source_id="fv-5a").name == "5A Nord"
    assert TeachingAssignment.objects.filter(school_class__source_id="fv-5a").count() == 2  # untouched
    assert Guardianship.objects.count() == before["Guardianship"]
    assert report.counts["enrollments"].created == 1
    assert report.counts["enrollments"].removed == 1
    assert report.counts["people"].created == 1


def test_a_manifest_that_marks_a_file_bulk_but_does_not_ship_it_says_so(tmp_path: Path) -> None:
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, {"users.csv": []}, manifest=delta_manifest(users="delta",
                                                                                       orgs="bulk")), today=TODAY)
    assert (caught.value.file, caught.value.reason) == ("orgs.csv",
                                                        "file is missing, though manifest.csv marks it bulk")


# --- OneRoster 1.2 -------------------------------------------------------------------------


def roster_12() -> tuple[dict[str, list[dict[str, str]]], dict[str, list[str]]]:
    rows = roster_rows()
    users, roles = [], []
    for index, record in enumerate(rows["users.csv"], start=1):
        role = {"administrator": "principal" if record["orgSourcedIds"] == "fv-school" else "districtAdministrator"
                }.get(record["role"], record["role"])
        roles.append({"sourcedId": f"r{index}", "userSourcedId": record["sourcedId"], "roleType": "primary",
                      "role": role, "orgSourcedId": record["orgSourcedIds"]})
        users.append({k: v for k, v in record.items() if k not in ("role", "orgSourcedIds")})
    # A teacher who is also the school's principal, by a secondary role.
    roles.append({"sourcedId": "r99", "userSourcedId": "fv-t2", "roleType": "secondary", "role": "principal",
                  "orgSourcedId": "fv-school"})
    rows["users.csv"] = users
    rows["roles.csv"] = roles
    return rows, {"users.csv": USER_12 + ["metadata.parentalResponsibility"], "roles.csv": ROLE_12}


def test_a_oneroster_1_2_set_with_roles_csv_is_read(tmp_path: Path) -> None:
    """1.2 moved role and orgs into roles.csv: the set imports like its 1.1 twin; a principal leads
    the school, a districtAdministrator administers the municipality, a secondary principal role too."""
    rows, columns = roster_12()
    manifest = {"manifest.version": "1.0", "oneroster.version": "1.2", "file.orgs": "bulk", "file.users": "bulk",
                "file.classes": "bulk", "file.enrollments": "bulk", "file.roles": "bulk"}
    report = check_import_roster(write(tmp_path, rows, columns, manifest), today=TODAY)
    assert report.version == "1.2"
    assert report.counts["people"].created == 10
    school = School.objects.get(source_id="fv-school")
    assert Person.objects.get(username="lise.leder").facts.led_school_ids == {school.id}
    assert Person.objects.get(username="aud.admin").facts.admin_municipality_ids == {school.municipality_id}
    per = Person.objects.get(username="per.5a")
    assert per.facts.led_school_ids == {school.id}
    assert per.facts.subject_class_ids == {SchoolClass.objects.get(source_id="fv-5a").id}
    assert Person.objects.get(username="mor.siri").facts.child_ids == {Person.objects.get(username="siri.5a").id}


def test_a_1_2_delta_tobedeleted_role_removes_that_role_and_only_that(tmp_path: Path) -> None:
    """In a OneRoster 1.2 delta, a roles.csv row marked tobedeleted removes the role it names: per.5a's
    secondary principal role ends (no longer leads the school) while he still teaches 5A; a student
    role's removal ends the pupil's enrolments in that school's classes (R-PRIV-01). users.csv is absent."""
    rows, columns = roster_12()
    manifest = {"manifest.version": "1.0", "oneroster.version": "1.2", "file.orgs": "bulk", "file.users": "bulk",
                "file.classes": "bulk", "file.enrollments": "bulk", "file.roles": "bulk"}
    check_import_roster(write(tmp_path / "bulk", rows, columns, manifest), today=TODAY)
    school = School.objects.get(source_id="fv-school")
    assert Person.objects.get(username="per.5a").facts.led_school_ids == {school.id}

    odin_role = next(r for r in rows["roles.csv"] if r["userSourcedId"] == "fv-p2")
    delta = {"roles.csv": [{**r, "status": "tobedeleted"} for r in rows["roles.csv"]
                           if r["sourcedId"] == "r99" or r is odin_role]}
    report = check_import_roster(write(tmp_path / "delta", delta, columns, delta_manifest("1.2", roles="delta")),
                                 today=TODAY)

    per = Person.objects.get(username="per.5a")
    assert per.facts.led_school_ids == frozenset()
    assert per.facts.subject_class_ids == {SchoolClass.objects.get(source_id="fv-5a").id}
    assert Person.objects.get(username="lise.leder").facts.led_school_ids == {school.id}
    assert not Enrollment.objects.filter(pupil__username="odin.5a").exists()
    assert Enrollment.objects.filter(pupil__username="siri.5a").exists()
    assert Person.objects.get(username="odin.5a").is_active
    assert report.counts["staff_roles"].removed == 1
    assert report.counts["enrollments"].removed == 1


def test_a_1_2_users_csv_read_as_1_1_names_the_version(tmp_path: Path) -> None:
    """Without manifest and roles.csv, a 1.2 users.csv is named as such rather than a bare column error."""
    rows, columns = roster_12()
    del rows["roles.csv"]
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, rows, columns), today=TODAY)
    assert caught.value.file == "users.csv"
    assert "missing column(s): orgSourcedIds, role (a OneRoster 1.2 users.csv?" in caught.value.reason


def test_a_1_2_user_without_a_role_is_refused_with_its_line(tmp_path: Path) -> None:
    rows, columns = roster_12()
    rows["roles.csv"] = [r for r in rows["roles.csv"] if r["userSourcedId"] != "fv-p2"]
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, rows, columns), today=TODAY)
    assert (caught.value.file, caught.value.line, caught.value.reason) == (
        "users.csv", 7, "the user has no current role in roles.csv")
    assert not Municipality.objects.filter(source_id="fv-k").exists()


# --- dates and roles -----------------------------------------------------------------------


def test_r_priv_01_ended_enrolments_are_not_current_and_future_ones_wait(tmp_path: Path) -> None:
    """An enrolment whose endDate has passed is not imported (and ends one that exists: a pupil who left
    no longer sees the class, R-PRIV-01); one whose beginDate is still ahead is not created yet."""
    rows = roster_rows()
    check_import_roster(write(tmp_path / "first", rows), today=TODAY)
    rows["enrollments.csv"][2].update(endDate="2026-08-15")  # siri left in August
    rows["classes.csv"].append(klass("fv-6a", "6A", "06"))
    rows["enrollments.csv"].append({**enrol("fv-e5", "fv-6a", "fv-p1", "student"), "beginDate": "2026-08-15"})
    rows["enrollments.csv"].append({**enrol("fv-e6", "fv-6a", "fv-p2", "student"), "beginDate": "2027-01-04"})
    report = check_import_roster(write(tmp_path / "second", rows), today=TODAY)
    siri, odin = Person.objects.get(username="siri.5a"), Person.objects.get(username="odin.5a")
    assert set(Enrollment.objects.filter(pupil=siri).values_list("school_class__source_id", flat=True)) == {"fv-6a"}
    assert set(Enrollment.objects.filter(pupil=odin).values_list("school_class__source_id", flat=True)) == {"fv-5a"}
    assert report.counts["enrollments"].removed == 1


def test_a_bad_date_is_named(tmp_path: Path) -> None:
    rows = roster_rows()
    rows["enrollments.csv"][0]["endDate"] = "31.12.2026"
    with pytest.raises(RosterError) as caught:
        check_import_roster(write(tmp_path, rows), today=TODAY)
    assert (caught.value.line, caught.value.reason) == (2, "endDate '31.12.2026' is not a date (YYYY-MM-DD)")


def test_r_priv_01_a_teacher_enrolled_as_a_student_is_reported_and_not_made_a_pupil(tmp_path: Path) -> None:
    """users.csv says teacher, enrollments.csv says student: the enrolment is not imported and the
    warning names both lines; a guardian enrolled as a teacher likewise (she would see the class's
    pupils, R-PRIV-01)."""
    rows = roster_rows()
    rows["enrollments.csv"].append(enrol("fv-e5", "fv-5a", "fv-t1", "student"))
    rows["enrollments.csv"].append(enrol("fv-e6", "fv-5a", "fv-g1", "teacher"))
    rows["users.csv"].append(user("fv-aide", "aide", "assistent", "Asta", "Hjelp"))
    rows["enrollments.csv"].append(enrol("fv-e7", "fv-5a", "fv-aide", "teacher"))
    report = check_import_roster(write(tmp_path, rows), today=TODAY)
    tone = Person.objects.get(username="tone.5a")
    assert "pupil" not in tone.facts.roles
    assert "teacher" not in Person.objects.get(username="mor.siri").facts.roles
    assert ("enrollments.csv line 6: not imported: user 'fv-t1' is a teacher in users.csv (line 4) but enrolled "
            "as student") in messages(report)
    assert any(w.startswith("enrollments.csv line 7: not imported: user 'fv-g1' is a parent") for w in
               messages(report))
    assert ("enrollments.csv line 8: not imported: user 'fv-aide' has the role aide in users.csv (line 12), "
            "which Trygg does not import") in messages(report)


def test_the_command_lists_warnings_at_the_end(tmp_path: Path) -> None:
    rows = roster_rows()
    rows["classes.csv"].append(klass("fv-pk", "Førskole", "PK"))
    roster = write(tmp_path / "roster", rows)
    done = subprocess.run([sys.executable, "-m", "trygg.cli", "import-roster", str(roster)],
                          env=_subprocess_env(tmp_path / "data"), cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Warnings (1):\n  classes.csv line 3: grade PK has no Nordic grade" in done.stdout


# --- the generated municipality --------------------------------------------------------------


def test_a_generated_municipality_imports_in_bulk_and_then_by_delta(tmp_path: Path) -> None:
    """The generator behind `make bench` (here at a tenth of a school's size): the bulk set imports with
    one warning per gradeless club, a re-import changes nothing, and the delta adds, moves and deletes."""
    from tests.directory.roster_generator import Size, write_bulk, write_delta

    size = Size(schools=2, pupils=200, guardians=350)
    report = check_import_roster(write_bulk(tmp_path / "bulk", size), today=TODAY)
    assert report.counts["people"].created == 1 + 2 + 2 * 20 * 3 + 200 + 350
    assert report.counts["enrollments"].created == 200 + 10
    assert report.counts["guardianships"].created == 350
    assert len(report.warnings) == 2
    again = check_import_roster(tmp_path / "bulk", today=TODAY)
    assert again.total("created") + again.total("updated") + again.total("removed") == 0

    delta = check_import_roster(write_delta(tmp_path / "delta", size, new=5, renamed=5, moved=5, deleted=5),
                                today=TODAY)
    assert delta.counts["people"].created == 10
    assert delta.counts["people"].updated == 5
    assert delta.counts["people"].removed == 5
    assert delta.counts["enrollments"].created == 5 + 5
    assert Person.objects.filter(source_id__startswith="gen-p", is_active=False).count() == 5
    # 210 before; +5 new pupils, the 5 moved leave one class and join another, the 5 deleted leave
    assert Enrollment.objects.filter(pupil__source_id__startswith="gen-p").count() == 210 + 5 - 5
