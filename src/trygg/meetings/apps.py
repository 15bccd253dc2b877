from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "trygg.meetings"
    label = "meetings"

    def ready(self) -> None:
        # Event schemas must be registered before any meeting event is appended or validated.
        from trygg.meetings import events  # noqa: F401
        from trygg.policy.explain import register_context_builder

        register_context_builder("meeting.", explain_context)


def explain_context(action: str, actor: object, target: object) -> dict:
    """Return the context the meeting actions pass, so `trygg policy explain meeting.join` matches them."""
    from trygg.meetings.actions import join_context
    from trygg.meetings.models import Invitation, Meeting

    if not isinstance(target, Meeting):
        return {}
    person_id = getattr(actor, "id", None) or getattr(actor, "pk", None)
    invitation = Invitation.objects.filter(meeting=target, person_id=person_id).first()
    return join_context(target, invitation, None)
