"""What ``classify`` notices and, as much, what it must leave alone (issue 14, part 1).

Each table is one mechanism. The requirement each row serves is named in the test: R-SAFE-01
(zero tolerance for bullying and exclusion; "we talk with those in the conversation, not about
others"), R-SAFE-02 (reporting keeps evidence, and a quote in a report is not the reporter's own
words), R-PUP-02 (show an adult), R-CASE-10 (concrete threats), R-SOC-01 (exclusion), R-STF-01
(staff writing negatively about pupils and parents).
"""

from __future__ import annotations

import dataclasses

import pytest

from trygg.policy.signals import CATEGORIES, SignalContext, Signals, classify


def cats(text: str, **context: object) -> set[str]:
    ctx = SignalContext(**context) if context else None  # type: ignore[arg-type]
    return set(classify(text, context=ctx).categories)


# ----------------------------------------------------------------------------- threats (R-CASE-10)

THREATS = [
    "jeg skal banke deg etter skolen",
    "Jeg skal drepe deg",
    "jg ska drepe deg",
    "i morgen skal jeg drepe deg",
    "hvis du sier det til læreren så dreper jeg deg",
    "du er død etter skolen",
    "du får juling i morgen",
    "du blir banka i friminuttet",
    "jeg vet hvor du bor",
    "jeg tar med kniv på skolen i morgen",
    "jeg skal knekke nakken din",
    "eg skal slå deg",
    "me skal ta deg etter skulen",
    "jeg slår dig ihjel",
    "jeg tæver dig efter skole",
    "du får tæsk",
    "jeg brænder dit hus ned",
    "I'm going to kill you",
    "ima beat you up after school",
    "i'll break your legs",
    "you're dead",
    "i know where you live",
    "im gonna shoot up the school",
    "jeg kommer til å gjøre deg vondt",
    "jeg skal legge ut bildene av deg",  # exposure is a threat too
    "tror du er tøff? vent til etter skolen",
]


@pytest.mark.parametrize("text", THREATS)
def test_r_case_10_threats_are_noticed(text: str) -> None:
    assert "threat" in cats(text)


@pytest.mark.parametrize(
    "text",
    [
        "d r 3 p deg",  # spaced out, with a digit for e
        "jeg skal dr3p3 deg",  # leetspeak
        "jeg skal drepeeee deg",  # repeated letters
        "jeg skal draebe dig",  # Danish without æ
        "jeg skal drabe dig",
        "jeg sl44r dig ihjel",
        "k1ll you",
    ],
)
def test_r_case_10_threats_are_noticed_however_they_are_spelled(text: str) -> None:
    assert "threat" in cats(text)


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("du 🔪", True),
        ("Jonas 🔪🔪", True),
        ("🔫🔫 you", True),
        ("deg 💀", True),
        ("du er så rar 💀", False),  # a skull beside a joke, not beside a person
        ("bruh i'm dead 💀", False),
        ("ta med 🔪 og gaffel", False),
    ],
)
def test_r_case_10_emoji_carry_a_threat_only_beside_a_person(text: str, fires: bool) -> None:
    assert ("threat" in cats(text)) is fires


@pytest.mark.parametrize(
    "text",
    [
        "jeg skal ikke slå deg",
        "jeg skal ikke banke deg, slapp av",
        "jeg slår deg ikke",
        "ingen skal slå deg, jeg passer på",
        "jeg skal ikke slå dig",
        "i won't hurt you",
        "i'm not gonna hit you",
        "nobody will hurt you",
    ],
)
def test_r_case_10_a_negated_threat_is_not_a_threat(text: str) -> None:
    assert "threat" not in cats(text)


def test_r_case_10_negation_in_a_condition_does_not_cancel_the_threat() -> None:
    assert "threat" in cats("hvis du ikke gir meg pengene, dreper jeg deg")


@pytest.mark.parametrize(
    "text",
    [
        "drep den bossen i spillet",
        "jeg dreper deg i fortnite 😎",
        "jeg skal slå deg i sjakk",
        "jeg skal knuse deg i fifa",
        "i'm gonna beat you at chess",
        "dræb bossen i spillet",
        "jeg skal slå dig i skak",
        "du knuste den prøven!",
        "dræbte den test",
        "i'm gonna kill this test 💪",
    ],
)
def test_r_case_10_games_and_tests_are_not_threats(text: str) -> None:
    assert cats(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "i boka dreper han dragen",
        "I morgen skal vi lære om 2. verdenskrig og hvordan Hitler drepte millioner.",
        "i bogen dræber han dragen",
        "in the book the hero kills the dragon",
        "the soldiers killed thousands in the battle",
    ],
)
def test_r_case_10_teachers_writing_about_a_book_or_history_is_not_a_threat(text: str) -> None:
    assert cats(text) == set()
    assert cats(text, writer_role="staff") == set()


@pytest.mark.parametrize(
    "text",
    [
        "jeg dreper deg hvis du spoiler serien 😂",
        "du er død 😂😂",
    ],
)
def test_r_case_10_laughter_turns_a_bare_threat_into_a_joke(text: str) -> None:
    assert "threat" not in cats(text)


def test_r_case_10_laughter_does_not_hide_a_weapon() -> None:
    assert "threat" in cats("jeg tar med kniv i morgen 😂")


@pytest.mark.parametrize(
    "text",
    ["drep deg selv", "bare kys", "kys", "go kill yourself", "gå og heng deg", "jeg håper du dør",
     "i hope you die", "slå dig selv ihjel", "gå ud og dø", "kys loser"],
)
def test_r_safe_01_telling_someone_to_die_is_bullying_and_a_threat(text: str) -> None:
    assert {"threat", "bullying"} <= cats(text)


@pytest.mark.parametrize("text", ["heng deg på!", "heng jakka di på kroken", "kys mig", "kys og klem"])
def test_r_safe_01_hanging_on_and_kisses_are_not_death_wishes(text: str) -> None:
    assert cats(text) == set()


# ------------------------------------------------------------------------- self-harm (R-PUP-02)

SELFHARM = [
    "jeg vil dø",
    "jeg vil ikke leve mer",
    "har så lyst til å dø",
    "jeg har kuttet meg igjen",
    "jeg tenker på selvmord",
    "ingen vil savne meg hvis jeg dør",
    "alle hadde hatt det bedre uten meg",
    "jeg hater livet mitt og vil dø",  # the subject of "vil" is carried over "og"
    "skulle ønske jeg var død",
    "eg vil døy",
    "eg vil ikkje leve meir",
    "jeg vil ikke leve mere",
    "jeg skærer i mig selv",
    "jeg vil tage mit eget liv",
    "i want to die",
    "i don't want to be alive anymore",
    "i wish i was dead",
    "kms",
    "hun sier at hun vil ta livet sitt",  # a friend in danger is reported, not suppressed
    "min ven skærer i sig selv, hvad skal jeg gøre",
]


@pytest.mark.parametrize(
    "text",
    ["vil bare dø", "har skadet meg selv igjen", "tok en hel boks med paracet i går", "orker ikke mer av livet",
     "i går kveld tok jeg en hel boks med paracet"],
)
def test_r_pup_02_self_harm_is_noticed_when_chat_drops_the_i(text: str) -> None:
    """Chat leaves out "jeg": a clause that starts with a modal or a past tense has an implied "I"."""
    assert "selfharm" in cats(text)


def test_r_pup_02_a_question_to_someone_else_has_no_implied_i() -> None:
    assert "selfharm" not in cats("vil du dø?")
    assert "selfharm" not in cats("har du kuttet deg?")


@pytest.mark.parametrize("text", SELFHARM)
def test_r_pup_02_self_harm_is_noticed(text: str) -> None:
    assert "selfharm" in cats(text)


@pytest.mark.parametrize(
    "text",
    [
        "jeg vil ikke dø",
        "jeg dør av latter",
        "jeg døde 😂",
        "jeg døde av latter 😂😂",
        "det er så kjedelig at jeg dør",
        "jeg vil ikke dø i spillet igjen",
        "jeg dør af grin",
        "jeg døde",
        "i'm dead lol",
        "i'm dying 😂",
        "i'd die for a pizza right now",
        "i'm gonna die of embarrassment",
        "jeg vil ikke leve uten mobilen min",
        "jeg kuttet meg på et ark",
        "jeg skar meg på kniven da jeg lagde mat",
        "i cut my hair",
        "jeg har aldri tenkt på selvmord",
        "vi leste om selvmord i norsktimen og det var trist",
        "jeg har lyst til å dø håret mitt blått",
        "jeg orker ikke mer matte i dag",
        "I don't live far from school",
    ],
)
def test_r_pup_02_idioms_accidents_and_negations_are_not_self_harm(text: str) -> None:
    assert "selfharm" not in cats(text)


# ----------------------------------------------------------------------------- bullying (R-SAFE-01)

BULLYING = [
    "du er så stygg, ingen liker deg",
    "du er så stygggg",
    "drittunge",  # compounds
    "møkkaunge",
    "horeunge",
    "din jævla taper",
    "ingen gidder å være med deg",
    "ingen gidder",
    "stfu",
    "fuck off",
    "føkk off",
    "hold kjeft din idiot",
    "du lukter",
    "du ser ut som en gris",
    "din klamme nar",
    "tykke so",
    "ingen kan lide dig",
    "you're so ugly",
    "ur dumb",
    "nobody likes you",
    "fat pig",
    "1d10t",
    "du er så d u m",
    "se på trynet ditt 😂",
]


@pytest.mark.parametrize("text", BULLYING)
def test_r_safe_01_bullying_is_noticed(text: str) -> None:
    assert "bullying" in cats(text)


@pytest.mark.parametrize(
    "text",
    [
        "du er sykt flink",
        "syk bra",
        "sinnsykt bra",
        "du er dødsgod",
        "drittbra",
        "det er fett!",
        "det var vildt fedt",
        "du er mega sej",
        "this slaps",
        "that's sick!",
        "du er så flink 😍",
        "jeg er så dum, glemte boka igjen",  # about oneself
        "i'm such an idiot lol",
        "det er teit at vi har prøve",  # about a thing
        "vejret er grimt i dag",
        "hahaha du er så teit 😂 elsker deg",  # mild teasing with affection
        "ur so dumb 😂 love you",
        "shut up that's so cool",
        "hold kjeft, har du vunnet?? gratulerer!!",
        "du lukter godt",
        "du taper alltid i ludo",  # "taper" is also "loses"
        "fuck jeg glemte gymtøyet",  # swearing at nobody
    ],
)
def test_r_safe_01_praise_swearing_and_self_talk_are_not_bullying(text: str) -> None:
    assert "bullying" not in cats(text)


def test_r_safe_01_a_strong_insult_is_not_softened_by_laughter() -> None:
    assert "bullying" in cats("du er så feit at stolen knekker 😂")


def test_r_safe_01_a_negated_insult_is_not_an_insult() -> None:
    assert cats("du er ikke stygg") == set()
    assert cats("du er ikke dum, du er bare sliten") == set()


# ------------------------------------------------------------------------------------ sexual

@pytest.mark.parametrize(
    "text",
    ["send nudes", "send meg et nakenbilde", "vil du ligge med meg?", "send mig et billede af dine bryster",
     "wanna have sex?", "vis meg pikken din", "du har så fine pupper"],
)
def test_r_safe_01_sexual_messages_are_noticed(text: str) -> None:
    assert "sexual" in cats(text)


@pytest.mark.parametrize(
    "text",
    ["send bilde av hunden din!", "I naturfag har vi om pubertet og seksualitet denne uka.",
     "In science we're learning about puberty and sex education.", "fuck you"],
)
def test_r_safe_01_pets_sex_education_and_swearing_are_not_sexual(text: str) -> None:
    assert "sexual" not in cats(text)


# --------------------------------------------------------------------------- exclusion (R-SOC-01)

@pytest.mark.parametrize(
    "text",
    ["ikke inviter henne", "hun får ikke være med", "vi lager en ny gruppe uten han",
     "kast henne ut av gruppechatten", "du er ikke invitert", "inviter ikke hende", "smid ham ud af gruppen",
     "don't invite her", "you can't sit with us", "I må ikke invitere hende"],
)
def test_r_soc_01_exclusion_is_noticed(text: str) -> None:
    assert "exclusion" in cats(text)


@pytest.mark.parametrize(
    "text",
    ["skal vi invitere hele klassen?", "ikke glem å invitere henne", "han er syk, han kan ikke være med i dag",
     "jeg kan ikke være med i dag", "let's invite the whole class", "she's sick, she can't come"],
)
def test_r_soc_01_inviting_everyone_and_being_ill_are_not_exclusion(text: str) -> None:
    assert "exclusion" not in cats(text)


def test_r_soc_01_adults_advising_a_child_to_ignore_someone_are_not_excluding() -> None:
    assert "exclusion" in cats("ignorer han")
    assert "exclusion" not in cats("ignorer han", writer_role="guardian")
    assert "exclusion" not in cats("ikke snakk med ham", writer_role="staff")


# ------------------------------------------------------------------ talking about someone absent

ABSENT = {"absent_names": ("Emma", "Jonas"), "present_names": ("Sara", "Ida")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Emma er så irriterende", {"about_absent"}),
        ("Emma er så stygg", {"about_absent", "bullying"}),
        ("ikke inviter Jonas", {"about_absent", "exclusion"}),
        ("jeg skal banke Jonas etter skolen", {"about_absent", "threat"}),
        ("jeg kan ikke fordra Emma", {"about_absent"}),
        ("Emmas mor er så dum", {"about_absent", "bullying"}),
        ("Emma er så flink til å tegne", set()),
        ("Jonas kommer sent i dag", set()),
        ("Emma er ikke irriterende", set()),
        ("Ida er så irriterende", set()),  # Ida is in the conversation: said to her face, not behind her back
    ],
)
def test_r_safe_01_negative_talk_about_someone_absent_is_noticed(text: str, expected: set[str]) -> None:
    assert cats(text, **ABSENT) == expected


def test_r_safe_01_about_absent_needs_to_know_who_is_absent() -> None:
    assert "about_absent" not in cats("Emma er så irriterende")


def test_r_safe_01_a_capitalised_name_not_among_the_members_counts_as_absent() -> None:
    assert "about_absent" in cats("Nora er så irriterende", present_names=("Sara",))


def test_r_safe_01_guardians_talking_about_a_teacher_who_is_not_there() -> None:
    """S4 "Omtal ikke elever, forældre eller personale": a teacher named in a guardian group."""
    assert "about_absent" in cats("Hanne er en elendig lærer", absent_names=("Hanne",),
                                  present_names=("Sofie", "Oscar"), writer_role="guardian")


def test_r_stf_01_staff_writing_negatively_about_an_absent_pupil_is_noticed() -> None:
    assert "about_absent" in cats("Jonas er helt håpløs", absent_names=("Jonas",), present_names=("Kari",),
                                  writer_role="staff")


# --------------------------------------------------------------------- reports and quotes (R-SAFE-02)

@pytest.mark.parametrize(
    "text",
    [
        'Jonas skrev "jeg skal drepe deg" til meg i går',
        "hun sa at han skulle drepe meg, jeg er redd",
        "hun kalte meg hore og nå gråter jeg",
        "jeg vil melde fra om at noen skrev at jeg er stygg",
        "han sagde at han ville slå mig, hvad skal jeg gøre?",
        "she called me a slut and i'm crying",
    ],
)
def test_r_safe_02_a_child_telling_an_adult_what_was_written_is_not_flagged(text: str) -> None:
    assert cats(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "Min datter har fått meldinger om at hun er stygg og feit. Hvem kan jeg snakke med?",
        "He came home and said nobody would play with him. I'm worried.",
        "En elev truet en annen med kniv i friminuttet i dag. Politiet er kontaktet.",
        "Vi har dessverre hatt en episode med mobbing i klassen, og vi følger det tett opp.",
    ],
)
def test_r_safe_02_adults_describing_what_happened_are_not_flagged(text: str) -> None:
    assert cats(text) == set()
    assert cats(text, writer_role="guardian") == set()


def test_r_safe_02_text_quoted_in_a_report_never_fires() -> None:
    assert cats("jeg skal drepe deg, din hore", is_report_quote=True) == set()


# -------------------------------------------------------------------------------- the result


def test_one_message_can_carry_several_categories() -> None:
    assert cats("ingen liker deg, bare drep deg selv") == {"bullying", "threat"}
    assert cats("din jævla hore, send nudes") == {"bullying", "sexual"}


def test_evidence_points_at_the_words_that_fired() -> None:
    text = "hei! du er så stygg"
    signals = classify(text)
    (start, end), = signals.spans("bullying")
    assert text[start:end] == "du er så stygg"
    assert signals.by_category == {"bullying": ((start, end),)}


def test_r_safe_01_a_signal_never_holds_the_text() -> None:
    """Trygg never stores the text of a nudged draft: the result carries offsets, not words."""
    text = "du er så stygg, ingen liker deg"
    signals = classify(text)
    values = [getattr(signals, f.name) for f in dataclasses.fields(Signals)]
    flat = repr(values) + repr(signals.to_dict())
    for word in ("stygg", "liker"):
        assert word not in flat


def test_to_dict_lists_categories_in_a_fixed_order() -> None:
    out = classify("ingen liker deg, bare drep deg selv").to_dict()
    assert out["categories"] == [c for c in CATEGORIES if c in ("threat", "bullying")]
    assert out["language"] == "nb"
    assert set(out["evidence"]) == {"threat", "bullying"}


def test_an_empty_or_odd_message_is_none() -> None:
    for text in ("", "   ", "🙂", "!!!", "1234", "a" * 5000):
        assert classify(text).is_none


def test_context_accepts_plain_mappings_and_refuses_unknown_roles() -> None:
    ctx = SignalContext.from_mapping({"absent_names": ["Emma"], "present_names": "Sara"})
    assert ctx is not None and ctx.absent_names == ("Emma",) and ctx.present_names == ("Sara",)
    assert SignalContext.from_mapping({}) is None
    with pytest.raises(ValueError):
        SignalContext(writer_role="principal")
