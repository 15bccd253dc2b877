"""Scoped reads of the class contact list.

``visible_classes`` is the queryset twin of the rule ``oslo.class-list-own-class`` (R-LIST-01): the
classes whose list a viewer may open, filtered in the database. ``shown_consents`` is the twin of
``oslo.confidential-never-shown`` and ``oslo.opt-in-fields`` (R-LIST-02, R-LIST-05): the consents
that may appear, with confidential fields left out in SQL, so a consent row that should never have
existed still shows nothing. Every view of a list is audited (R-PRIV-02).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from trygg.audit.actions import do_audit
from trygg.classlist.models import Consent, ConsentChange, Reminder
from trygg.directory.models import Enrollment, Guardianship, Person, Protection, SchoolClass, TeachingKind
from trygg.directory.queries import protected_people
from trygg.errors import NotFoundOrHidden, PolicyDenied, TooManyRequests
from trygg.policy.engine import Decision, check, decide, policy_for, registry
from trygg.policy.queries import language_of
from trygg.policy.rules.classlist import FIELDS, LOCKED_BY, locked_fields

OWN_CLASS_RULE = "oslo.class-list-own-class"
NOTICE_RULE = "oslo.list-is-public"
REMIND_RULE = "oslo.encourage-complete-list"
GUARDIAN_FIELDS = ("guardian_name", "email", "phone", "address")


# ----------------------------------------------------------------------------------- who sees it


def visible_classes(viewer: Person) -> QuerySet[SchoolClass]:
    """Return the classes whose contact list ``viewer`` may see (the twin of ``oslo.class-list-own-class``).

    Guardians with parental responsibility of a pupil in the class and its contact teacher; its
    subject teachers only where the municipality turns ``subject_teachers_see_list`` on. Nobody,
    where the municipality has not activated the Oslo pack.
    """
    params = policy_for(viewer.municipality_id).params.get(OWN_CLASS_RULE)
    if params is None:
        return SchoolClass.objects.none()
    guardian_of_pupil = Guardianship.objects.filter(
        guardian=viewer, parental_responsibility=True, pupil__enrollments__school_class=OuterRef("pk")
    )
    teaches = Q(teaching__teacher=viewer, teaching__kind=TeachingKind.CONTACT)
    if params.get("subject_teachers_see_list"):
        teaches = Q(teaching__teacher=viewer)
    own = SchoolClass.objects.filter(Q(Exists(guardian_of_pupil)) | teaches).values("pk")
    return SchoolClass.objects.filter(pk__in=own).select_related("school").order_by("grade", "name")


def access_class(viewer: Person, class_id: int) -> SchoolClass:
    """Return a class whose list the viewer may see, or raise ``NotFoundOrHidden`` (R-PRIV-01)."""
    found = visible_classes(viewer).filter(pk=class_id).first()
    if found is None:
        raise NotFoundOrHidden()
    return found


def access_contact_list(viewer: Person, class_id: int) -> tuple[SchoolClass, Decision]:
    """Return a class whose list the viewer may see, with the policy's decision on showing it.

    404 for anyone outside the class (R-LIST-01, R-PRIV-01); 403 naming the rule where the list
    may not be shown at all, as for a special-education class (R-LIST-05).
    """
    school_class = access_class(viewer, class_id)
    decision = check("classlist.view", viewer, school_class,
                     {"municipality_id": school_class.school.municipality_id})
    return school_class, decision


def offered_fields(decision: Decision) -> tuple[str, ...]:
    """Return the fields the municipality offers (R-LIST-02), from the ``fields`` obligation."""
    for ob in decision.obligations_of("fields"):
        return tuple(f for f in FIELDS if f in ob.data.get("fields", ()))
    return FIELDS


def leader_classes(viewer: Person) -> QuerySet[SchoolClass]:
    """Return the classes whose list a leader may export: their schools', or their municipality's."""
    facts = viewer.facts
    return (
        SchoolClass.objects.filter(
            Q(school_id__in=facts.led_school_ids) | Q(school__municipality_id__in=facts.admin_municipality_ids)
        )
        .select_related("school")
        .order_by("grade", "name")
    )


def access_export_class(viewer: Person, class_id: int) -> SchoolClass:
    """Return a class the viewer may answer access requests for; anything else is 404."""
    found = leader_classes(viewer).filter(pk=class_id).first()
    if found is None:
        raise NotFoundOrHidden()
    return found


# ----------------------------------------------------------------------------------- what is shown


def confidential_q() -> Q:
    """Return the condition of a consent row whose field is confidential for its pupil, or for its
    guardian by the guardian's own flags (R-LIST-05)."""
    condition = Q()
    for name, flags in LOCKED_BY.items():
        flagged = Q()
        for flag in flags:
            flagged |= Q(**{flag: True})
        protected = Protection.objects.filter(flagged, pupil_id=OuterRef("pupil_id"))
        condition |= Q(field=name) & Q(Exists(protected))
        if name in GUARDIAN_FIELDS:
            own = Protection.objects.filter(flagged, pupil_id=OuterRef("guardian_id"))
            condition |= Q(field=name) & Q(Exists(own))
    return condition


def shown_consents(school_class: SchoolClass, fields: Sequence[str] = FIELDS) -> QuerySet[Consent]:
    """Return the consents the class list shows: pupils in the class, guardians who have parental
    responsibility now, fields the municipality offers, and nothing the school marked confidential.
    """
    if school_class.reveals_special_education:
        return Consent.objects.none()
    enrolled = Enrollment.objects.filter(pupil_id=OuterRef("pupil_id"), school_class=school_class)
    responsible = Guardianship.objects.filter(
        guardian_id=OuterRef("guardian_id"), pupil_id=OuterRef("pupil_id"), parental_responsibility=True
    )
    # The list is a public record: whoever reads it, a protected person is absent from it, and so are
    # the details of a guardian of a protected pupil on a brother's or sister's row (R-LIST-05).
    protected = protected_people()
    return (
        Consent.objects.filter(Exists(enrolled), Exists(responsible), field__in=list(fields))
        .exclude(confidential_q())
        .exclude(pupil_id__in=[pid for pid, why in protected.items() if why.own])
        .exclude(guardian_id__in=list(protected), field__in=GUARDIAN_FIELDS)
        .select_related("guardian", "pupil")
    )


@dataclass
class Row:
    """One pupil on the list: the name if shared, and each guardian's shared details."""

    student_name: str | None
    guardians: list[dict[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"student_name": self.student_name, "guardians": self.guardians}

    def sort_key(self) -> tuple[int, str, str]:
        # Rows sort by what is shown; a hidden name must not decide the order.
        first_guardian = next((g["guardian_name"] or "" for g in self.guardians), "")
        return (self.student_name is None, (self.student_name or "").casefold(), first_guardian.casefold())


def build_rows(consents: Iterable[Consent]) -> list[Row]:
    """Group consent rows into one row per pupil; no identifiers, only what was shared."""
    by_pupil: dict[int, dict[str, Any]] = {}
    for consent in consents:
        entry = by_pupil.setdefault(consent.pupil_id, {"name": None, "guardians": {}})
        if consent.field == "student_name":
            entry["name"] = consent.pupil.name
            continue
        guardian = entry["guardians"].setdefault(consent.guardian_id, dict.fromkeys(GUARDIAN_FIELDS))
        attribute = "name" if consent.field == "guardian_name" else consent.field
        guardian[consent.field] = getattr(consent.guardian, attribute)
    rows = []
    for entry in by_pupil.values():
        guardians = sorted(entry["guardians"].values(), key=lambda g: (g["guardian_name"] is None,
                                                                        (g["guardian_name"] or "").casefold()))
        rows.append(Row(entry["name"], guardians))
    rows.sort(key=Row.sort_key)
    return rows


def list_rows(viewer: Person, school_class: SchoolClass, decision: Decision, *, via: str) -> list[Row]:
    """Return the list as ``viewer`` sees it, and audit the view (R-PRIV-02)."""
    rows = build_rows(shown_consents(school_class, offered_fields(decision)))
    do_audit(viewer, "classlist.viewed", school_class, rows=len(rows), via=via)
    return rows


def export_rows(school_class: SchoolClass) -> list[Row]:
    """Return the list as it is handed out on an access request (the caller audits, R-LIST-04)."""
    from trygg.policy.engine import params_for

    fields = params_for("oslo.opt-in-fields", school_class.school.municipality_id).get("fields", FIELDS)
    return build_rows(shown_consents(school_class, tuple(fields)))


def flat_rows(rows: Iterable[Row], fields: Sequence[str] = FIELDS) -> list[list[str]]:
    """Return the list as lines for CSV and print: one line per guardian (or per pupil without any)."""
    lines = []
    for row in rows:
        for guardian in row.guardians or [dict.fromkeys(GUARDIAN_FIELDS)]:
            values = {"student_name": row.student_name, **guardian}
            lines.append([values.get(f) or "" for f in fields])
    return lines


# ----------------------------------------------------------------------------------- completeness


@dataclass(frozen=True)
class Completeness:
    covered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.total) if self.total else 0


def get_completeness(school_class: SchoolClass) -> Completeness:
    """Return how many pupils of the class the list shows anything for; never which (R-LIST-03)."""
    covered = shown_consents(school_class).values("pupil_id").distinct().count()
    total = Enrollment.objects.filter(school_class=school_class).count()
    return Completeness(covered, total)


def last_reminder(school_class: SchoolClass) -> Reminder | None:
    return Reminder.objects.filter(school_class=school_class).order_by("-sent_at", "-id").first()


def guardian_ids_of_class(school_class: SchoolClass) -> list[int]:
    """Return every guardian with parental responsibility of a pupil in the class."""
    return sorted(
        set(
            Guardianship.objects.filter(
                pupil__enrollments__school_class=school_class, parental_responsibility=True
            ).values_list("guardian_id", flat=True)
        )
    )


def remind_decision(actor: Person, school_class: SchoolClass, now: datetime) -> Decision:
    """Return the policy's decision on a reminder now, given when the last one went (R-LIST-03)."""
    last = last_reminder(school_class)
    return decide("classlist.remind", actor, school_class,
                  {"last_reminder_at": last.sent_at if last else None, "now": now})


def raise_remind_refusal(actor: Person, decision: Decision) -> NoReturn:
    """Raise 429 with the time of the next allowed reminder if the refusal is a wait, else 403."""
    waits = decision.obligations_of("wait")
    if waits:
        until = waits[0].data["until"]
        spec = registry().rules[waits[0].rule_id]
        raise TooManyRequests(
            _("A reminder about the class list was sent recently. The next one can be sent from %(when)s.")
            % {"when": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
            rule=spec.id,
            requirement=spec.requirements[0],
            extra={"retry_at": until.isoformat()},
        )
    raise PolicyDenied(decision, language=language_of(actor))


def can_remind(actor: Person, school_class: SchoolClass) -> tuple[bool, datetime | None]:
    """Return whether the actor may see completeness and remind, and when the next reminder may go."""
    decision = remind_decision(actor, school_class, timezone.now())
    waits = decision.obligations_of("wait")
    if waits:
        return True, waits[0].data["until"]
    return decision.allowed, None


def access_completeness(actor: Person, class_id: int) -> tuple[SchoolClass, Completeness]:
    """Return the class and how complete its list is, for its contact teacher only (R-LIST-03)."""
    school_class = access_class(actor, class_id)
    allowed, _next = can_remind(actor, school_class)
    if not allowed:
        raise_remind_refusal(actor, remind_decision(actor, school_class, timezone.now()))
    do_audit(actor, "classlist.completeness_viewed", school_class)
    return school_class, get_completeness(school_class)


# ----------------------------------------------------------------------------------- a guardian's own


def children_in_class(viewer: Person, school_class: SchoolClass) -> list[Person]:
    """Return the viewer's children (with parental responsibility) in the class."""
    return list(
        Person.objects.filter(
            guardians__guardian=viewer,
            guardians__parental_responsibility=True,
            enrollments__school_class=school_class,
        ).order_by("name")
    )


def access_child(viewer: Person, school_class: SchoolClass, username: str) -> Person:
    """Return the viewer's child in the class by username; anything else is 404."""
    for child in children_in_class(viewer, school_class):
        if child.username == username:
            return child
    raise NotFoundOrHidden()


def protection_of(pupil: Person) -> dict[str, bool]:
    """Return the pupil's protection flags as the rules read them."""
    row = Protection.objects.filter(pupil=pupil).first()
    if row is None:
        return {}
    return {flag: bool(getattr(row, flag)) for flag in
            ("secret_phone", "secret_address", "address_reveals_circumstances", "confidential_identity")}


def consents_of(guardian: Person, pupil: Person) -> dict[str, bool]:
    """Return the guardian's own consent for each field about ``pupil`` (off unless a row exists)."""
    given = set(Consent.objects.filter(guardian=guardian, pupil=pupil).values_list("field", flat=True))
    return {f: f in given for f in FIELDS}


def has_consent_history(guardian: Person) -> bool:
    """Return whether the guardian has ever changed a consent (so they have seen the notice)."""
    return ConsentChange.objects.filter(guardian=guardian).exists()


def list_consent_history(guardian: Person, pupil: Person) -> list[ConsentChange]:
    """Return the guardian's own consent changes about ``pupil``, newest first (R-LIST-06)."""
    return list(ConsentChange.objects.filter(guardian=guardian, pupil=pupil).order_by("-at", "-id"))


def locked_for(pupil: Person, school_class: SchoolClass, guardian: Person | None = None) -> frozenset[str]:
    """Return the fields that cannot be shown about ``pupil`` by ``guardian`` (R-LIST-05)."""
    return locked_fields(protection_of(pupil), school_class.reveals_special_education,
                         protection_of(guardian) if guardian is not None else None)


def export_own(viewer: Person) -> dict[str, Any]:
    """Return the viewer's consents and their full history, for the right of access (R-PRIV-04)."""
    return {
        "consents_in_force": [
            {"pupil": c.pupil.name, "field": c.field, "given_at": c.given_at.isoformat()}
            for c in Consent.objects.filter(guardian=viewer).select_related("pupil").order_by("id")
        ],
        "consent_history": [
            {
                "pupil": c.pupil.name,
                "class": c.school_class.name,
                "field": c.field,
                "given": c.given,
                "at": c.at.isoformat(),
                "notice_shown": c.notice_text,
                "notice_language": c.notice_language,
            }
            for c in ConsentChange.objects.filter(guardian=viewer)
            .select_related("pupil", "school_class")
            .order_by("id")
        ],
    }
