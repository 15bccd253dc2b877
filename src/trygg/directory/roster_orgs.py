"""The organisations of a roster: municipalities, schools, departments and the orgs Trygg skips.

Part of the roster import (``trygg.directory.roster``): ``OrgImporter`` writes the orgs and answers
every later question "which municipality, which school is this org?", with errors that say what an
org is when it is not what a row needs (a state org, a district given as a school).
"""

from __future__ import annotations

from trygg.directory.models import Department, Municipality, School
from trygg.directory.roster_files import MUNICIPALITY_ORG_TYPES, SKIPPED_ORG_TYPES, Roster, Row


def apply_changes(obj: object, values: dict[str, object]) -> bool:
    """Set ``values`` on ``obj``; return whether any differed."""
    result = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            result = True
    return result


class OrgImporter:
    """The org half of the importer; ``roster._Importer`` adds people, classes and relations."""

    roster: Roster
    country: str
    municipalities: dict[str, Municipality]
    municipality_by_pk: dict[int, Municipality]
    schools: dict[str, School]
    departments: dict[str, School]
    skipped_orgs: dict[str, tuple[str, int]]

    def tick(self, label: str) -> None:
        raise NotImplementedError

    def warn(self, row: Row, message: str) -> None:
        raise NotImplementedError

    def _count(self, kind: str, created: bool, changed: bool) -> None:
        raise NotImplementedError

    def import_orgs(self) -> None:
        rows = self.roster.orgs
        wanted = [r.sourced_id for r in rows]
        for municipality in Municipality.objects.filter(source_id__in=wanted):
            self._remember_municipality(municipality)
        self.schools = {s.source_id: s for s in School.objects.filter(source_id__in=wanted)}
        districts = [r for r in rows if not r.to_be_deleted and r.get("type").lower() in MUNICIPALITY_ORG_TYPES]
        schools: list[Row] = []
        departments: list[Row] = []
        for row in rows:
            kind = row.get("type").lower()
            if row.to_be_deleted:
                self.warn(row, f"{kind or 'org'} {row.sourced_id!r} is marked tobedeleted but is not removed: "
                               "a roster never removes a municipality or school (conversations and cases hang "
                               "on it); an administrator removes it in the admin")
                self.report.counts["municipalities" if kind in MUNICIPALITY_ORG_TYPES else "schools"].skipped += 1
                self.tick("orgs.csv")
                continue
            if kind in SKIPPED_ORG_TYPES:
                self.skipped_orgs[row.sourced_id] = (kind, row.line)
                self.warn(row, f"a {kind} org has no place in Trygg (it holds municipalities): skipped")
                self.tick("orgs.csv")
                continue
            if kind == "school":
                schools.append(row)
                continue
            if kind == "department":
                departments.append(row)
                continue
            if row.sourced_id in self.schools:
                raise row.error(f"sourcedId {row.sourced_id!r} is a school in the directory, not a {kind}")
            municipality = self.municipalities.get(row.sourced_id)
            created = municipality is None
            if created:
                municipality = Municipality(source_id=row.sourced_id, country=self.country)
            changed = apply_changes(municipality, {"name": row.get("name")[:200]})
            if created or changed:
                municipality.save()
            self._remember_municipality(municipality)
            self._count("municipalities", created, changed)
            self.tick("orgs.csv")
        for row in schools:
            if row.sourced_id in self.municipalities:
                raise row.error(f"sourcedId {row.sourced_id!r} is a municipality in the directory, not a school")
            municipality = self.municipality_for(row, self._school_parent(row, districts))
            school = self.schools.get(row.sourced_id)
            created = school is None
            if created:
                school = School(source_id=row.sourced_id)
            changed = apply_changes(school, {"name": row.get("name")[:200], "municipality_id": municipality.pk})
            if created or changed:
                school.save()
            self.schools[row.sourced_id] = school
            self._count("schools", created, changed)
            self.tick("orgs.csv")
        by_id = {r.sourced_id: r for r in departments}
        stored = {d.source_id: d for d in Department.objects.filter(source_id__in=list(by_id))}
        for row in departments:
            school = self._department_school(row, by_id, set())
            self.departments[row.sourced_id] = school
            department = stored.get(row.sourced_id)
            if department is None:
                Department.objects.create(source_id=row.sourced_id, name=row.get("name")[:200], school=school)
            elif apply_changes(department, {"name": row.get("name")[:200], "school_id": school.pk}):
                department.save()
            self.tick("orgs.csv")

    def _remember_municipality(self, municipality: Municipality) -> None:
        if municipality.source_id:
            self.municipalities[municipality.source_id] = municipality
        self.municipality_by_pk[municipality.pk] = municipality

    def _school_parent(self, row: Row, districts: list[Row]) -> str:
        """Return the municipality's sourcedId for a school; ``parentSourcedId`` is optional."""
        parent = row.get("parentSourcedId")
        skipped = self.skipped_orgs.get(parent)
        if parent and not skipped:
            return parent
        if len(districts) == 1:
            return districts[0].sourced_id
        if skipped:
            raise row.error(f"parentSourcedId {parent!r} is a {skipped[0]} org (orgs.csv line {skipped[1]}) and "
                            f"orgs.csv holds {len(districts)} district orgs: the school's municipality is unknown")
        raise row.error(f"parentSourcedId is empty and orgs.csv holds {len(districts)} district orgs: "
                        "the school's municipality is unknown")

    def _department_school(self, row: Row, departments: dict[str, Row], seen: set[str]) -> School:
        parent = row.get("parentSourcedId")
        if parent in departments:
            if parent in seen:
                raise row.error(f"department {row.sourced_id!r} is its own ancestor")
            return self._department_school(departments[parent], departments, seen | {row.sourced_id})
        school = self.schools.get(parent) or (self._stored_school(parent) if parent else None)
        if school is None:
            raise row.error(f"parentSourcedId {parent!r} of a department must name its school in orgs.csv "
                            "or the directory")
        self.schools[parent] = school
        return school

    def municipality_for(self, row: Row, sourced_id: str) -> Municipality:
        found = self.municipalities.get(sourced_id) or Municipality.objects.filter(source_id=sourced_id).first()
        if found is None:
            if sourced_id in self.schools:
                raise row.error(f"parentSourcedId {sourced_id!r} is a school; a school belongs to a district org")
            raise row.error(f"parentSourcedId {sourced_id!r} is not a district org in orgs.csv or the directory")
        self._remember_municipality(found)
        return found

    def _municipality_of(self, school: School) -> Municipality:
        found = self.municipality_by_pk.get(school.municipality_id)
        if found is None:
            found = Municipality.objects.get(pk=school.municipality_id)
            self._remember_municipality(found)
        return found

    @staticmethod
    def _stored_school(sourced_id: str) -> School | None:
        """Return the school stored under ``sourced_id``, or the school of the department stored under it."""
        found = School.objects.filter(source_id=sourced_id).first()
        if found is None:
            department = Department.objects.select_related("school").filter(source_id=sourced_id).first()
            found = department.school if department is not None else None
        return found

    def _find_school(self, sourced_id: str) -> School | None:
        found = self.schools.get(sourced_id) or self.departments.get(sourced_id)
        if found is None:
            found = self._stored_school(sourced_id)
            if found is not None:
                self.schools[sourced_id] = found
        return found

    def org(self, row: Row, sourced_id: str) -> tuple[Municipality, School | None]:
        """Return the municipality an org belongs to, and the school when the org is (in) one."""
        if sourced_id in self.municipalities:
            return self.municipalities[sourced_id], None
        school = self._find_school(sourced_id)
        if school is not None:
            return self._municipality_of(school), school
        if sourced_id in self.skipped_orgs:
            kind, line = self.skipped_orgs[sourced_id]
            raise row.error(f"org {sourced_id!r} is a {kind} org (orgs.csv line {line}), which Trygg skips: "
                            "name the person's school or municipality")
        municipality = Municipality.objects.filter(source_id=sourced_id).first()
        if municipality is None:
            raise row.error(f"org {sourced_id!r} is not in orgs.csv or the directory")
        self._remember_municipality(municipality)
        return municipality, None

    def school(self, row: Row, sourced_id: str) -> School:
        school = self._find_school(sourced_id)
        if school is not None:
            return school
        if sourced_id in self.municipalities or Municipality.objects.filter(source_id=sourced_id).exists():
            raise row.error(f"schoolSourcedId {sourced_id!r} is a district org, not a school")
        if sourced_id in self.skipped_orgs:
            kind, line = self.skipped_orgs[sourced_id]
            raise row.error(f"schoolSourcedId {sourced_id!r} is a {kind} org (orgs.csv line {line}), not a school")
        raise row.error(f"school {sourced_id!r} is not in orgs.csv or the directory")
