"""Sign-in providers in the admin: the municipality's administrator configures them; the secret is
never shown again; a leader does not see them (R-PRIV-01)."""

from __future__ import annotations

from django.test import Client

from trygg.audit.models import AuditRecord
from trygg.signin.models import OidcProvider


def admin_client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_municipality_admin_adds_a_provider_and_its_secret_is_kept_but_never_shown(person, demo):
    client = admin_client(person("admin"))
    response = client.post("/admin/signin/oidcprovider/add/", {
        "municipality": demo.pk, "name": "ID-porten", "issuer": "https://idporten.no", "client_id": "trygg",
        "client_secret": "very-secret-value", "scopes": "openid profile", "link_claim": "pid", "link_by": "code",
        "allow_link_codes": "on", "acr_normal": "idporten-loa-substantial", "acr_strong": "idporten-loa-high",
        "roles": '["guardian"]', "enabled": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = OidcProvider.objects.get(name="ID-porten")
    assert provider.roles == ["guardian"] and provider.client_secret == "very-secret-value"
    page = client.get(f"/admin/signin/oidcprovider/{provider.pk}/change/").content.decode()
    assert "very-secret-value" not in page
    data = {"municipality": demo.pk, "name": "ID-porten", "issuer": "https://idporten.no", "client_id": "trygg",
            "client_secret": "", "scopes": "openid", "link_claim": "pid", "link_by": "code",
            "acr_normal": "", "acr_strong": "idporten-loa-high", "roles": "[]", "enabled": "on"}
    assert client.post(f"/admin/signin/oidcprovider/{provider.pk}/change/", data).status_code == 302
    provider.refresh_from_db()
    assert provider.client_secret == "very-secret-value" and provider.scopes == "openid"
    recorded = AuditRecord.objects.filter(action__startswith="signin.provider_").order_by("id")
    assert [r.action for r in recorded] == ["signin.provider_added", "signin.provider_changed"]
    assert all("very-secret-value" not in str(r.detail) for r in recorded)


def test_r_priv_01_a_leader_does_not_see_the_providers(person, demo):
    OidcProvider.objects.create(municipality=demo, name="Feide", issuer="https://auth.dataporten.no",
                                client_id="c", client_secret="s")
    client = admin_client(person("rektor"))
    assert client.get("/admin/signin/oidcprovider/").status_code == 403
