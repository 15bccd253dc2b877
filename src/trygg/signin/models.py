"""Sign-in: OpenID Connect providers, the identities linked to people, link codes, and the signed-in
browser sessions a person can see and end.

Identities are never stored as they come from the provider: ``IdentityLink.subject_digest`` is a
keyed HMAC of the provider and the claim value (``trygg.signin.identity``), so a national identity
number (fødselsnummer, CPR) is not readable from the database, and a leaked database does not let
anyone test numbers without the key either.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trygg.directory.models import Municipality, Person


class LinkBy(models.TextChoices):
    USERNAME = "username", _("The claim equals the person's username from the roster")
    SOURCE_ID = "source_id", _("The claim equals the roster's sourcedId")
    CODE = "code", _("Only a one-time link code from the school (national identity numbers)")


class OidcProvider(models.Model):
    """An OpenID Connect provider a municipality signs people in with (Feide, ID-porten, UNI-login,
    a MitID broker). Discovery and keys are read from ``issuer``; nothing else needs configuring."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="oidc_providers")
    name = models.CharField(_("name on the sign-in button"), max_length=100)
    issuer = models.URLField(_("issuer"), max_length=300)
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret = models.CharField(_("client secret"), max_length=500)
    scopes = models.CharField(_("scopes"), max_length=300, default="openid")
    link_claim = models.CharField(
        _("claim that identifies the person"), max_length=200, default="sub",
        help_text=_("Feide: https://n.feide.no/claims/eduPersonPrincipalName or sub; ID-porten: pid; "
                    "MitID brokers: their CPR claim. Stored only as a keyed hash."),
    )
    link_by = models.CharField(_("how a first sign-in finds the person"), max_length=12, choices=LinkBy.choices,
                               default=LinkBy.CODE)
    allow_link_codes = models.BooleanField(_("accept one-time link codes"), default=True)
    acr_normal = models.CharField(_("acr value for a normal sign-in"), max_length=200, blank=True)
    acr_strong = models.CharField(
        _("acr value for a strong sign-in (step-up)"), max_length=200, blank=True,
        help_text=_("e.g. idporten-loa-high; empty if the provider offers no higher level."),
    )
    roles = models.JSONField(
        _("roles that may use it"), default=list, blank=True,
        help_text=_("pupil, guardian, teacher, leader, union_rep, safety_rep, admin; empty: everyone."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # A provider ``trygg demo`` runs itself; its issuer is rewritten at every start.
    demo = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("sign-in provider")
        verbose_name_plural = _("sign-in providers")

    def __str__(self) -> str:
        return self.name


class IdentityLink(models.Model):
    """A person's identity at a provider, as a keyed hash of the linking claim."""

    provider = models.ForeignKey(OidcProvider, on_delete=models.CASCADE, related_name="links")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identity_links")
    subject_digest = models.CharField(max_length=64)
    # The provider's ``sub`` (hashed the same way), which a back-channel logout token may name.
    sub_digest = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    # "roster" or "code": how the link was made, for the audit trail and the person's own page.
    linked_by = models.CharField(max_length=10)

    class Meta:
        verbose_name = _("linked identity")
        verbose_name_plural = _("linked identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject_digest"], name="unique_identity_per_provider"),
            models.UniqueConstraint(fields=["provider", "person"], name="one_identity_per_person_and_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.provider}"


class LinkCode(models.Model):
    """A one-time code a school hands a person so their first sign-in links to them. Stored hashed."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="link_codes")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("link code")
        verbose_name_plural = _("link codes")

    def __str__(self) -> str:
        return f"link code {self.pk} for {self.person_id}"


class PendingSignIn(models.Model):
    """One authorization request on its way through a provider: its ``state``, ``nonce`` and PKCE
    verifier. Used once: the callback claims it, so a replayed response or a reused nonce fails."""

    class Purpose(models.TextChoices):
        SIGN_IN = "sign_in"
        STEP_UP = "step_up"

    state = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=64, unique=True)
    code_verifier = models.CharField(max_length=128)
    provider = models.ForeignKey(OidcProvider, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.SIGN_IN)
    # For a step-up: the person who must come back.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    next_url = models.CharField(max_length=500, default="/")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pending sign-in {self.pk}"


class SignInSession(models.Model):
    """A signed-in browser session, so its person can see it and end it from anywhere."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="signin_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    method = models.CharField(max_length=20, default="password")
    provider = models.ForeignKey(OidcProvider, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The provider's session id (``sid``), which a back-channel logout names.
    oidc_sid = models.CharField(max_length=200, blank=True, db_index=True)
    label = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return f"session {self.pk} of {self.person_id}"


class SeenLogoutToken(models.Model):
    """The ``jti`` of every back-channel logout token accepted, so none is accepted twice."""

    provider = models.ForeignKey(OidcProvider, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=200)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "jti"], name="unique_logout_jti")]

    def __str__(self) -> str:
        return f"logout token {self.jti}"
