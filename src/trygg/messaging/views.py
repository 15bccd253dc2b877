"""Chat pages: the conversation list, one conversation, and the forms that work without script.

The conversation page is enhanced by ``messaging/chat.js`` (live events, nudges before sending).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trygg.directory.models import Person
from trygg.directory.queries import display_name, hidden_from, list_children, list_guardians
from trygg.errors import NotFoundOrHidden, TryggError
from trygg.events.log import latest_event_id
from trygg.messaging import actions, attachments, media, picker, queries, search, serialise, summaries
from trygg.messaging.models import Attachment, Conversation, ConversationKind
from trygg.policy.packs_schema import WEEKDAYS
from trygg.signin.stepup import require_step_up


def _label_people(viewer: Person, conversation: Conversation, chat_messages: list) -> set[int]:
    """Put on each message the sender's name as the viewer may see it (R-LIST-05); return who is hidden."""
    hidden = serialise.hidden_in(viewer, conversation, [m.sender for m in chat_messages])
    for m in chat_messages:
        m.sender_label = serialise.name_of(m.sender, hidden)
        m.sender_shown_id = None if m.sender_id in hidden else m.sender_id
    return hidden


def _list_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    person = request.user
    facts = person.facts
    conversations = queries.list_conversations(person)
    hidden = hidden_from(person, {c.created_by_id for c in conversations if c.created_by_id})
    shown = summaries.summarise(person, conversations)
    for c in conversations:
        c.creator_label = serialise.name_of(c.created_by, hidden)
        c.summary = shown[c.pk]
    return {
        "conversations": conversations,
        "contacts": picker.contacts_out(picker.list_startable_contacts(person)),
        "is_staff_member": facts.is_staff_member,
        "children": list_children(person),
        "latest_event_id": latest_event_id(person.pk),
        "photo_requests": len(queries.list_attachment_requests(person)),
        **extra,
    }


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    """The list; with ``?q=`` also what the search found in the person's conversations."""
    if "q" not in request.GET:
        return render(request, "messaging/list.html", _list_context(request))
    try:
        found = search.search(request.user, request.GET["q"], get_language() or "nb")
    except TryggError as exc:
        return render(request, "messaging/list.html", _list_context(request, search_error=exc.as_dict()["message"],
                                                                     q=request.GET["q"][:200]), status=exc.status)
    return render(request, "messaging/list.html", _list_context(request, found=found, q=found.query))


@login_required
@require_POST
def new_conversation(request: HttpRequest) -> HttpResponse:
    usernames = request.POST.getlist("members")
    kind = ConversationKind.DIRECT if len(usernames) == 1 else ConversationKind.GROUP
    try:
        result = actions.check_create_conversation(
            request.user, kind, request.POST.get("title", ""), usernames,
            school_owned=request.POST.get("school_owned") == "on",
        )
    except TryggError as exc:
        context = _list_context(request, refusal=exc.as_dict(), chosen=set(usernames))
        return render(request, "messaging/list.html", context, status=exc.status)
    for nudge in result.nudges:
        # Nudges (R-SOC-01: someone in the class left out) are shown, not enforced.
        messages.info(request, nudge["message"])
    return redirect(reverse("messaging:conversation", args=[result.conversation.pk]))


@login_required
@require_GET
def conversation_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    person = request.user
    conversation = queries.access_conversation(person, conversation_id)
    chat_messages = queries.list_messages(person, conversation)
    members = queries.list_members(conversation, person)
    hidden = _label_people(person, conversation, chat_messages)
    frozen = queries.is_frozen(conversation)
    if chat_messages:
        actions.check_mark_read(person, conversation.pk, chat_messages[-1].pk)
    guardians = []
    if "pupil" in person.facts.roles:
        guardians = list_guardians(person)
    return render(
        request,
        "messaging/conversation.html",
        {
            "conversation": conversation,
            "summary": summaries.summarise(person, [conversation])[conversation.pk],
            "ownership": serialise.ownership_label(conversation, hidden),
            "chat_messages": chat_messages,
            "members": members,
            "is_channel": conversation.kind in (ConversationKind.CLASS, ConversationKind.GUARDIANS),
            "can_post": (person.facts.is_staff_member
                         or conversation.kind not in (ConversationKind.CLASS, ConversationKind.GUARDIANS))
            and not frozen,
            "latest_event_id": latest_event_id(person.pk),
            "max_chars": actions.max_body_chars(),
            "txn": uuid.uuid4().hex,
            "guardians": guardians,
            "is_owner": conversation.kind == ConversationKind.GROUP and conversation.created_by_id == person.pk,
            "frozen": frozen,
            "addable": [p for p in queries.list_contacts(person) if p.pk not in {m.pk for m in members}]
            if conversation.kind == ConversationKind.GROUP and conversation.created_by_id == person.pk
            else [],
            **_attachment_context(person, conversation),
        },
    )


# ---------------------------------------------------------------------------------- attachments


def _attachment_context(person: Person, conversation: Conversation) -> dict[str, object]:
    """What the attach form and the "waiting for permission" list need (R-PAR-02, R-PUP-01)."""
    mine = queries.list_pending_uploads(person, conversation)
    asked = [a for a in queries.list_attachment_requests(person) if a.conversation_id == conversation.pk]
    pending = {a.pk: a for a in [*mine, *asked]}
    return {
        "pictured_choices": queries.list_pictured_choices(person, conversation),
        "attachment_max_bytes": media.max_bytes(),
        "attachment_max_mb": max(1, media.max_bytes() // (1024 * 1024)),
        "pending_attachments": [serialise.serialise_attachment(a, person) for a in pending.values()],
    }


@login_required
@require_POST
def attach_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The attach form without script: send the file and come back; a refusal is shown there."""
    reply_to = request.POST.get("reply_to") or ""
    try:
        attachment, _created = attachments.check_upload(
            request.user, conversation_id, request.FILES.get("file"),
            pictured_usernames=request.POST.getlist("pictured_usernames"),
            nobody_identifiable=attachments.parse_flag(request.POST.get("nobody_identifiable")),
            caption=request.POST.get("caption", ""),
            reply_to_id=int(reply_to) if reply_to.isdigit() else None,
        )
    except NotFoundOrHidden:
        raise
    except TryggError as exc:
        messages.error(request, exc.as_dict()["message"])
        return redirect(reverse("messaging:conversation", args=[conversation_id]))
    if attachment.status == Attachment.Status.PENDING:
        messages.info(request, _("Sent. The others see it when everyone in it has given permission."))
    return redirect(reverse("messaging:conversation", args=[conversation_id]))


def _back(request: HttpRequest, attachment: Attachment) -> HttpResponse:
    # Back to the conversation for members, to the list of requests for everyone else.
    if queries.is_member(request.user, attachment.conversation_id) and request.POST.get("next") != "photos":
        return redirect(reverse("messaging:conversation", args=[attachment.conversation_id]))
    return redirect(reverse("messaging:photos"))


@login_required
@require_POST
def decide_attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Give or refuse permission for someone in an attachment (R-PAR-02, R-STF-02)."""
    grant = request.POST.get("grant") == "yes"
    attachment = attachments.check_decide(request.user, attachment_id, grant, request.POST.get("person") or None)
    messages.info(request, _("Thank you. Your permission is recorded.") if grant
                  else _("You refused. The file has been deleted."))
    return _back(request, attachment)


@login_required
@require_POST
def agree_attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A teacher agrees to a pupil's photo, sound or video, or not (R-PUP-01)."""
    attachment = attachments.check_agree(request.user, attachment_id, request.POST.get("agree") == "yes")
    return _back(request, attachment)


@login_required
@require_POST
def withdraw_attachment_view(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = attachments.check_withdraw(request.user, attachment_id)
    return _back(request, attachment)


@login_required
@require_GET
def photos_view(request: HttpRequest) -> HttpResponse:
    """Everything the viewer is asked to answer about: permission for themselves or a child, or
    (teachers) agreement to a pupil's upload. Guardians who are not in the conversation answer here."""
    person = request.user
    requests = [serialise.serialise_attachment(a, person) for a in queries.list_attachment_requests(person)]
    return render(request, "messaging/photos.html", {"requests": requests})


@login_required
@require_POST
def send_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The composer without script: send and come back (nudges are shown by the script)."""
    reply_to = request.POST.get("reply_to") or None
    actions.check_send(
        request.user, conversation_id, request.POST.get("body", ""),
        request.POST.get("client_txn_id") or uuid.uuid4().hex,
        int(reply_to) if reply_to and reply_to.isdigit() else None,
        sensitive=request.POST.get("sensitive") == "true",
    )
    return redirect(reverse("messaging:conversation", args=[conversation_id]))


@login_required
@require_GET
def sensitive_message_view(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """One sensitive message's text, after a recent strong sign-in (issue 17; R-PRIV-01).

    The step-up page comes first (``StepUpPagesMiddleware``), then this page shows the text alone,
    with the way back to the conversation. Both outcomes are audited by ``require_step_up``.
    """
    message = queries.access_message(request.user, message_id)
    if message.conversation_id != conversation_id:
        raise NotFoundOrHidden()
    if message.sensitive:
        require_step_up(request, message, "sensitive_message")
    return render(request, "messaging/sensitive.html", {
        "message": message, "conversation": message.conversation,
        # A protected sender is "a pupil" or "a guardian" to other families (R-LIST-05).
        "sender_name": display_name(request.user, message.sender),
    })


@login_required
@require_POST
def share_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    actions.check_share_with_guardian(request.user, conversation_id, request.POST.get("guardian", ""))
    return redirect(reverse("messaging:conversation", args=[conversation_id]))


@login_required
@require_POST
def add_member_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    actions.check_add_member(request.user, conversation_id, request.POST.get("username", ""))
    return redirect(reverse("messaging:conversation", args=[conversation_id]))


@login_required
@require_POST
def remove_member_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    actions.check_remove_member(request.user, conversation_id, request.POST.get("username", ""))
    if request.POST.get("username") == request.user.username:
        return redirect(reverse("messaging:list"))
    return redirect(reverse("messaging:conversation", args=[conversation_id]))


@login_required
@require_GET
def shared_view(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A conversation a child chose to show the viewer (R-CHAT-03): read-only."""
    conversation, child = queries.access_shared_conversation(request.user, conversation_id)
    chat_messages = queries.list_messages(child, conversation)
    # The guardian reads as themselves: other families' protected children stay hidden (R-LIST-05).
    hidden = _label_people(request.user, conversation, chat_messages)
    return render(
        request,
        "messaging/shared.html",
        {
            "conversation": conversation,
            "child": child,
            "ownership": serialise.ownership_label(conversation, hidden),
            "chat_messages": chat_messages,
            "members": queries.list_members(conversation, request.user),
        },
    )


@login_required
@require_GET
def child_view(request: HttpRequest, child_id: int) -> HttpResponse:
    """R-CHAT-03: whom a child chats with (not what), for a guardian the policy allows."""
    conversations = queries.list_child_conversations(request.user, child_id)
    # Titles as the child knows them, names as the guardian may see them; no preview (who, not what).
    found = Conversation.objects.filter(id__in=[c["id"] for c in conversations])
    shown = summaries.summarise(request.user, list(found), oversees=True, member_of=Person.objects.get(pk=child_id))
    for c in conversations:
        c["summary"] = shown[c["id"]]
    return render(request, "messaging/child.html", {"conversations": conversations})


def weekday_labels() -> list[tuple[str, str]]:
    labels = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
    return list(zip(WEEKDAYS, labels, strict=True))


@login_required
@require_http_methods(["GET", "POST"])
def notice_preferences_view(request: HttpRequest) -> HttpResponse:
    from trygg.notifications import actions as notice_actions
    from trygg.notifications.queries import list_push_devices, list_quiet_hours

    if request.method == "POST" and request.POST.get("form") == "quiet":
        days = [d for d in request.POST.getlist("days") if d in WEEKDAYS]
        start, end = request.POST.get("start", ""), request.POST.get("end", "")
        schedule = {day: [start, end] for day in days} if start and end else {}
        notice_actions.check_set_quiet_hours(request.user, int(request.POST.get("class_id") or 0), schedule)
        return redirect(reverse("messaging:notices"))
    if request.method == "POST":
        notice_actions.check_set_preferences(
            request.user, **{name: request.POST.get(name) == "on" for name in notice_actions.PREFERENCE_FIELDS}
        )
        return redirect(reverse("messaging:notices"))
    pref = notice_actions.preferences_of([request.user.pk])[request.user.pk]
    return render(request, "messaging/notices.html",
                  {"pref": pref, "quiet": list_quiet_hours(request.user), "weekdays": weekday_labels(),
                   "push_devices": list_push_devices(request.user)})
