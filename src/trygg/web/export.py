"""Right of access (R-PRIV-04): everything Trygg holds about the signed-in person, as one document.

Each section reads only rows about the viewer, so this module is a scoped read like any in
``queries.py``. Other people's messages in the viewer's conversations are not the viewer's data
and are left out; the conversations themselves, and what the viewer wrote, are in.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from trygg.audit.models import AuditRecord
from trygg.directory.models import Enrollment, Guardianship, Person, Protection, StaffRole, TeachingAssignment
from trygg.directory.queries import display_name
from trygg.messaging.models import Membership, Message
from trygg.notifications.models import Notice, NoticePreference

FORMAT_VERSION = 1


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def _profile(viewer: Person) -> dict[str, Any]:
    return {
        "username": viewer.username,
        "name": viewer.name,
        "email": viewer.email,
        "phone": viewer.phone,
        "address": viewer.address,
        "language": viewer.language,
        "municipality": viewer.municipality.name if viewer.municipality else None,
        "joined": _when(viewer.date_joined),
        "last_login": _when(viewer.last_login),
        "roles": sorted(viewer.facts.roles),
    }


def _directory(viewer: Person) -> dict[str, Any]:
    protection = Protection.objects.filter(pupil=viewer).first()
    return {
        "classes": [
            {"class": e.school_class.name, "school": e.school_class.school.name}
            for e in Enrollment.objects.filter(pupil=viewer).select_related("school_class__school")
        ],
        "teaching": [
            {"class": t.school_class.name, "kind": t.kind}
            for t in TeachingAssignment.objects.filter(teacher=viewer).select_related("school_class")
        ],
        "children": [
            {"name": display_name(viewer, g.pupil), "parental_responsibility": g.parental_responsibility}
            for g in Guardianship.objects.filter(guardian=viewer).select_related("pupil")
        ],
        "guardians": [
            {"name": display_name(viewer, g.guardian), "parental_responsibility": g.parental_responsibility}
            for g in Guardianship.objects.filter(pupil=viewer).select_related("guardian")
        ],
        "staff_roles": [
            {"kind": r.kind, "school": r.school.name if r.school else None}
            for r in StaffRole.objects.filter(person=viewer).select_related("school")
        ],
        "protection": None
        if protection is None
        else {
            "secret_phone": protection.secret_phone,
            "secret_address": protection.secret_address,
            "address_reveals_circumstances": protection.address_reveals_circumstances,
            "confidential_identity": protection.confidential_identity,
        },
    }


def _messaging(viewer: Person) -> dict[str, Any]:
    memberships = Membership.objects.filter(person=viewer).select_related("conversation__created_by")
    sent = Message.objects.filter(sender=viewer).order_by("id")
    return {
        "conversations": [
            {
                "id": m.conversation_id,
                "kind": m.conversation.kind,
                "title": m.conversation.title,
                "school_owned": m.conversation.school_owned,
                "created_by": display_name(viewer, m.conversation.created_by) or None,
                "joined": _when(m.joined_at),
                "last_read_at": _when(m.last_read_at),
            }
            for m in memberships
        ],
        "messages_sent": [
            {
                "id": msg.pk,
                "conversation_id": msg.conversation_id,
                "sent": _when(msg.created_at),
                "edited": _when(msg.edited_at),
                "deleted": _when(msg.deleted_at),
                "body": None if msg.deleted_at else msg.body,
            }
            for msg in sent
        ],
    }


def _notifications(viewer: Person) -> dict[str, Any]:
    pref = NoticePreference.objects.filter(person=viewer).first() or NoticePreference(person=viewer)
    return {
        "preferences": {
            "email_messages": pref.email_messages,
            "sms_messages": pref.sms_messages,
            "email_other": pref.email_other,
            "sms_other": pref.sms_other,
        },
        "notices": [
            {"kind": n.kind, "channel": n.channel, "created": _when(n.created_at), "sent": _when(n.sent_at)}
            for n in Notice.objects.filter(person=viewer).order_by("id")
        ],
    }


def _audit(viewer: Person) -> dict[str, Any]:
    person_type = Person._meta.label_lower
    return {
        "your_actions": [
            {"at": _when(r.at), "action": r.action, "target_type": r.target_type}
            for r in AuditRecord.objects.filter(actor=viewer).order_by("id")
        ],
        # Who looked at or changed a record about the viewer (R-PRIV-02 made visible to the person).
        "about_you": [
            {"at": _when(r.at), "action": r.action, "by": display_name(viewer, r.actor) or None}
            for r in AuditRecord.objects.filter(target_type=person_type, target_id=str(viewer.pk))
            .select_related("actor")
            .order_by("id")
        ],
    }


SECTIONS: dict[str, Callable[[Person], Any]] = {
    "profile": _profile,
    "directory": _directory,
    "messaging": _messaging,
    "notifications": _notifications,
    "audit": _audit,
}

# Apps that hold more about a person contribute ``export_own(viewer)`` in their ``queries.py``.
APPS_WITH_OWN_EXPORT = ("policy", "classlist", "meetings", "cases", "signin")


def export_own_data(viewer: Person) -> dict[str, Any]:
    """Return every record Trygg holds about ``viewer``, grouped by where it lives."""
    data: dict[str, Any] = {"format": FORMAT_VERSION, "generated_at": timezone.now().isoformat()}
    for name, section in SECTIONS.items():
        data[name] = section(viewer)
    for app in APPS_WITH_OWN_EXPORT:
        exporter = getattr(importlib.import_module(f"trygg.{app}.queries"), "export_own", None)
        if exporter is not None:
            data[app] = exporter(viewer)
    return data
