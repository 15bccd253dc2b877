"""Run the rules over one message: tokens, language, tags, idioms, reported speech, then signals."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from .language import detect
from .model import Model, Rule, load_model
from .normalise import COMMA, EMOJI, QUOTE, STOP, WORD, Token, join_spaced, spellings, tokenise
from .patterns import Clause, Match, find
from .types import ABOUT_ABSENT, BULLYING, Evidence, SignalContext, Signals

# A compound is only looked for in words at least this long ("møkkaunge", "drittsekk"); its head
# may end in a linking letter ("grise-tryne").
_MIN_COMPOUND = 6
_LINKS = ("e", "s", "a")
_NEG_WINDOW_BEFORE = 3
_NEG_WINDOW_AFTER = 2
# "jeg hater livet mitt og vil dø": the subject of a verb after "og"/"and" is the one before it.
_AND = frozenset({"og", "and", "men", "but", "&", "+"})
_SUBJECTS = ("SELF", "WE")
# Chat drops the subject "I": "vil bare dø", "har skadet meg selv igjen", "tok en hel boks piller".
# A clause that starts with one of these, with no subject right after it, gets an implied "jeg".
_PRO_DROP = frozenset({"MODAL", "WANT", "HAVE", "THINK", "ENDURE", "WISH", "PAST_SELF"})
_SUBJECT_TAGS = frozenset({"SELF", "WE", "YOU", "THIRD", "NAME", "NAME_GUESS", "SOMEONE", "QUANT_NEG", "QUANT_ALL"})
_VERBISH = frozenset({"MODAL", "WANT", "VIOLENT", "NEG", "HAVE", "ENDURE", "TA", "BRING", "HARM", "CUT", "KILL_V",
                      "GET", "BREAK", "BURN", "TAKE", "JUMP", "THINK", "SLÅ"})


class _Message:
    """Everything known about one message while it is being classified."""

    def __init__(self, tokens: list[Token], language: str, context: SignalContext | None):
        self.tokens = tokens
        self.language = language
        self.context = context
        self.clauses: list[Clause] = []
        self.clause_sentence: list[int] = []
        self.tags: set[str] = set()
        self.forms: set[str] = set()
        self.quoted: set[int] = set()


def classify(text: str, *, context: SignalContext | None = None) -> Signals:
    """Return the signals in one message: its categories, its language and where each was seen.

    No network, no database and no Django: the word lists are read from this package's data
    files once per process. The text is only read; nothing of it is kept or logged.
    """
    model = load_model()
    tokens = join_spaced(tokenise(text), text, model.lexicon.is_known)
    hint = context.language_hint if context else None
    words = [t.forms[-1] if len(t.forms) > 1 and t.forms[-1] in model.lexicon.sources else t.forms[0]
             for t in tokens if t.kind == WORD]
    detected = detect(words, model.markers, hint, model.lexicon.sources, model.cues)
    if context is not None and context.is_report_quote:
        return Signals(frozenset(), detected.language)
    msg = _Message(tokens, detected.language, context)
    _tag(model, msg)
    _segment(model, msg)
    _mask_idioms(model, msg)
    _mark_reported(model, msg)
    evidence: list[Evidence] = []
    candidates: set[int] = set()
    index = model.rule_index
    for tag in msg.tags:
        candidates.update(index.get(tag, ()))
    for form in msg.forms:
        candidates.update(index.get("=" + form, ()))
    for number in sorted(candidates):
        _run_rule(model, msg, model.rules[number], evidence)
    _vocative(model, msg, evidence)
    _about_absent(model, msg, evidence)
    return Signals(frozenset(e.category for e in evidence), detected.language, tuple(evidence))


# ------------------------------------------------------------------------------------------ tagging


def _entries_tags(model: Model, entries: Iterable, language: str) -> set[str]:
    return {e.tag for e in entries if e.langs is None or language in e.langs}


def _word_tags(model: Model, tok: Token, language: str) -> set[str]:
    lex = model.lexicon
    tags: set[str] = set()
    for form in tok.forms:
        entries = lex.words.get(form)
        if entries:
            tags |= _entries_tags(model, entries, language)
        tags |= _entries_tags(model, lex.glob_entries(form), language)
    if not tags and "*" in tok.forms[0]:
        for word in lex.starred(tok.forms[0]):
            tags |= _entries_tags(model, lex.words[word], language)
    if not tags:
        for form in tok.forms:
            if len(form) >= _MIN_COMPOUND:
                tags |= _compound_tags(model, form, language)
    return tags


def _compound_tags(model: Model, form: str, language: str) -> set[str]:
    """Return the class a compound word belongs to ("drittunge" → INSULT_N), if any."""
    words = model.lexicon.words
    found: set[str] = set()
    for i in range(3, len(form) - 2):
        head, tail = form[:i], form[i:]
        tail_tags = _entries_tags(model, words.get(tail, ()), language)
        if not tail_tags:
            continue
        head_tags = _entries_tags(model, words.get(head, ()), language)
        if not head_tags and head[-1] in _LINKS:
            head_tags = _entries_tags(model, words.get(head[:-1], ()), language)
        for head_class, tail_class, result in model.compounds:
            if tail_class not in tail_tags:
                continue
            if head_class is None:
                if len(tail) >= 4:
                    found.add(result)
            elif head_class in head_tags:
                found.add(result)
    return found


def _tag(model: Model, msg: _Message) -> None:
    ctx = msg.context
    present, absent = _context_names(ctx)
    knows_present = bool(ctx and ctx.present_names)
    sentence_start = True
    for tok in msg.tokens:
        if tok.kind == WORD:
            tags = _word_tags(model, tok, msg.language)
            if tok.raw == "I" and msg.language == "da" and not sentence_start:
                tags = {"YOU"}  # Danish "I" is "you" (plural); lower-case "i" is "in"
            tags.add("WORD")
            form = tok.forms[0]
            if form in present:
                tags |= {"NAME", "NAME_PRESENT"}
            elif form in absent:
                tags |= {"NAME", "NAME_ABSENT"}
            elif tok.capitalised and (form in model.names or (form.endswith("s") and form[:-1] in model.names)):
                tags.add("NAME")
                if knows_present:
                    tags.add("NAME_ABSENT")
            elif (tok.capitalised and not sentence_start and len(form) >= 3 and form.isalpha()
                  and tags == {"WORD"} and not _is_marker(model, form)):
                tags.add("NAME_GUESS")
            tok.tags = tags
            msg.forms.update(tok.forms)
            sentence_start = False
        elif tok.kind == EMOJI:
            entries = model.lexicon.words.get(tok.forms[0], ())
            tok.tags = _entries_tags(model, entries, msg.language) | {"EMOJI"}
        elif tok.kind == STOP:
            sentence_start = True
    _danish_you(msg)
    _carry_subject(msg.tokens)
    for tok in msg.tokens:
        if tok.tags:
            _expand(model, tok.tags)


def _danish_you(msg: _Message) -> None:
    """Read a sentence-initial Danish "I" as "you" when a verb follows ("I må ikke invitere hende"),
    and as "in" otherwise ("I bogen dør hun")."""
    if msg.language != "da":
        return
    words = [t for t in msg.tokens if t.kind == WORD]
    for tok, nxt in zip(words, words[1:], strict=False):
        if tok.raw == "I" and "YOU" not in tok.tags and not nxt.tags.isdisjoint(
                {"COP", "MODAL", "NEG", "HAVE", "GET", "WANT", "MODAL_DENY"}):
            tok.tags = {"YOU", "WORD"}


def _carry_subject(tokens: list[Token]) -> None:
    """Give "og"/"and" the subject of its sentence when the verb after it has none of its own."""
    subject: str | None = None
    words = [t for t in tokens if t.kind in (WORD, STOP)]
    for i, tok in enumerate(words):
        if tok.kind == STOP:
            subject = None
            continue
        for tag in _SUBJECTS:
            if tag in tok.tags:
                subject = tag
        if subject and tok.forms and tok.forms[0] in _AND and i + 1 < len(words):
            nxt = words[i + 1]
            if nxt.kind == WORD and not nxt.tags.isdisjoint(_VERBISH) and nxt.tags.isdisjoint(
                    {"SELF", "WE", "YOU", "THIRD"}):
                tok.tags.add(subject)


def _expand(model: Model, tags: set[str]) -> None:
    extra: set[str] = set()
    for tag in tags:
        more = model.expands.get(tag)
        if more:
            extra |= more
    tags |= extra


def _is_marker(model: Model, form: str) -> bool:
    return any(form in table for table in model.markers.values())


def _context_names(ctx: SignalContext | None) -> tuple[frozenset[str], frozenset[str]]:
    if ctx is None:
        return frozenset(), frozenset()
    return _name_forms(ctx.present_names, ctx.absent_names)


@functools.lru_cache(maxsize=512)
def _name_forms(present_names: tuple[str, ...], absent_names: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    # Cached: a conversation's names are the same on every message sent into it, and spelling out
    # 60 names cost a tenth of the classifier (bench/bench_messaging.py, profiled).
    def forms(names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            for part in str(name).split():
                if len(part) < 2:
                    continue
                for form in spellings(part):
                    out |= {form, form + "s"}
        return out

    present = forms(present_names)
    return frozenset(present), frozenset(forms(absent_names) - present)


# --------------------------------------------------------------------------------- clauses, idioms


def _segment(model: Model, msg: _Message) -> None:
    """Split the message into clauses (at . ! ? ; : newline and commas) and find the phrases."""
    sentence = 0
    current: list[Token] = []
    in_quote = False

    def close() -> None:
        if current:
            tokens = list(current)
            words = [t for t in tokens if t.kind == WORD]
            if (words and not words[0].tags.isdisjoint(_PRO_DROP) and words[0].tags.isdisjoint(_SUBJECT_TAGS)
                    and (len(words) < 2 or words[1].tags.isdisjoint(_SUBJECT_TAGS))):
                first = words[0]
                implied = Token(WORD, first.start, first.start, "", ("",), False, {"SELF", "WORD", "IMPLIED"})
                implied.sentence = sentence
                tokens.insert(0, implied)
            msg.clauses.append(Clause(tokens, {}))
            msg.clause_sentence.append(sentence)
            current.clear()

    for tok in msg.tokens:
        if tok.kind == STOP:
            close()
            sentence += 1
        elif tok.kind == COMMA:
            close()
        elif tok.kind == QUOTE:
            in_quote = not in_quote
        else:
            if in_quote:
                msg.quoted.add(id(tok))
            tok.sentence = sentence
            current.append(tok)
    close()
    for clause in msg.clauses:
        clause.phrase_ends = _phrases(model, msg, clause.tokens)
        for tok in clause.tokens:
            msg.tags |= tok.tags


def _possible(msg: _Message, required: tuple[tuple[frozenset[str], frozenset[str]], ...]) -> bool:
    """Return whether the message holds, for every required element, one of its classes or words."""
    for tags, lits in required:
        if msg.tags.isdisjoint(tags) and (not lits or msg.forms.isdisjoint(lits)):
            return False
    return True


def _phrases(model: Model, msg: _Message, tokens: list[Token]) -> dict[tuple[str, int], list[int]]:
    phrases = model.lexicon.phrases
    ends: dict[tuple[str, int], list[int]] = {}
    n = len(tokens)
    for pos in range(n - 1):
        tok, nxt = tokens[pos], tokens[pos + 1]
        if "MASKED" in tok.tags or "MASKED" in nxt.tags:
            continue
        seen: set[int] = set()
        for first in tok.forms:
            for second in nxt.forms:
                candidates = phrases.get((first, second))
                if not candidates:
                    continue
                for elements, entry in candidates:
                    if id(elements) in seen:
                        continue
                    seen.add(id(elements))
                    if entry.langs is not None and msg.language not in entry.langs:
                        continue
                    length = len(elements)
                    if pos + length > n or not all(
                            "MASKED" not in tokens[pos + k].tags and not elements[k].isdisjoint(tokens[pos + k].forms)
                            for k in range(2, length)):
                        continue
                    for tag in (entry.tag, *model.expands.get(entry.tag, ())):
                        bucket = ends.setdefault((tag, pos), [])
                        if length not in bucket:
                            bucket.append(length)
                        msg.tags.add(tag)
    return ends


def _mask_idioms(model: Model, msg: _Message) -> None:
    """Mask idioms ("jeg dør av latter", "slå deg ned") so that no rule reads their words."""
    changed = False
    idioms = [elems for elems, required in model.idioms if _possible(msg, required)]
    for clause in msg.clauses:
        for elems in idioms:
            for m in find(elems, clause):
                for tok in clause.tokens[m.start:m.end]:
                    tok.tags = {"MASKED", "WORD"}
                changed = True
    if changed:
        msg.tags.clear()
        for clause in msg.clauses:
            clause.phrase_ends = _phrases(model, msg, clause.tokens)
            for tok in clause.tokens:
                msg.tags |= tok.tags


def _mark_reported(model: Model, msg: _Message) -> None:
    """Mark what follows "she said", "he called me", "I want to report" as reported speech."""
    has_report = bool(msg.tags & {"REPORT_V", "REPORT_INTENT"})
    if has_report:
        for tok in msg.tokens:
            if id(tok) in msg.quoted:
                tok.reported = True
    patterns = [elems for elems, required in model.report if _possible(msg, required)]
    for index, clause in enumerate(msg.clauses):
        sentence = msg.clause_sentence[index]
        for elems in patterns:
            for m in find(elems, clause):
                anchor_end = clause.tokens[m.anchor_end - 1].end
                for tok in msg.tokens:
                    if tok.sentence == sentence and tok.start >= anchor_end and tok.kind in (WORD, EMOJI):
                        tok.reported = True


# ------------------------------------------------------------------------------------------- rules


def _has(msg: _Message, tags: Iterable[str]) -> bool:
    return not msg.tags.isdisjoint(tags)


def _clause_has(clause: Clause, tags: frozenset[str] | set[str]) -> bool:
    if any(not tok.tags.isdisjoint(tags) for tok in clause.tokens):
        return True
    return any(tag in tags for tag, _ in clause.phrase_ends)


def _run_rule(model: Model, msg: _Message, rule: Rule, evidence: list[Evidence]) -> None:
    if not _possible(msg, rule.required):
        return
    if rule.needs and msg.tags.isdisjoint(rule.needs):
        return
    role = msg.context.writer_role if msg.context else None
    if role and role in rule.not_roles:
        return
    for index, clause in enumerate(msg.clauses):
        for m in find(rule.elems, clause):
            if _accept(model, msg, rule, clause, index, m):
                start = clause.tokens[m.start].start
                end = clause.tokens[max(m.end - 1, m.start)].end
                for category in rule.categories:
                    evidence.append(Evidence(category, start, end, rule.id))
                break


def _accept(model: Model, msg: _Message, rule: Rule, clause: Clause, index: int, m: Match) -> bool:
    toks = clause.tokens
    span = toks[m.start:m.end]
    target = toks[m.target] if 0 <= m.target < len(toks) else None
    aimed_at_you = target is not None and "YOU" in target.tags
    if not rule.reported and any(t.reported for t in span):
        in_quote = any(id(t) in msg.quoted for t in span)
        if in_quote or not aimed_at_you:
            return False
    if rule.neg and _negated(toks, m):
        return False
    if rule.guard_prep and target is not None and m.target > 0 and "PREP_TO" in toks[m.target - 1].tags:
        return False
    for tag in rule.unless:
        if _suppressed(model, msg, clause, index, tag, aimed_at_you):
            return False
    if rule.joke and _has(msg, model.derived["JOKE"]) and not _has(msg, model.derived["CONCRETE"]):
        if rule.joke == "all" or "MILD" in toks[m.anchor].tags:
            return False
    return True


def _negated(toks: list[Token], m: Match) -> bool:
    """Return whether a negation stands just before the anchor or just after it, in its clause.

    The look back stops at a conjunction ("hvis du ikke gir meg pengene, dreper jeg deg" is a
    threat; the "ikke" belongs to the condition).
    """
    for pos in range(m.anchor - 1, max(m.anchor - 1 - _NEG_WINDOW_BEFORE, -1), -1):
        tags = toks[pos].tags
        if "CONJ" in tags:
            break
        if "NEG" in tags or "QUANT_NEG" in tags:
            return True
    for pos in range(m.anchor_end, min(m.anchor_end + _NEG_WINDOW_AFTER, len(toks))):
        tags = toks[pos].tags
        if "CONJ" in tags:
            break
        if "NEG" in tags:
            return True
    return False


def _suppressed(model: Model, msg: _Message, clause: Clause, index: int, tag: str, aimed_at_you: bool) -> bool:
    scope = model.scopes.get(tag, "clause")
    wanted = frozenset({tag})
    if scope == "clause":
        return _clause_has(clause, wanted)
    if scope == "sentence":
        sentence = msg.clause_sentence[index]
        return any(_clause_has(c, wanted) for c, s in zip(msg.clauses, msg.clause_sentence, strict=True)
                   if s == sentence)
    if scope == "message_unless_you":
        staff = msg.context is not None and msg.context.writer_role == "staff"
        return tag in msg.tags and (staff or not aimed_at_you)
    return tag in msg.tags


# ------------------------------------------------------------------------------- vocative, absent


def _vocative(model: Model, msg: _Message, evidence: list[Evidence]) -> None:
    """Notice a clause made only of insults ("din jævla taper", "fat pig", "idiot!")."""
    allowed = model.vocative_allowed
    joke = _has(msg, model.derived["JOKE"]) and not _has(msg, model.derived["CONCRETE"])
    for clause in msg.clauses:
        words = [t for t in clause.tokens if t.kind == WORD and "IMPLIED" not in t.tags]
        if not words or any(t.reported for t in words):
            continue
        if any(t.tags.isdisjoint(allowed) for t in words):
            continue
        present: set[str] = set()
        for t in words:
            present |= t.tags
        for need, block in model.vocative_fire:
            if need <= present and present.isdisjoint(block):
                insults = [t for t in words if not t.tags.isdisjoint({"INSULT_N", "INSULT_N_AMBIG", "SLUR",
                                                                      "INSULT_ADJ", "ANIMAL", "SLUR_ADJ"})]
                if joke and insults and all("MILD" in t.tags for t in insults):
                    break
                evidence.append(Evidence(BULLYING, words[0].start, words[-1].end, "bullying.vocative"))
                break


def _about_absent(model: Model, msg: _Message, evidence: list[Evidence]) -> None:
    """Notice negative talk in a sentence that names someone who is not in the conversation."""
    absent = [t for t in msg.tokens if "NAME_ABSENT" in t.tags]
    if not absent:
        return
    found: list[Evidence] = []
    for name in absent:
        sentence = name.sentence
        sentence_tokens = [t for t in msg.tokens if t.sentence == sentence and t.kind in (WORD, EMOJI)]
        lo, hi = sentence_tokens[0].start, sentence_tokens[-1].end
        hit = next((e for e in evidence if e.category in model.absent_categories and e.start < hi and e.end > lo),
                   None)
        if hit is not None:
            found.append(Evidence(ABOUT_ABSENT, min(name.start, hit.start), max(name.end, hit.end),
                                  f"about_absent.{hit.rule}"))
            continue
        word = _negative_word(model, msg, sentence)
        if word is not None:
            found.append(Evidence(ABOUT_ABSENT, min(name.start, word.start), max(name.end, word.end),
                                  "about_absent.negative_talk"))
    evidence.extend(found)


def _negative_word(model: Model, msg: _Message, sentence: int) -> Token | None:
    negative = model.absent_negative
    for index, clause in enumerate(msg.clauses):
        if msg.clause_sentence[index] != sentence:
            continue
        toks = clause.tokens
        for pos, tok in enumerate(toks):
            if tok.reported or "MASKED" in tok.tags:
                continue
            phrase = any(("NEG_PHRASE", pos) == key for key in clause.phrase_ends)
            if phrase:
                return tok
            if tok.tags.isdisjoint(negative):
                continue
            before = toks[max(0, pos - 3):pos]
            if any("NEG" in t.tags or "QUANT_NEG" in t.tags for t in before):
                continue
            return tok
    return None
