"""The demo school of design.md: Demo kommune, Solbakken skole, classes 4A and 9B.

Every demo account has the password ``demo``. Demo accounts exist only in a database
made by ``trygg demo`` (or the test suite); nothing here runs on a real database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.dispatch import Signal

from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Municipality,
    Person,
    Protection,
    School,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
    TeachingKind,
)

DEMO_SOURCE_ID = "demo-kommune"
DEMO_PASSWORD = "demo"

FIRST_NAMES = [
    "Astrid", "Bjørn", "Eirik", "Frida", "Ingrid", "Sindre", "Tuva", "Lars", "Maja", "Henrik", "Sigrid",
    "Magnus", "Nora", "Oskar", "Live", "Aksel", "Thea", "Filip", "Ida", "Mathias", "Selma", "Tobias",
    "Vilde", "Jakob", "Hedda", "Elias", "Marius", "Sofie", "Kasper", "Ylva", "Emil", "Linnea", "Sander",
    "Amalie", "Torstein", "Hanna", "Even", "Mathilde", "Isak", "Ronja", "Vetle", "Synne", "Ludvig", "Julie",
    "Håkon", "Tiril", "Ole", "Karoline", "Peder", "Ane",
]
LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
    "Karlsen", "Berg", "Haugen", "Hagen", "Eriksen", "Johnsen", "Dahl", "Lie", "Solberg", "Strand",
    "Bakken", "Lund", "Moen", "Holm", "Sæther", "Rønning", "Vik", "Aas", "Lunde", "Bråthen", "Myhre",
]

# Sent at the end of ``seed_demo`` with ``municipality``: apps above the directory add their own
# demo data (the directory may not import them).
demo_seeded = Signal()


@dataclass(frozen=True)
class FixedAccount:
    username: str
    name: str
    who: str


FIXED_ACCOUNTS = [
    FixedAccount("admin", "Anne Admin", "municipality administrator"),
    FixedAccount("rektor", "Randi Rektor", "school leader"),
    FixedAccount("tr", "Tore Tillitsvalgt", "union representative"),
    FixedAccount("vo", "Vigdis Verneombud", "safety representative"),
    FixedAccount("kari.4a", "Kari Nordmann", "contact teacher 4A"),
    FixedAccount("ola.9b", "Ola Berge", "contact teacher 9B"),
    FixedAccount("nils.9b", "Nils Fjeld", "subject teacher 9B"),
    FixedAccount("emma.4a", "Emma Solheim", "pupil 4A"),
    FixedAccount("noah.4a", "Noah Lien", "pupil 4A, lives at an institution (address confidential)"),
    FixedAccount("sara.9b", "Sara Dahle", "pupil 9B"),
    FixedAccount("jonas.9b", "Jonas Vik", "pupil 9B"),
    FixedAccount("ali.9b", "Ali Karimi", "pupil 9B, strictly confidential address (name confidential too)"),
    FixedAccount("mor.emma", "Marte Solheim", "guardian of Emma (4A)"),
    FixedAccount("far.emma", "Frode Solheim", "guardian of Emma (4A)"),
    FixedAccount("verge.noah", "Vera Grønli", "appointed guardian of Noah (4A)"),
    FixedAccount("mor.sara", "Mona Dahle", "guardian of Sara (9B)"),
    FixedAccount("far.jonas", "Finn Vik", "guardian of Jonas (9B)"),
    FixedAccount("mor.ali", "Maryam Karimi", "guardian of Ali (9B)"),
    FixedAccount("saksbehandler", "Siri Saksbehandler", "municipality case handler (cases against a school's leader)"),
]


LATER_ACCOUNTS = frozenset({"saksbehandler"})


def demo_exists() -> bool:
    return Municipality.objects.filter(source_id=DEMO_SOURCE_ID).exists()


@transaction.atomic
def seed_demo(seed: int = 2026) -> Municipality:
    """Create the demo municipality if absent and return it; re-running reuses what is there."""
    existing = Municipality.objects.filter(source_id=DEMO_SOURCE_ID).first()
    if existing is not None:
        return existing
    rng = random.Random(seed)
    # One argon2 hash shared by every demo account: hashing ~150 times would slow every start.
    password = make_password(DEMO_PASSWORD)
    municipality = Municipality.objects.create(name="Demo kommune", country="NO", source_id=DEMO_SOURCE_ID)
    school = School.objects.create(municipality=municipality, name="Solbakken skole", source_id="demo-solbakken")
    class_4a = SchoolClass.objects.create(school=school, name="4A", grade=4, source_id="demo-4a")
    class_9b = SchoolClass.objects.create(school=school, name="9B", grade=9, source_id="demo-9b")

    people: dict[str, Person] = {}
    for account in FIXED_ACCOUNTS:
        if account.username in LATER_ACCOUNTS:
            continue
        people[account.username] = Person.objects.create(
            username=account.username,
            name=account.name,
            password=password,
            municipality=municipality,
            email=f"{account.username}@demo.trygg.example",
            phone=f"4{rng.randrange(1000000, 9999999)}",
            address=f"{rng.choice(['Solbakkveien', 'Granlia', 'Bjørkeveien', 'Fjordgata'])} {rng.randrange(1, 80)}",
        )
    people["admin"].is_staff = True
    people["admin"].save(update_fields=["is_staff"])
    people["rektor"].is_staff = True
    people["rektor"].save(update_fields=["is_staff"])

    StaffRole.objects.create(person=people["admin"], kind="admin", municipality=municipality)
    StaffRole.objects.create(person=people["rektor"], kind="leader", school=school, municipality=municipality)
    StaffRole.objects.create(person=people["tr"], kind="union_rep", school=school, municipality=municipality)
    StaffRole.objects.create(person=people["vo"], kind="safety_rep", school=school, municipality=municipality)
    TeachingAssignment.objects.create(teacher=people["kari.4a"], school_class=class_4a, kind=TeachingKind.CONTACT)
    TeachingAssignment.objects.create(teacher=people["ola.9b"], school_class=class_9b, kind=TeachingKind.CONTACT)
    TeachingAssignment.objects.create(teacher=people["nils.9b"], school_class=class_9b, kind=TeachingKind.SUBJECT)

    for pupil, school_class in [
        ("emma.4a", class_4a), ("noah.4a", class_4a),
        ("sara.9b", class_9b), ("jonas.9b", class_9b), ("ali.9b", class_9b),
    ]:
        Enrollment.objects.create(pupil=people[pupil], school_class=school_class)
    for guardian, pupil in [
        ("mor.emma", "emma.4a"), ("far.emma", "emma.4a"), ("verge.noah", "noah.4a"),
        ("mor.sara", "sara.9b"), ("far.jonas", "jonas.9b"), ("mor.ali", "ali.9b"),
    ]:
        Guardianship.objects.create(guardian=people[guardian], pupil=people[pupil], parental_responsibility=True)

    # noah.4a lives at an institution: the address reveals personal circumstances (R-LIST-05).
    Protection.objects.create(pupil=people["noah.4a"], address_reveals_circumstances=True,
                              updated_by=people["rektor"])
    # ali.9b has a strictly confidential address, so the name is confidential too (R-LIST-05).
    Protection.objects.create(pupil=people["ali.9b"], secret_address=True, secret_phone=True,
                              confidential_identity=True, updated_by=people["rektor"])
    # A parent without parental responsibility: must see nothing about the child.
    far_ali = Person.objects.create(username="far.ali", name="Karim Karimi", password=password,
                                    municipality=municipality)
    Guardianship.objects.create(guardian=far_ali, pupil=people["ali.9b"], parental_responsibility=False)

    used = {p.username for p in people.values()} | {"far.ali"}
    for school_class, total in ((class_4a, 20), (class_9b, 24)):
        already = Enrollment.objects.filter(school_class=school_class).count()
        for _ in range(total - already):
            pupil = _invented_person(rng, used, password, municipality, suffix=school_class.name.lower())
            Enrollment.objects.create(pupil=pupil, school_class=school_class)
            family = pupil.name.split(" ")[-1]
            for _g in range(rng.choice((1, 2))):
                guardian = _invented_person(rng, used, password, municipality, family=family)
                Guardianship.objects.create(guardian=guardian, pupil=pupil, parental_responsibility=True)

    # Accounts added after the demo's first release are made last, so the random names, phones and
    # addresses of everyone else stay what tests and documentation know.
    for account in FIXED_ACCOUNTS:
        if account.username in LATER_ACCOUNTS:
            people[account.username] = Person.objects.create(
                username=account.username, name=account.name, password=password, municipality=municipality,
                email=f"{account.username}@demo.trygg.example",
            )
    StaffRole.objects.create(person=people["saksbehandler"], kind="case_handler", municipality=municipality)

    from trygg.policy.engine import registry
    from trygg.policy.models import PolicyConfig

    PolicyConfig.objects.update_or_create(
        municipality=municipality, defaults={"active_packs": sorted(registry().packs), "overrides": {}}
    )
    # Apps above the directory add their own demo data (sign-in: every staff account gets an
    # authenticator app with a fixed seed, ``trygg demo-otp``).
    demo_seeded.send(sender=Municipality, municipality=municipality)
    return municipality


def _invented_person(
    rng: random.Random,
    used: set[str],
    password: str,
    municipality: Municipality,
    suffix: str | None = None,
    family: str | None = None,
) -> Person:
    while True:
        first = rng.choice(FIRST_NAMES)
        last = family or rng.choice(LAST_NAMES)
        base = f"{first}.{suffix}" if suffix else f"{first}.{last}"
        username = base.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
        if username not in used:
            used.add(username)
            break
    return Person.objects.create(
        username=username,
        name=f"{first} {last}",
        password=password,
        municipality=municipality,
        email=f"{username}@demo.trygg.example",
        phone=f"9{rng.randrange(1000000, 9999999)}",
        address=f"{rng.choice(['Solbakkveien', 'Granlia', 'Bjørkeveien', 'Fjordgata'])} {rng.randrange(1, 80)}",
    )
