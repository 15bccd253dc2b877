"""The municipality's policy configuration in the Django admin.

Saving goes through ``trygg.policy.actions.check_update_policy_config``: the same validation,
audit record and cache invalidation as everywhere else. A bad value is shown on the form and
nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from trygg.errors import TryggError
from trygg.policy import engine
from trygg.policy.actions import check_update_policy_config, validate_config
from trygg.policy.engine import is_core_pack
from trygg.policy.models import PolicyConfig


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


class PolicyConfigForm(forms.ModelForm):
    active_packs = forms.MultipleChoiceField(
        label=_("Active guideline packs"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Trygg's own core packs are always active."),
    )
    overrides = forms.JSONField(
        label=_("Parameter overrides"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text=_('{"rule id": {"parameter": value}}, e.g. {"amot.pupil-chat-grade": {"min_grade": 7}}'),
    )
    school_overrides = forms.JSONField(
        label=_("Schools' own values"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_('{"school id": {"rule id": {"parameter": value}}}, e.g. school hours: '
                    '{"3": {"amot.social-notifications-held": {"school_hours": {"mon": ["08:30", "14:00"]}}}}'),
    )

    class Meta:
        model = PolicyConfig
        fields = ["municipality", "active_packs", "overrides"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reg = engine.registry()
        self.fields["active_packs"].choices = [
            (pack.id, f"{pack.title.get('en', pack.id)} ({pack.id})")
            for pack in reg.packs.values()
            if not is_core_pack(pack.id)
        ]
        if self.instance.pk:
            self.fields["municipality"].disabled = True
            self.fields["school_overrides"].initial = {
                str(k): v for k, v in self.instance.school_overrides_map().items()
            }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        municipality = data.get("municipality") or getattr(self.instance, "municipality", None)
        if municipality is None:
            return data
        school_ids = set(municipality.schools.values_list("id", flat=True))
        problems = validate_config(
            engine.registry(),
            list(data.get("active_packs") or []),
            data.get("overrides") or {},
            data.get("school_overrides") or {},
            school_ids,
        )
        if problems:
            raise forms.ValidationError([forms.ValidationError(p) for p in problems])
        return data


@admin.register(PolicyConfig)
class PolicyConfigAdmin(admin.ModelAdmin):
    form = PolicyConfigForm
    list_display = ["municipality", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by", "parameters"]
    fields = ["municipality", "active_packs", "overrides", "school_overrides", "parameters",
              "updated_at", "updated_by"]

    @admin.display(description=_("Parameters and their defaults"))
    def parameters(self, obj: PolicyConfig | None) -> str:
        rows = [
            (spec.id, name, param.type, _pretty(param.default), param.description)
            for spec in engine.registry().rules.values()
            for name, param in spec.params.items()
        ]
        return format_html_join(
            "\n", "<div><code>{}</code> · <code>{}</code> ({}) = <code>{}</code> — {}</div>", rows
        )

    # Municipality administrators manage their own municipality; superusers every one.
    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyConfig]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(municipality_id__in=request.user.facts.admin_municipality_ids)

    def _is_admin(self, request: HttpRequest, obj: PolicyConfig | None = None) -> bool:
        user = request.user
        if not user.is_active or not user.is_staff:
            return False
        if user.is_superuser:
            return True
        ids = user.facts.admin_municipality_ids
        return bool(ids) and (obj is None or obj.municipality_id in ids)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: PolicyConfig | None = None) -> bool:
        return self._is_admin(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: PolicyConfig | None = None) -> bool:
        return self._is_admin(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: PolicyConfig | None = None) -> bool:
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "municipality" and not request.user.is_superuser:
            from trygg.directory.models import Municipality

            kwargs["queryset"] = Municipality.objects.filter(id__in=request.user.facts.admin_municipality_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: PolicyConfig, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        try:
            saved = check_update_policy_config(
                request.user,
                data.get("municipality") or obj.municipality,
                active_packs=list(data.get("active_packs") or []),
                overrides=data.get("overrides") or {},
                school_overrides=data.get("school_overrides") or {},
            )
        except TryggError as exc:
            # The form validated the same rules; this only happens on a race or a refused actor.
            raise forms.ValidationError(str(exc.message)) from exc
        obj.pk = saved.pk
        obj.refresh_from_db()
