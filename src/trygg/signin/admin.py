"""Sign-in providers and linked identities in the Django admin, for the municipality's administrator.

The client secret is never shown again once saved: the field is empty on the form and an empty
field keeps the stored secret. Linked identities are read-only (a hash tells nothing); deleting one
unlinks it, so the person's next sign-in needs the roster or a new link code.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from trygg.audit.actions import do_audit
from trygg.directory.admin import is_municipality_admin
from trygg.directory.models import Municipality
from trygg.signin.models import IdentityLink, OidcProvider


def _municipalities(request: HttpRequest) -> QuerySet[Municipality]:
    if request.user.is_superuser:
        return Municipality.objects.all()
    return Municipality.objects.filter(pk__in=request.user.facts.admin_municipality_ids)


class OidcProviderForm(forms.ModelForm):
    issuer = forms.URLField(max_length=300, assume_scheme="https",
                            help_text="Exactly as the provider's discovery document names it.")
    client_secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                                    max_length=500, help_text="Leave empty to keep the stored secret.")
    roles = forms.JSONField(required=False, initial=list)

    class Meta:
        model = OidcProvider
        fields = ["municipality", "name", "issuer", "client_id", "client_secret", "scopes", "link_claim", "link_by",
                  "allow_link_codes", "acr_normal", "acr_strong", "roles", "enabled"]

    def clean_client_secret(self) -> str:
        secret = self.cleaned_data.get("client_secret") or ""
        if not secret and self.instance.pk:
            return self.instance.client_secret
        if not secret:
            raise forms.ValidationError("A new provider needs its client secret.")
        return secret

    def clean_roles(self) -> list[str]:
        from trygg.policy.packs_schema import ROLES

        roles = self.cleaned_data.get("roles") or []
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            raise forms.ValidationError(f"A list of roles from: {', '.join(ROLES)}.")
        return roles


class MunicipalityAdminsOnly(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_municipality_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_municipality_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request)


@admin.register(OidcProvider)
class OidcProviderAdmin(MunicipalityAdminsOnly):
    form = OidcProviderForm
    list_display = ["name", "issuer", "municipality", "link_claim", "link_by", "acr_strong", "enabled"]
    list_filter = ["enabled", "municipality"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OidcProvider]:
        return super().get_queryset(request).filter(municipality__in=_municipalities(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "municipality":
            kwargs["queryset"] = _municipalities(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: OidcProvider, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Field names only: never the secret.
        do_audit(request.user, "signin.provider_changed" if change else "signin.provider_added", obj,
                 fields=sorted(form.changed_data))


@admin.register(IdentityLink)
class IdentityLinkAdmin(MunicipalityAdminsOnly):
    list_display = ["person", "provider", "linked_by", "created_at"]
    list_filter = ["provider", "linked_by"]
    search_fields = ["person__name", "person__username"]
    fields = ["person", "provider", "linked_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[IdentityLink]:
        return super().get_queryset(request).filter(provider__municipality__in=_municipalities(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: IdentityLink) -> None:
        do_audit(request.user, "auth.identity_unlinked", obj.person, provider=obj.provider_id)
        super().delete_model(request, obj)
