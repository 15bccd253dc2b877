"""The facts cache: never stale, whatever door changed a relation, in every process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from django.db import connection

from tests.conftest import REPO, LiveDatabase, LiveServer
from trygg.directory import facts as facts_module
from trygg.directory.facts import facts_for, facts_generation, forget_facts, install_triggers, load_facts_many
from trygg.directory.models import (
    Enrollment,
    Guardianship,
    Person,
    Role,
    SchoolClass,
    StaffRole,
    TeachingAssignment,
    load_facts,
)


@pytest.fixture
def committed(transactional_db: None, demo: object) -> Iterator[None]:
    """A test outside a transaction, as requests run: only there does the process cache facts."""
    forget_facts()
    yield
    forget_facts()


def facts_of(username: str):
    pid = Person.objects.get(username=username).pk
    return facts_for([pid])[pid]


def test_batched_load_equals_one_by_one(demo) -> None:
    """Loading everyone in one batch gives each person the facts a load of them alone gives."""
    people = list(Person.objects.all())
    batch = load_facts_many(p.pk for p in people)
    assert set(batch) == {p.pk for p in people}
    for person in people:
        assert batch[person.pk] == load_facts(person)


def test_facts_are_served_from_the_cache_until_the_generation_moves(committed) -> None:
    """Outside a transaction the second read costs one query (the generation), not six."""
    mor = Person.objects.get(username="mor.emma")
    facts_for([mor.pk])
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        facts_for([mor.pk])
    assert len(queries) == 1


def test_r_chat_03_a_guardian_who_loses_parental_responsibility_is_refused_at_once(committed) -> None:
    """R-CHAT-03, R-PRIV-01: a bulk update (no signals, as a script or the roster import would do it)
    takes mor.emma's child away on her very next decision."""
    from trygg.messaging.queries import child_view_allowed

    mor, emma = Person.objects.get(username="mor.emma"), Person.objects.get(username="emma.4a")
    assert emma.pk in facts_of("mor.emma").child_ids
    assert child_view_allowed(mor, emma)
    Guardianship.objects.filter(guardian=mor, pupil=emma).update(parental_responsibility=False)
    assert emma.pk not in facts_of("mor.emma").child_ids
    assert not child_view_allowed(Person.objects.get(username="mor.emma"), emma)


@pytest.mark.parametrize("door", ["orm_delete", "bulk_update", "raw_sql", "create", "person_update"])
def test_every_kind_of_write_moves_the_generation(committed, door: str) -> None:
    """Enrolment, class, staff role and activity changes are seen whichever way they are written."""
    emma = Person.objects.get(username="emma.4a")
    before = facts_generation()
    facts_of("emma.4a")
    if door == "orm_delete":
        Enrollment.objects.filter(pupil=emma).delete()
        assert facts_of("emma.4a").pupil_class_ids == frozenset()
    elif door == "bulk_update":
        SchoolClass.objects.filter(name="4A").update(grade=8)
        assert facts_of("emma.4a").grade == 8
    elif door == "raw_sql":
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {SchoolClass._meta.db_table} SET grade = %s WHERE name = %s", [7, "4A"])
        assert facts_of("emma.4a").grade == 7
    elif door == "create":
        kari = Person.objects.get(username="kari.4a")
        StaffRole.objects.create(person=kari, kind=StaffRole.Kind.LEADER,
                                 school=SchoolClass.objects.get(name="4A").school, municipality=kari.municipality)
        assert Role.LEADER in facts_of("kari.4a").roles
    else:
        Person.objects.filter(pk=emma.pk).update(language="da")
        assert facts_of("emma.4a").language == "da"
    assert facts_generation() != before


def test_a_teacher_removed_from_a_class_loses_it_at_once(committed) -> None:
    kari = Person.objects.get(username="kari.4a")
    assert facts_of("kari.4a").contact_class_ids
    TeachingAssignment.objects.filter(teacher=kari).delete()
    assert facts_of("kari.4a").contact_class_ids == frozenset()


def test_triggers_come_back_after_a_migration_rebuilds_a_table(committed) -> None:
    """SQLite drops a table's triggers when a migration rebuilds it; every migrate puts them back."""
    from django.core.management import call_command

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'trygg_facts_%'")
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER {name}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER trygg_facts_directory_guardianship ON directory_guardianship")
    before = facts_generation()
    Guardianship.objects.filter(pk=Guardianship.objects.first().pk).update(parental_responsibility=True)
    assert facts_generation() == before  # nothing watches any more
    call_command("migrate", verbosity=0)
    Guardianship.objects.filter(pk=Guardianship.objects.first().pk).update(parental_responsibility=True)
    assert facts_generation() != before


def test_without_the_counter_nothing_is_cached(committed, monkeypatch) -> None:
    """A database the counter is missing from is read every time rather than trusted."""
    monkeypatch.setattr(facts_module, "GENERATION_TABLE", "no_such_table")
    mor = Person.objects.get(username="mor.emma")
    assert facts_generation() is None
    facts_for([mor.pk])
    assert facts_module._cache == {}
    install_triggers()  # the real table is untouched; this only proves the call is idempotent
    # On PostgreSQL that call pointed the shared trigger function at the missing table: put it back,
    # or every later test of this database would see a generation that never moves.
    monkeypatch.undo()
    install_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS no_such_table")
    before = facts_generation()
    Person.objects.filter(pk=mor.pk).update(language="da")
    assert facts_generation() != before


# ------------------------------------------------------------------------------------ two processes


@pytest.fixture(scope="module")
def facts_server() -> Iterator[tuple[LiveServer, LiveDatabase]]:
    database = LiveDatabase("facts")
    server = LiveServer(database.env)
    yield server, database
    server.stop()
    database.drop()


def _manage(database: LiveDatabase, code: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trygg.cli", "manage", "shell", "-c", code], env=database.env,
                          cwd=REPO, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def test_r_chat_03_a_change_in_another_process_holds_on_the_next_request(facts_server) -> None:
    """R-CHAT-03, R-PRIV-01: the server has mor.emma's facts cached; a second process (a shell, as an
    administrator's script) takes her parental responsibility away; her very next request is refused."""
    server, database = facts_server
    emma_id = int(_manage(database, "from trygg.directory.models import Person; "
                                    "print(Person.objects.get(username='emma.4a').pk)"))
    token = httpx.post(server.url + "/api/v1/auth/token", json={"username": "mor.emma", "password": "demo"})
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token.json()['token']}"})
    path = f"/api/v1/children/{emma_id}/conversations"
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # now cached in the server
    _manage(database, "from trygg.directory.models import Guardianship; "
                      "Guardianship.objects.filter(guardian__username='mor.emma', pupil__username='emma.4a')"
                      ".update(parental_responsibility=False)")
    assert client.get(path).status_code == 404


def test_r_chat_02_a_pupil_moved_below_the_grade_is_refused_on_the_next_send(facts_server) -> None:
    """R-CHAT-02: sara.9b chats with jonas.9b; another process moves her class to grade 4 (a roster
    correction); the server, which had every member's facts cached from her last send, refuses her
    very next message with the grade rule."""
    server, database = facts_server
    token = httpx.post(server.url + "/api/v1/auth/token", json={"username": "sara.9b", "password": "demo"})
    sara = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token.json()['token']}"})
    created = sara.post("/api/v1/conversations", json={"kind": "direct", "member_usernames": ["jonas.9b"]})
    assert created.status_code in (200, 201), created.text
    path = f"/api/v1/conversations/{created.json()['id']}/messages"
    for n in range(2):
        assert sara.post(path, json={"body": f"Hei {n}", "client_txn_id": f"facts-{n}"}).status_code == 201
    _manage(database, "from trygg.directory.models import SchoolClass; "
                      "SchoolClass.objects.filter(name='9B').update(grade=4)")
    refused = sara.post(path, json={"body": "Hei igjen", "client_txn_id": "facts-late"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["requirement"] == "R-CHAT-02"


def test_r_safe_01_a_renamed_pupil_is_named_so_on_the_next_send(committed) -> None:
    """Issue 15: the names a nudge and the safety signals use are cached per process, as the facts
    are; a new name (from the admin, the roster import or raw SQL) moves the generation, so the next
    message into the conversation knows it. Fails if the person trigger does not watch ``name``."""
    from trygg.messaging.actions import ensure_class_channels
    from trygg.messaging.context import names_context
    from trygg.messaging.queries import member_ids

    school_class = SchoolClass.objects.get(name="4A")
    pupils_channel, _guardians = ensure_class_channels(school_class)
    ids = member_ids(pupils_channel)
    members = list(facts_for(ids).values())
    emma = Person.objects.get(username="emma.4a")
    first = names_context(members, pupils_channel.kind)
    assert "Emma" in first["present_names"]
    assert names_context(members, pupils_channel.kind) == first  # served from the cache
    before = facts_generation()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Person._meta.db_table} SET name = %s WHERE id = %s", ["Embla Hansen", emma.pk])
    assert facts_generation() != before
    renamed = names_context(list(facts_for(ids).values()), pupils_channel.kind)
    assert "Embla" in renamed["present_names"] and "Emma" not in renamed["present_names"]
    assert renamed["pupil_names"][emma.pk] == "Embla"


def test_a_cached_answer_is_not_shared_with_the_caller(committed) -> None:
    """Issue 15: changing what ``names_context`` returned does not change what the next send gets."""
    from trygg.messaging.actions import ensure_class_channels
    from trygg.messaging.context import names_context
    from trygg.messaging.queries import member_ids

    pupils_channel, _guardians = ensure_class_channels(SchoolClass.objects.get(name="4A"))
    members = list(facts_for(member_ids(pupils_channel)).values())
    names = names_context(members, pupils_channel.kind)
    names["pupil_names"].clear()
    assert names_context(members, pupils_channel.kind)["pupil_names"]


def test_the_person_trigger_of_an_older_version_is_replaced(committed) -> None:
    """Issue 15: a database whose person trigger watches fewer columns (made by an earlier Trygg)
    gets the new one at the next migrate, so a rename moves the generation there too."""
    from django.core.management import call_command

    emma = Person.objects.get(username="emma.4a")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER trygg_facts_directory_person_0")
            cursor.execute("CREATE TRIGGER trygg_facts_directory_person_0 AFTER UPDATE OF is_active ON "
                           "directory_person BEGIN UPDATE trygg_facts_generation SET n = n + 1 WHERE id = 1; END")
        else:
            cursor.execute("CREATE OR REPLACE TRIGGER trygg_facts_directory_person AFTER UPDATE OF is_active OR "
                           "DELETE ON directory_person FOR EACH STATEMENT EXECUTE FUNCTION trygg_bump_facts()")
    before = facts_generation()
    Person.objects.filter(pk=emma.pk).update(name="Emma Two")
    assert facts_generation() == before
    call_command("migrate", verbosity=0)
    Person.objects.filter(pk=emma.pk).update(name="Emma Three")
    assert facts_generation() != before


def test_issue_15_a_send_reads_the_generation_once_with_the_conversation(committed) -> None:
    """A send asked for the generation three times (the members' facts, the nudges' names, the
    protected people), and read the conversation and its members in two more statements: on
    PostgreSQL five round trips of about twenty. Now one statement reads all of it."""
    from django.test.utils import CaptureQueriesContext

    from trygg.directory.facts import GENERATION_TABLE
    from trygg.messaging import actions

    kari = Person.objects.get(username="kari.4a")
    conversation = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    actions.check_send(kari, conversation.pk, "Første", "gen-0")  # fills the caches
    with CaptureQueriesContext(connection) as queries:
        actions.check_send(kari, conversation.pk, "Andre", "gen-1")
    reads = [q["sql"] for q in queries if GENERATION_TABLE in q["sql"] and "UPDATE" not in q["sql"].upper()]
    assert len(reads) == 1 and "membership" in reads[0]


def test_issue_15_the_send_s_one_read_finds_the_members_the_conversation_and_the_generation(committed) -> None:
    """``access_for_sending`` answers as the ORM does, and a stranger finds nothing."""
    from trygg.directory.facts import facts_generation
    from trygg.errors import NotFoundOrHidden
    from trygg.messaging import actions
    from trygg.messaging.models import Conversation
    from trygg.messaging.queries import access_for_sending, member_ids

    kari = Person.objects.get(username="kari.4a")
    made = actions.check_create_conversation(kari, "group", "Turdag", ["mor.emma", "far.emma"]).conversation
    conversation, ids, generation, _repeat = access_for_sending(kari, made.pk)
    stored = Conversation.objects.select_related("created_by", "school_class").get(pk=made.pk)
    assert sorted(ids) == sorted(member_ids(stored)) and len(ids) == 3
    assert generation == facts_generation()
    assert conversation.pk == stored.pk and conversation.title == stored.title
    assert conversation.created_by.username == "kari.4a" and conversation.school_class == stored.school_class
    with pytest.raises(NotFoundOrHidden):
        access_for_sending(Person.objects.get(username="emma.4a"), made.pk)
    with pytest.raises(NotFoundOrHidden):
        access_for_sending(kari, made.pk + 1000)
