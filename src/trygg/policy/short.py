"""The guidelines in short, for a pupil of nine and for a guardian (R-ACK-01, R-PUP-02, R-I18N-01).

The rulebook shows every rule beside its source text, which no child reads. Here each card says one
thing a pupil or a guardian should know, in a few plain words with a picture, and stands for one or
more rules: it is shown only when one of them is active in the person's municipality and concerns
them, so the short page never promises what the packs do not say. The full rulebook is one tap away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from trygg.policy import engine
from trygg.policy.queries import concerns


@dataclass(frozen=True)
class Card:
    emoji: str
    title: Any
    text: Any
    rules: tuple[str, ...]


PUPIL_CARDS = (
    Card("🙋", _("Show an adult"),
         _("If a message or a picture makes you feel bad, show an adult. Press “Show an adult” on the message."),
         ("dk_policy.show-an-adult", "amot.report-keeps-evidence", "core_cases.anyone-may-report")),
    Card("💬", _("Be kind in the chat"),
         _("Talk with the people in the chat, not about others. Trygg reminds you if your words can hurt."),
         ("amot.talk-with-not-about", "amot.hurtful-words-nudged", "dk_policy.prevent-harassment-nudged")),
    Card("🤝", _("Nobody is left out"),
         _("Everyone in the class is welcome. If a group leaves someone out, the teacher hears about it."),
         ("amot.zero-tolerance-bullying", "amot.left-out-noticed")),
    Card("🏫", _("The chat is for school"),
         _("In school chats you talk about schoolwork. Chatting with classmates one to one starts in grade "
           "%(min_grade)s. You can always write to your teacher."),
         ("amot.pupil-chat-grade", "amot.school-conversations")),
    Card("📷", _("Ask before a photo"),
         _("Take photos, videos or sound at school only when the teacher says yes. Never share a picture of "
           "someone without asking them."),
         ("dk_policy.pupil-media-agreed", "dk_policy.photo-permission")),
    Card("🎥", _("Video meetings"),
         _("Do not record or take screenshots. When the teacher ends the meeting, it ends for everyone."),
         ("amot.no-recording", "bergen.no-recording", "amot.ending-meeting-ends-for-all")),
    Card("👨‍👩‍👧", _("Your grown-ups can help"),
         _("You can show a chat to your parents. After school they can see who you chat with."),
         ("amot.child-shares-conversation", "amot.guardian-sees-contacts")),
    Card("🌙", _("Quiet time"),
         _("Messages from friends wait until school is over. At night Trygg is quiet."),
         ("amot.social-notifications-held", "amot.class-quiet-hours")),
    Card("🆘", _("If someone is in danger"),
         _("If someone threatens you, or wants to hurt themselves, an adult at school is told so that you get help."),
         ("amot.adult-told-threat-selfharm", "dk_policy.show-an-adult-threat")),
)

GUARDIAN_CARDS = (
    Card("🗣️", _("Talk with people, not about them"),
         _("Write to the people in the conversation, not about other children, parents or staff. Trygg "
           "reminds you before hurtful words are sent."),
         ("amot.talk-with-not-about", "dk_policy.do-not-talk-about-others", "amot.hurtful-words-nudged")),
    Card("🤝", _("When children fall out"),
         _("If your child is harassed, tell the school. You can write to the other parents through Trygg; "
           "the school leader reads the message first."),
         ("dk_policy.parents-reach-each-other", "dk_policy.parents-contact-each-other",
          "core_cases.anyone-may-report")),
    Card("📅", _("A meeting, not a post"),
         _("Questions about children belong in a talk with the school, not on social media. You can always "
           "ask for a meeting."),
         ("dk_policy.talk-not-social-media", "core_meetings.guardian-asks-for-meeting")),
    Card("📷", _("Photos need a yes"),
         _("Share photos or video only when everyone in them has said yes. Video meetings are never recorded."),
         ("dk_policy.photo-permission", "amot.no-recording", "bergen.no-recording")),
    Card("📋", _("The class list"),
         _("You choose what the class list shows about you. The list is public, and you can take your "
           "details off it at any time."),
         ("oslo.opt-in-fields", "oslo.list-is-public", "oslo.consent-recorded")),
    Card("👀", _("Your child's chats"),
         _("Outside school time you see who your child chats with, and your child can show you a conversation."),
         ("amot.guardian-sees-contacts", "amot.child-shares-conversation")),
    Card("🔔", _("Calm notices"),
         _("E-mail, text and push notices say only that something is new: never names or message text. "
           "Social chats wait through school hours."),
         ("kolding.neutral-out-of-app", "core_messaging.notices-to-recipient", "amot.social-notifications-held")),
    Card("📖", _("Read them with your child"),
         _("Go through these with your child, then confirm below that you have."),
         ("amot.guidelines-acknowledged",)),
)

# The roles the short page is written for; everyone else reads the rulebook.
SHORT_ROLES = frozenset({"pupil", "guardian"})


def has_short_page(roles: frozenset[str]) -> bool:
    """Return whether the person is a pupil or a guardian and nothing more (staff read the rulebook)."""
    return bool(roles) and roles <= SHORT_ROLES


def list_cards(viewer: Any) -> list[dict[str, Any]]:
    """Return the cards for the viewer's role whose rules are active and concern them, texts filled in."""
    facts = getattr(viewer, "facts", viewer)
    compiled = engine.policy_for(facts.municipality_id)
    rules = engine.registry().rules
    cards = PUPIL_CARDS if "pupil" in facts.roles else GUARDIAN_CARDS
    out = []
    for card in cards:
        active = [rules[r] for r in card.rules
                  if r in rules and rules[r].pack in compiled.active_packs and concerns(rules[r], facts.roles)]
        if not active:
            continue
        params: dict[str, Any] = {}
        for spec in active:
            params.update(compiled.params.get(spec.id, {}))
        text = str(card.text)
        if "%(" in text:
            if "min_grade" not in params:
                continue  # the card says a number the packs do not set
            text = text % params
        out.append({"emoji": card.emoji, "title": str(card.title), "text": text, "rules": [s.id for s in active]})
    return out
