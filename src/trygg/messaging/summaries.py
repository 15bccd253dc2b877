"""How a conversation looks in a list and in its header: a title people recognise, an avatar, the
last message in a few words (issue 13 item 4).

Who sees what:

* A direct chat is titled by the other person and their role as the reader knows them
  ("Kari Nordmann · kontaktlærer 4A", the people picker's words); a group by its title, or else
  the names of its other members.
* Every name passes the one visibility decision (``directory.queries.hidden_from``, R-LIST-05): a
  protected person is "a pupil" or "a guardian" where a name must stand (the other side of a direct
  chat, the writer of the last message), and is left out of a group's list of names, as they are
  left out of its member list.
* The preview is the newest message the reader may see (a private reply to someone else is not);
  a sensitive message is only "Sensitive message", a deleted or expired one only says so. A
  conversation the reader only oversees (a guardian looking at whom a child chats with, R-CHAT-03)
  has no preview at all: who, never what.
* Avatars are initials on a colour fixed per person (or per conversation), never a photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from trygg.directory.facts import facts_for
from trygg.directory.models import Person, SchoolClass
from trygg.directory.queries import anonymous_word, hidden_from
from trygg.messaging.models import AttachmentKind, Conversation, ConversationKind, Membership, Message
from trygg.messaging.picker import colour, initials, role_of

PREVIEW_CHARS = 80
# A group without a title is named by this many of its members, then "and N more".
NAMES_IN_TITLE = 3


@dataclass(frozen=True)
class Summary:
    conversation_id: int
    title: str
    name: str  # the other person's name (direct) or the group's title, without the role
    role: str  # the other person's role word in a direct chat, else ""
    initials: str
    colour: int
    preview: str | None  # None: nothing to show (no message yet, or the reader only oversees)
    preview_at: Any  # datetime of the previewed message, or None

    def as_dict(self) -> dict[str, Any]:
        """Return the fields the API adds to a conversation (``display_title``, ``last_message``…)."""
        return {
            "display_title": self.title,
            "other_role": self.role or None,
            "avatar": {"initials": self.initials, "colour": self.colour},
            "last_message": None if self.preview is None
            else {"preview": self.preview, "at": self.preview_at.isoformat() if self.preview_at else None},
        }


def _last_messages(viewer: Person, conversations: Sequence[Conversation]) -> dict[int, Message]:
    from trygg.messaging.queries import visible_messages

    ids = []
    for c in conversations:
        if hasattr(c, "last_message_id"):
            ids.append(c.last_message_id)
        else:  # one conversation, fetched without the list's annotation
            ids.append(Message.objects.filter(conversation=c).filter(visible_messages(viewer.pk))
                       .order_by("-id").values_list("id", flat=True).first())
    ids = [i for i in ids if i]
    return {m.conversation_id: m for m in Message.objects.filter(id__in=ids).select_related("sender", "attachment")}


def preview_of(message: Message, viewer: Person, hidden: set[int], named: bool) -> str:
    """Return a message in a few words: its writer (when ``named``) and the start of its text."""
    if message.deleted_at is not None:
        text = _("This message was deleted.")
    elif message.sensitive:
        # The text of a sensitive message never leaves its own page (issue 17).
        text = _("Sensitive message")
    elif message.body.strip():
        text = Truncator(" ".join(message.body.split())).chars(PREVIEW_CHARS)
    elif message.attachment_id:
        text = str(AttachmentKind(message.attachment.kind).label)
    else:
        text = ""
    if message.sender_id == viewer.pk:
        return _("You: %(text)s") % {"text": text}
    if not named:
        return text
    who = anonymous_word(message.sender_id) if message.sender_id in hidden else message.sender.name
    return _("%(name)s: %(text)s") % {"name": who, "text": text}


def summarise(viewer: Person, conversations: Sequence[Conversation], oversees: bool = False,
              member_of: Person | None = None) -> dict[int, Summary]:
    """Return each conversation's summary as ``viewer`` may see it, by conversation id.

    ``conversations`` come from a scoped read (``queries.list_conversations`` annotates the newest
    visible message as ``last_message_id``). With ``oversees`` there is no preview; ``member_of``
    is the person whose side the titles are told from (the child, for a guardian who oversees),
    by default the viewer.
    """
    side = member_of or viewer
    conv_ids = [c.pk for c in conversations]
    members: dict[int, list[Person]] = {cid: [] for cid in conv_ids}
    for membership in Membership.objects.filter(conversation_id__in=conv_ids).select_related("person"):
        if membership.person_id != side.pk:
            members[membership.conversation_id].append(membership.person)
    last = {} if oversees else _last_messages(viewer, conversations)
    everyone = {p.pk for ps in members.values() for p in ps} | {m.sender_id for m in last.values()}
    hidden = hidden_from(viewer, everyone)
    direct_others = {c.pk: members[c.pk][0] for c in conversations
                     if c.kind == ConversationKind.DIRECT and members[c.pk]}
    facts = facts_for([viewer.pk, side.pk, *(p.pk for p in direct_others.values())])
    class_names = dict(SchoolClass.objects.values_list("id", "name")) if direct_others else {}
    result = {}
    for c in conversations:
        other = direct_others.get(c.pk)
        role = ""
        if other is not None and other.pk in hidden:
            name, avatar_initials, avatar_colour = anonymous_word(other.pk), "?", 5
        elif other is not None:
            name, avatar_initials, avatar_colour = other.name, initials(other.name), colour(other.username)
            role = role_of(facts[side.pk], facts[other.pk], class_names) if other.pk in facts else ""
        else:
            name = c.title or _names(members[c.pk], hidden) or _("Only you")
            avatar_initials, avatar_colour = initials(c.title or name), colour(f"conversation-{c.pk}")
        message = last.get(c.pk)
        preview = None if message is None else preview_of(message, viewer, hidden, other is None)
        result[c.pk] = Summary(
            conversation_id=c.pk,
            title=f"{name} · {role}" if role else name,
            name=name,
            role=role,
            initials=avatar_initials,
            colour=avatar_colour,
            preview=preview,
            preview_at=message.created_at if message is not None else None,
        )
    return result


def _names(people: list[Person], hidden: set[int]) -> str:
    # A protected member is left out, as in the member list: no placeholder to count them by.
    names = sorted(p.name for p in people if p.pk not in hidden)
    if not names:
        return ""
    if len(names) <= NAMES_IN_TITLE:
        return ", ".join(names)
    shown = ", ".join(names[:NAMES_IN_TITLE])
    return _("%(names)s and %(count)d more") % {"names": shown, "count": len(names) - NAMES_IN_TITLE}
