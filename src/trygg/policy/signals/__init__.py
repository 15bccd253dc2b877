"""Text signals: notice threats, self-harm, bullying, sexual talk, exclusion and talk about
someone absent in one chat message, in Norwegian (bokmål and nynorsk), Danish and English.

``classify(text, context=...)`` returns a ``Signals`` value: the categories found (an empty set
means "none"), the language the text is written in, and for each category the offsets of the
words that made it fire, so a caller can build a nudge. It runs in-process, with no network, no
model fetched at run time and nothing Django-specific; it reads its word lists and rules from
``data/`` once per process and never stores or logs the text it reads. See README.md.
"""

from __future__ import annotations

from .classifier import classify
from .model import load_model
from .types import (
    ABOUT_ABSENT,
    BULLYING,
    CATEGORIES,
    EXCLUSION,
    NONE,
    SELFHARM,
    SEXUAL,
    THREAT,
    Evidence,
    SignalContext,
    Signals,
)

__all__ = [
    "ABOUT_ABSENT",
    "BULLYING",
    "CATEGORIES",
    "EXCLUSION",
    "NONE",
    "SELFHARM",
    "SEXUAL",
    "THREAT",
    "Evidence",
    "SignalContext",
    "Signals",
    "classify",
    "load_model",
]
