"""JSON API of the messaging app: conversations, messages, read state, members and attachments.

Handlers stay thin: access (queries), check (actions), serialise.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool

from trygg.api_schemas import NOT_BLANK, USERNAME, DecisionOut, Nudge, Out, PersonRef
from trygg.directory.queries import hidden_from
from trygg.errors import BadInput, NotFoundOrHidden
from trygg.messaging import actions, attachments, media, picker, queries, search, serialise, summaries
from trygg.policy.engine import Decision
from trygg.signin.stepup import require_step_up

router = Router(tags=["messaging"])

class In(Schema):
    model_config = ConfigDict(extra="forbid")


Username = Annotated[str, Field(**USERNAME)]
MessageId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ConversationIn(In):
    kind: Literal["direct", "group"]
    title: str = Field(default="", max_length=200)
    # A direct conversation has one other person, a group one or more.
    member_usernames: list[Username] = Field(min_length=1, max_length=actions.MAX_GROUP_MEMBERS)
    school_owned: StrictBool = False


class MessageIn(In):
    # No max_length here: an over-long body must answer 413, which the action raises.
    body: str = Field(pattern=NOT_BLANK)
    client_txn_id: str = Field(min_length=1, max_length=actions.MAX_TXN_CHARS, pattern=NOT_BLANK)
    reply_to: MessageId | None = None
    # Health or family matters: the text is hidden until the reader steps up (issue 17).
    sensitive: StrictBool = False


class PreviewIn(In):
    body: str = Field(pattern=NOT_BLANK)
    reply_to: MessageId | None = None


class EditIn(In):
    body: str = Field(pattern=NOT_BLANK)


class ReadIn(In):
    message_id: MessageId | None = None


class MemberIn(In):
    username: Username


class ShareIn(In):
    guardian_username: Username


class DiscussionIn(In):
    open: StrictBool


class MessagesQuery(Schema):
    after: int | None = Field(default=None, ge=0)
    limit: int = Field(default=queries.PAGE_SIZE, ge=1, le=queries.PAGE_SIZE)


# ------------------------------------------------------------------------------------- answers


class AvatarOut(Out):
    """Initials on one of six colours (0-5); never a photo."""

    initials: str
    colour: int


class LastMessageOut(Out):
    """The newest message the viewer may read, as a short preview (placeholders for sensitive or
    deleted ones)."""

    preview: str
    at: str | None


class ConversationOut(Out):
    """A conversation; the list adds ``unread`` and ``last_read_message_id``, the single read
    ``members`` and ``frozen``, a creation its ``nudges``; list and read add how the viewer
    recognises it (``display_title``, ``other_role``, ``avatar``, ``last_message``)."""

    id: int
    kind: str
    title: str
    created_by: PersonRef | None
    school_owned: bool
    social: bool
    ownership: str
    class_id: int | None
    created_at: str
    last_message_at: str | None
    unread: int | None = None
    last_read_message_id: int | None = None
    members: list[PersonRef] | None = None
    display_title: str | None = None
    other_role: str | None = None
    avatar: AvatarOut | None = None
    last_message: LastMessageOut | None = None
    frozen: bool | None = None
    nudges: list[Nudge] | None = None


class AttachmentRefOut(Out):
    """What every reader of a message sees of its attachment: the file, never who is in it."""

    id: int
    kind: str
    content_type: str
    size: int
    url: str | None
    deleted: bool
    delete_after_use: bool


class MessageOut(Out):
    """A message; a sensitive one carries no text (``GET /messages/{id}/text`` after a step-up)."""

    id: int
    conversation_id: int
    sender: PersonRef | None
    body: str
    sensitive: bool
    client_txn_id: str
    created_at: str
    edited_at: str | None
    deleted: bool
    deleted_at: str | None
    reply_to: int | None
    private_to: int | None
    is_announcement: bool
    discussion_open: bool
    show_an_adult: bool
    event_id: int | None
    attachment: AttachmentRefOut | None


class SentMessageOut(MessageOut):
    """A sent or edited message with the nudges its text raised."""

    nudges: list[Nudge]


class FoundConversationOut(Out):
    id: int
    display_title: str
    avatar: AvatarOut


class FoundMessageOut(Out):
    id: int
    conversation_id: int
    conversation_title: str
    sender: PersonRef
    excerpt: str
    at: str


class SearchOut(Out):
    """Conversations whose title (as the caller sees it) and messages whose text match."""

    query: str
    conversations: list[FoundConversationOut]
    messages: list[FoundMessageOut]


class ContactOut(Out):
    username: str
    name: str
    role: str
    # "class" is a Python keyword: the field keeps its JSON name through the alias.
    class_name: str | None = Field(alias="class")
    group: str
    initials: str
    colour: int


class ReadStateOut(Out):
    conversation_id: int
    last_read_message_id: int | None


class MemberAddedOut(Out):
    conversation_id: int
    username: str


class SharedOut(Out):
    conversation_id: int
    guardian: str


class SensitiveTextOut(Out):
    id: int
    conversation_id: int
    body: str


class ChildConversationOut(Out):
    id: int
    kind: str
    title: str
    school_owned: bool
    members: list[str]
    shared: bool


class SharedConversationOut(Out):
    conversation: ConversationOut
    messages: list[MessageOut]


class PicturedOut(Out):
    id: int
    username: str
    name: str
    status: str
    decided_at: str | None
    can_decide: bool


class UploaderOut(Out):
    id: int | None
    name: str


class AttachmentOut(AttachmentRefOut):
    """An attachment as someone concerned sees it (sender, people in it, teacher)."""

    conversation_id: int
    uploader: UploaderOut
    status: str
    caption: str
    nobody_identifiable: bool
    pictured: list[PicturedOut]
    pictured_count: int
    waiting_for_permission: bool
    waiting_for_teacher: bool
    message_id: int | None
    can_agree: bool
    can_withdraw: bool
    rules: list[str]
    created_at: str
    released_at: str | None

FILE = {"responses": {200: {"description": "The file (a photo, sound or video clip)", "content": {
    media: {"schema": {"type": "string", "format": "binary"}} for media in ("image/*", "audio/*", "video/*")}}}}

# The upload's form, read by hand (a file and repeated fields); documented here for clients.
UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "PNG, JPEG or WebP, or a short sound or video"},
        "pictured_usernames": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 150}},
        "nobody_identifiable": {"type": "boolean"},
        "caption": {"type": "string"},
        "client_txn_id": {"type": "string", "maxLength": 64},
        "reply_to": {"type": "integer", "minimum": 1},
    }}}}}}


def decision_out(decision: Decision, writer: Any = None) -> dict[str, Any]:
    """A decision as the composer shows it: allowed, the reason if refused, and nudges."""
    from django.utils.translation import get_language

    lang = (get_language() or "nb")[:2]
    denied = decision.denied_by
    return {
        "allowed": decision.allowed,
        "reason": decision.reason(lang) if not decision.allowed else "",
        "rule": denied.rule.id if denied else None,
        "requirement": denied.rule.requirements[0] if denied and denied.rule.requirements else None,
        "nudges": serialise.nudges_of(decision, writer),
    }


@router.get("/conversations", response=list[ConversationOut])
def list_conversations(request: HttpRequest) -> list[dict[str, Any]]:
    conversations = queries.list_conversations(request.auth)
    hidden = hidden_from(request.auth, {c.created_by_id for c in conversations if c.created_by_id})
    shown = summaries.summarise(request.auth, conversations)
    return [
        serialise.serialise_conversation(c, hidden, unread=c.unread, last_read_message_id=c.last_read or 0,
                                         **shown[c.pk].as_dict())
        for c in conversations
    ]


@router.post("/conversations", response={200: ConversationOut, 201: ConversationOut})
def create_conversation(request: HttpRequest, payload: ConversationIn) -> Status:
    result = actions.check_create_conversation(
        request.auth, payload.kind, payload.title, payload.member_usernames, payload.school_owned
    )
    body = serialise.serialise_conversation(result.conversation, nudges=result.nudges)  # the creator is the caller
    return Status(201 if result.created else 200, body)


class ContactsQuery(Schema):
    q: str = Field(default="", max_length=100)


class SearchQuery(Schema):
    q: str = Field(min_length=1, max_length=search.MAX_QUERY_CHARS, pattern=NOT_BLANK)


@router.get("/search", response=SearchOut)
def search_conversations(request: HttpRequest, q: Query[SearchQuery]) -> dict[str, Any]:
    """The caller's conversations by title and messages by text; never sensitive or deleted text."""
    from django.utils.translation import get_language

    return search.search(request.auth, q.q, get_language() or "nb").as_dict()


@router.get("/contacts", response=list[ContactOut])
def list_contacts(request: HttpRequest, q: Query[ContactsQuery]) -> list[dict[str, Any]]:
    """People the caller may start a conversation with (the policy's answer), grouped, searchable."""
    return picker.contacts_out(picker.list_startable_contacts(request.auth, q.q))


@router.post("/conversations/preview", response=DecisionOut)
def preview_conversation(request: HttpRequest, payload: ConversationIn) -> dict[str, Any]:
    return decision_out(
        actions.preview_conversation(request.auth, payload.kind, payload.member_usernames, payload.school_owned)
    )


@router.get("/conversations/{conversation_id}", response=ConversationOut)
def get_conversation(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    conversation = queries.access_conversation(request.auth, conversation_id)
    members = queries.list_members(conversation, request.auth)
    return serialise.serialise_conversation(
        conversation, serialise.hidden_in(request.auth, conversation),
        members=[serialise.person_ref(p) for p in members],
        # R-STAFF-07: read-only until an adult from the school is added.
        frozen=queries.is_frozen(conversation),
        **summaries.summarise(request.auth, [conversation])[conversation.pk].as_dict(),
    )


@router.get("/conversations/{conversation_id}/messages", response=list[MessageOut])
def list_messages(request: HttpRequest, conversation_id: int, q: Query[MessagesQuery]) -> list[dict[str, Any]]:
    conversation = queries.access_conversation(request.auth, conversation_id)
    found = queries.list_messages(request.auth, conversation, q.after, q.limit)
    hidden = hidden_from(request.auth, {m.sender_id for m in found})
    return [serialise.serialise_message(m, hidden) for m in found]


@router.post("/conversations/{conversation_id}/messages", response={200: SentMessageOut, 201: SentMessageOut})
def send_message(request: HttpRequest, conversation_id: int, payload: MessageIn) -> Status:
    result = actions.check_send(request.auth, conversation_id, payload.body, payload.client_txn_id, payload.reply_to,
                                sensitive=payload.sensitive)
    body = serialise.serialise_message(result.message)
    body["nudges"] = result.nudges
    return Status(201 if result.created else 200, body)


@router.post("/conversations/{conversation_id}/messages/preview", response=DecisionOut)
def preview_message(request: HttpRequest, conversation_id: int, payload: PreviewIn) -> dict[str, Any]:
    return decision_out(actions.preview_send(request.auth, conversation_id, payload.body, payload.reply_to),
                        request.auth.facts)


@router.post("/conversations/{conversation_id}/read", response=ReadStateOut)
def mark_read(request: HttpRequest, conversation_id: int, payload: ReadIn) -> dict[str, Any]:
    membership = actions.check_mark_read(request.auth, conversation_id, payload.message_id)
    return {"conversation_id": conversation_id, "last_read_message_id": membership.last_read_message_id}


@router.post("/conversations/{conversation_id}/members", response={201: MemberAddedOut})
def add_member(request: HttpRequest, conversation_id: int, payload: MemberIn) -> Status:
    membership = actions.check_add_member(request.auth, conversation_id, payload.username)
    return Status(201, {"conversation_id": conversation_id, "username": membership.person.username})


@router.delete("/conversations/{conversation_id}/members/{username}", response={204: None})
def remove_member(request: HttpRequest, conversation_id: int, username: str) -> Status:
    actions.check_remove_member(request.auth, conversation_id, username)
    return Status(204, None)


@router.post("/conversations/{conversation_id}/share", response={201: SharedOut})
def share_with_guardian(request: HttpRequest, conversation_id: int, payload: ShareIn) -> Status:
    share = actions.check_share_with_guardian(request.auth, conversation_id, payload.guardian_username)
    return Status(201, {"conversation_id": conversation_id, "guardian": share.guardian.username})


@router.patch("/messages/{message_id}", response=SentMessageOut)
def edit_message(request: HttpRequest, message_id: int, payload: EditIn) -> dict[str, Any]:
    # The edit's answer carries the nudges the new text raises, as a send's does.
    result = actions.check_edit(request.auth, message_id, payload.body)
    return {**serialise.serialise_message(result.message), "nudges": result.nudges}


@router.get("/messages/{message_id}/text", response=SensitiveTextOut)
def read_sensitive_text(request: HttpRequest, message_id: int) -> dict[str, Any]:
    """The text of a message, for a reader who may see it; a sensitive one asks for a step-up first."""
    message = queries.access_message(request.auth, message_id)
    if message.sensitive:
        require_step_up(request, message, "sensitive_message")
    return serialise.sensitive_text(message)


@router.post("/messages/{message_id}/preview", response=DecisionOut)
def preview_edit(request: HttpRequest, message_id: int, payload: EditIn) -> dict[str, Any]:
    """The nudges an edit's new text would get (issue 14: edits are read as sends are); saves nothing."""
    return decision_out(actions.preview_edit(request.auth, message_id, payload.body), request.auth.facts)


@router.delete("/messages/{message_id}", response=MessageOut)
def delete_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    message = actions.check_delete(request.auth, message_id)
    return serialise.serialise_message(message, hidden_from(request.auth, [message.sender_id]))


@router.post("/messages/{message_id}/discussion", response=MessageOut)
def set_discussion(request: HttpRequest, message_id: int, payload: DiscussionIn) -> dict[str, Any]:
    return serialise.serialise_message(actions.check_set_discussion(request.auth, message_id, payload.open))  # own


@router.get("/children/{child_id}/conversations", response=list[ChildConversationOut])
def child_conversations(request: HttpRequest, child_id: int) -> list[dict[str, Any]]:
    """R-CHAT-03: whom a young child chats with, for a guardian with parental responsibility."""
    return queries.list_child_conversations(request.auth, child_id)


@router.get("/shared/{conversation_id}/messages", response=SharedConversationOut)
def shared_messages(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """A conversation a child chose to share with the viewer (R-CHAT-03)."""
    conversation, child = queries.access_shared_conversation(request.auth, conversation_id)
    messages = queries.list_messages(child, conversation)
    # The guardian reads as themselves: other families' protected children stay hidden (R-LIST-05).
    hidden = serialise.hidden_in(request.auth, conversation, [m.sender for m in messages])
    return {
        "conversation": serialise.serialise_conversation(conversation, hidden),
        "messages": [serialise.serialise_message(m, hidden) for m in messages],
    }


# ---------------------------------------------------------------------------------- attachments


class DecisionIn(In):
    grant: StrictBool
    person_username: str | None = Field(default=None, max_length=150)


class AgreementIn(In):
    agree: StrictBool


@router.post("/conversations/{conversation_id}/attachments", response={200: AttachmentOut, 201: AttachmentOut},
             openapi_extra=UPLOAD)
def upload_attachment(request: HttpRequest, conversation_id: int) -> Status:
    """Send a photo (PNG, JPEG, WebP) or a short sound or video clip (multipart form).

    Fields: ``file``; ``pictured_usernames`` (repeated, or comma-separated: the people in it) or
    ``nobody_identifiable=true``; optional ``caption``, ``client_txn_id``, ``reply_to``.
    Held until everyone in it has given permission (R-PAR-02, R-STF-02) and, for a pupil in a
    school conversation, a teacher has agreed (R-PUP-01). 413 over the size limit.
    """
    from django.http.multipartparser import MultiPartParserError

    try:
        files, form = request.FILES, request.POST
    except MultiPartParserError:
        raise BadInput(code="bad_multipart") from None
    reply_to = form.get("reply_to") or None
    if reply_to is not None and not str(reply_to).isdigit():
        raise BadInput(code="bad_reply_to")
    attachment, created = attachments.check_upload(
        request.auth,
        conversation_id,
        files.get("file"),
        pictured_usernames=form.getlist("pictured_usernames"),
        nobody_identifiable=attachments.parse_flag(form.get("nobody_identifiable")),
        caption=form.get("caption", ""),
        client_txn_id=form.get("client_txn_id", ""),
        reply_to_id=int(reply_to) if reply_to else None,
    )
    return Status(201 if created else 200, serialise.serialise_attachment(attachment, request.auth))


@router.get("/attachments/requests", response=list[AttachmentOut])
def attachment_requests(request: HttpRequest) -> list[dict[str, Any]]:
    """Held attachments the viewer is asked about (permission, or a teacher's agreement)."""
    return [serialise.serialise_attachment(a, request.auth) for a in queries.list_attachment_requests(request.auth)]


@router.get("/conversations/{conversation_id}/attachments/pending", response=list[AttachmentOut])
def pending_attachments(request: HttpRequest, conversation_id: int) -> list[dict[str, Any]]:
    """The viewer's own held attachments in a conversation, and those they are asked about there."""
    conversation = queries.access_conversation(request.auth, conversation_id)
    mine = queries.list_pending_uploads(request.auth, conversation)
    asked = [a for a in queries.list_attachment_requests(request.auth) if a.conversation_id == conversation.pk]
    seen: set[int] = set()
    result = []
    for attachment in [*mine, *asked]:
        if attachment.pk not in seen:
            seen.add(attachment.pk)
            result.append(serialise.serialise_attachment(attachment, request.auth))
    return result


@router.get("/attachments/{attachment_id}", response=AttachmentOut)
def get_attachment(request: HttpRequest, attachment_id: int) -> dict[str, Any]:
    return serialise.serialise_attachment(queries.access_attachment(request.auth, attachment_id), request.auth)


@router.get("/attachments/{attachment_id}/file", url_name="attachment_file", openapi_extra=FILE)
def attachment_file(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """The file itself, for whoever may see it (404 for anyone else); never a public URL."""
    attachment = queries.access_attachment(request.auth, attachment_id)
    if not attachment.has_file:
        raise NotFoundOrHidden()
    try:
        # Read whole (attachments are a few MB at most): a file iterator under ASGI would be
        # drained in a thread anyway, with a warning on every picture.
        content = media.path_of(attachment.stored_name).read_bytes()
    except (OSError, ValueError):
        raise NotFoundOrHidden() from None
    extension = attachment.content_type.split("/")[-1].replace("mpeg", "mp3").replace("jpeg", "jpg")
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="attachment-{attachment.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # Opened on its own, the file is a sandboxed document that can run nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    return response


@router.post("/attachments/{attachment_id}/permission", response=AttachmentOut)
def decide_permission(request: HttpRequest, attachment_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Give or refuse permission for yourself or a child you answer for (R-PAR-02, R-STF-02)."""
    attachment = attachments.check_decide(request.auth, attachment_id, payload.grant, payload.person_username)
    return serialise.serialise_attachment(attachment, request.auth)


@router.post("/attachments/{attachment_id}/agreement", response=AttachmentOut)
def decide_agreement(request: HttpRequest, attachment_id: int, payload: AgreementIn) -> dict[str, Any]:
    """A teacher of the conversation agrees to a pupil's upload, or not (R-PUP-01)."""
    attachment = attachments.check_agree(request.auth, attachment_id, payload.agree)
    return serialise.serialise_attachment(attachment, request.auth)


@router.delete("/attachments/{attachment_id}", response=AttachmentOut)
def withdraw_attachment(request: HttpRequest, attachment_id: int) -> dict[str, Any]:
    """The sender withdraws an attachment that is still waiting; the file is deleted."""
    attachment = attachments.check_withdraw(request.auth, attachment_id)
    return serialise.serialise_attachment(attachment, request.auth)


__all__ = ["BadInput", "router"]
