"""Answer schemas the API's apps share: the base of every answer, people, nudges and decisions.

Every success answer of ``/api/v1/openapi.json`` has a named schema, so generated clients get
typed answers (issue 18). Answers are open (``extra="allow"``): a field added to an answer later
(design.md allows more fields) reaches clients without a schema change, and older clients ignore it.
Times are ISO 8601 strings, as the serialisers write them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# A text with something in it besides white space (what ``str.strip()`` removes, which also takes
# the separators U+001C-U+001F), and no NUL (the API refuses NUL anywhere: PostgreSQL cannot store it).
NOT_BLANK = r"^[^\x00]*[^\s\x00\x1c-\x1f][^\x00]*$"
NO_NUL = r"^[^\x00]*$"
# A username as the directory holds them; an unknown one answers 404, as one the caller may not see.
USERNAME = {"min_length": 1, "max_length": 150, "pattern": NOT_BLANK}


class Out(BaseModel):
    """The base of every answer schema: the named fields are typed, further fields pass through.

    A plain pydantic model, not ``ninja.Schema``: Ninja's schema reads only the declared fields of
    what a handler returns, and would drop the rest. ``trygg.api`` answers with ``exclude_unset``,
    so a field that defaults to null is left out where the serialiser leaves it out (a reporter's
    view of a case has no ``checklist``), rather than sent as null.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PersonRef(Out):
    """A person as a reader sees them; a hidden (protected) person has neither id nor username (R-LIST-05)."""

    id: int | None
    username: str | None
    name: str


class HelpLine(Out):
    name: str
    number: str
    text: str


class Nudge(Out):
    """A nudge before sending: the rule's reason in words, never the data it looked at."""

    rule: str
    requirement: str | None
    category: str
    message: str
    level: str | None = None
    help_lines: list[HelpLine] | None = None
    help_intro: str | None = None


class DecisionOut(Out):
    """The policy's answer to a preview: allowed, the reason if refused, and the nudges."""

    allowed: bool
    reason: str
    rule: str | None
    requirement: str | None
    nudges: list[Nudge]


class ErrorField(Out):
    field: str
    problem: str


class ApiError(Out):
    """The JSON error of design.md; some errors add fields (``fields`` for bad input, ``notice``...).

    Named ApiError: generators keep "Error" for their own classes (openapi-python-client does).
    """

    error: str
    message: str
    rule: str | None
    requirement: str | None
    fields: list[ErrorField] | None = None


class CaseCreatedOut(Out):
    case_id: int
    status: str
