"""The directory API: sign-in, me, classes, class members."""

from __future__ import annotations


def test_token_and_me_name_kari_as_teacher(api_client):
    """POST /api/v1/auth/token returns a token; /me with it names Kari as a teacher."""
    response = api_client().post(
        "/api/v1/auth/token", {"username": "kari.4a", "password": "demo"}, content_type="application/json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = api_client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["username"] == "kari.4a"
    assert me["name"] == "Kari Nordmann"
    assert me["roles"] == ["teacher"]


def test_wrong_password_is_401_in_error_format(api_client):
    response = api_client().post(
        "/api/v1/auth/token", {"username": "kari.4a", "password": "nope"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert set(response.json()) >= {"error", "message", "rule", "requirement"}


def test_r_priv_01_class_members_hidden_from_a_guardian(api_client, person):
    """A guardian asking for a class's members gets 404, not 403 (R-PRIV-01)."""
    class_id = person("emma.4a").enrollments.get().school_class_id
    assert api_client("mor.emma").get(f"/api/v1/classes/{class_id}/members").status_code == 404
    members = api_client("kari.4a").get(f"/api/v1/classes/{class_id}/members").json()
    assert {"username": "emma.4a", "name": "Emma Solheim", "role": "pupil"} in members
    assert len([m for m in members if m["role"] == "pupil"]) == 20


def test_logout_kills_the_bearer_token(api_client) -> None:
    """POST /api/v1/auth/logout with a token makes that token answer 401 from then on."""
    raw = api_client().post("/api/v1/auth/token", {"username": "kari.4a", "password": "demo"},
                            content_type="application/json").json()["token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api_client().get("/api/v1/me", **headers).status_code == 200
    assert api_client().post("/api/v1/auth/logout", **headers).status_code == 204
    assert api_client().get("/api/v1/me", **headers).status_code == 401


def test_logout_ends_the_browser_session(person) -> None:
    """Signing out of the web ends the session: the API then answers 401 to the cookie."""
    from django.test import Client

    client = Client(enforce_csrf_checks=False)
    client.force_login(person("kari.4a"))
    assert client.get("/api/v1/me").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def class_ids(api_client, username: str) -> set[str]:
    return {c["name"] for c in api_client(username).get("/api/v1/classes").json()}


def test_classes_are_those_a_person_is_in_teaches_leads_or_has_a_child_in(api_client) -> None:
    """GET /api/v1/classes: a pupil's own class, a teacher's taught classes, a guardian's child's class, a
    leader's whole school; a union representative has none of their own."""
    assert class_ids(api_client, "emma.4a") == {"4A"}
    assert class_ids(api_client, "kari.4a") == {"4A"}
    assert class_ids(api_client, "nils.9b") == {"9B"}
    assert class_ids(api_client, "mor.emma") == {"4A"}
    assert class_ids(api_client, "mor.ali") == {"9B"}
    assert class_ids(api_client, "rektor") == {"4A", "9B"}
    assert class_ids(api_client, "tr") == set()
    first = api_client("emma.4a").get("/api/v1/classes").json()[0]
    assert first == {"id": first["id"], "name": "4A", "grade": 4, "school": "Solbakken skole"}


def test_r_list_05_a_parent_without_parental_responsibility_sees_nothing_about_the_child(
    api_client, person
) -> None:
    """far.ali is Ali's parent without parental responsibility: no class, no member list, no child."""
    client = api_client("far.ali")
    assert client.get("/api/v1/classes").json() == []
    assert client.get("/api/v1/me").json()["roles"] == ["guardian"]
    class_9b = person("ali.9b").enrollments.get().school_class_id
    assert client.get(f"/api/v1/classes/{class_9b}/members").status_code == 404
    assert person("far.ali").facts.child_ids == frozenset()


def test_r_priv_01_members_for_the_class_teachers_and_leaders_only(api_client, person) -> None:
    """The member list of 9B is for its teachers (contact and subject) and the school's leader; a teacher
    of another class, a pupil and a guardian of the class get 404."""
    class_9b = person("sara.9b").enrollments.get().school_class_id
    url = f"/api/v1/classes/{class_9b}/members"
    for allowed in ("ola.9b", "nils.9b", "rektor"):
        assert api_client(allowed).get(url).status_code == 200, allowed
    for hidden in ("kari.4a", "sara.9b", "mor.sara"):
        assert api_client(hidden).get(url).status_code == 404, hidden
    members = api_client("ola.9b").get(url).json()
    assert {"username": "nils.9b", "name": "Nils Fjeld", "role": "subject_teacher"} in members
    assert {"username": "ola.9b", "name": "Ola Berge", "role": "contact_teacher"} in members
