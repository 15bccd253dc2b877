"""Search over the viewer's own conversations and messages (issue 13 item 4).

What can be found, and by whom:

* Only conversations the viewer is a member of, and in them only the messages the viewer may read
  (``queries.visible_messages``: someone else's private reply is not).
* Never the text of a sensitive message, nor a deleted or expired one (retention blanks the text
  and sets ``deleted_at``, so both are the same condition).
* Conversations match by the title the viewer sees (``summaries``), which already passes the
  visibility decision: searching for a protected pupil's name finds nothing for other families,
  and messages match by their text only, never by who wrote them.

PostgreSQL searches with its full-text search in the reader's language (stemming: "møtet" finds
"møte"); SQLite, the embedded default, falls back to a case-insensitive "contains every word".
SQLite's LIKE folds ASCII letters only, so there "Ø" does not find "ø": a known limit of the
fallback, not worth a custom collation for a single-school installation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from trygg.directory.models import Person
from trygg.directory.queries import hidden_from
from trygg.errors import BadInput
from trygg.messaging import summaries
from trygg.messaging.models import Message
from trygg.messaging.queries import list_conversations, visible_messages
from trygg.messaging.serialise import person_ref

MAX_QUERY_CHARS = 100
MAX_RESULTS = 50
EXCERPT_CHARS = 140
# PostgreSQL text-search configurations by interface language; others use "simple" (no stemming).
CONFIGS = {"nb": "norwegian", "da": "danish", "en": "english"}


@dataclass(frozen=True)
class Results:
    query: str
    conversations: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """Return the API's answer (times as ISO 8601; the page reads the datetimes)."""
        return {"query": self.query, "conversations": self.conversations,
                "messages": [{**m, "at": m["at"].isoformat()} for m in self.messages]}


def clean_query(raw: Any) -> str:
    """Return the search words, or raise ``BadInput`` for nothing to search or too much."""
    text = " ".join(raw.split()) if isinstance(raw, str) and "\x00" not in raw else ""
    if not text or len(text) > MAX_QUERY_CHARS:
        raise BadInput(_("Write between 1 and %(max)d characters to search.") % {"max": MAX_QUERY_CHARS},
                       code="bad_query")
    return text


def _matching(viewer: Person, words: str, language: str) -> QuerySet[Message]:
    base = (
        Message.objects.filter(conversation__memberships__person=viewer)
        .filter(visible_messages(viewer.pk))
        .filter(deleted_at__isnull=True, sensitive=False)
        .exclude(body="")
    )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        config = CONFIGS.get(language[:2], "simple")
        vector = SearchVector("body", config=config)
        query = SearchQuery(words, search_type="websearch", config=config)
        return base.annotate(rank=SearchRank(vector, query)).filter(rank__gt=0).order_by("-rank", "-id")
    condition = Q()
    for word in words.split():
        condition &= Q(body__icontains=word)
    return base.filter(condition).order_by("-id")


def excerpt(body: str, words: str) -> str:
    """Return the part of ``body`` around the first word found, at most ``EXCERPT_CHARS`` long."""
    flat = " ".join(body.split())
    folded = flat.casefold()
    at = min((i for i in (folded.find(w.casefold()) for w in words.split()) if i >= 0), default=0)
    start = max(0, at - EXCERPT_CHARS // 3)
    piece = flat[start:start + EXCERPT_CHARS]
    return ("…" if start else "") + piece + ("…" if start + EXCERPT_CHARS < len(flat) else "")


def search(viewer: Person, raw: Any, language: str = "nb") -> Results:
    """Return the viewer's conversations whose title matches and the messages whose text matches."""
    words = clean_query(raw)
    conversations = list_conversations(viewer)
    shown = summaries.summarise(viewer, conversations)
    needles = [w.casefold() for w in words.split()]
    found_conversations = [
        {"id": c.pk, "display_title": shown[c.pk].title, "avatar": {"initials": shown[c.pk].initials,
                                                                     "colour": shown[c.pk].colour}}
        for c in conversations
        if all(n in shown[c.pk].title.casefold() for n in needles)
    ]
    messages = list(_matching(viewer, words, language).select_related("sender")[:MAX_RESULTS])
    hidden = hidden_from(viewer, {m.sender_id for m in messages})
    titles = {c.pk: shown[c.pk].title for c in conversations}
    found_messages = [
        {
            "id": m.pk,
            "conversation_id": m.conversation_id,
            "conversation_title": titles.get(m.conversation_id, ""),
            "sender": person_ref(m.sender, hidden),
            "excerpt": excerpt(m.body, words),
            "at": m.created_at,
        }
        for m in messages
    ]
    return Results(words, found_conversations, found_messages)
