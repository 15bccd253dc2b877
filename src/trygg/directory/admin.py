"""The directory in the Django admin.

A municipality administrator manages their municipality: its schools, classes, people,
guardianships, teaching assignments and staff roles. A school leader sees their school.
Other staff see only what Django model permissions (groups) grant them, within their schools.
Protection flags (R-LIST-05) are shown only to those the policy lets set them (leaders of the
pupil's school and the municipality's administrators) and are saved through
``check_set_protection``, with its policy check and audit record, never by the form itself.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from trygg.audit.actions import do_audit
from trygg.directory.actions import (
    PROTECTION_FIELDS,
    can_set_protection,
    check_credentials,
    check_set_protection,
    client_address,
)
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
)
from trygg.directory.queries import list_admin_objects, list_protectable_pupils
from trygg.errors import NotSignedIn, PolicyDenied, TooManyRequests
from trygg.signin.stepup import require_step_up


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in, counted against the same per-account and per-address limits as the
    login page and the token endpoint; otherwise /admin/login/ would be an unthrottled side door."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = check_credentials(
                    self.request, username, password, client_address(self.request),
                    device=self.request.COOKIES.get(settings.TRYGG_DEVICE_COOKIE))
            except (TooManyRequests, PolicyDenied) as exc:
                raise forms.ValidationError(str(exc.message), code=exc.code) from exc
            except NotSignedIn as exc:
                raise self.get_invalid_login_error() from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = ThrottledAdminLoginForm


def is_protected_person(person: Person) -> bool:
    """Return whether the person's record holds protected data: a pupil with a protection flag, or a
    guardian of one (the guardian's address and phone are what the flags hide, R-LIST-05)."""
    flagged = Protection.objects.filter(
        Q(secret_phone=True) | Q(secret_address=True) | Q(address_reveals_circumstances=True)
        | Q(confidential_identity=True))
    return flagged.filter(Q(pupil=person) | Q(pupil__guardians__guardian=person)).exists()


def is_municipality_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and (user.is_superuser or user.facts.admin_municipality_ids))


def is_leader(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.facts.led_school_ids)


class DirectoryAdmin(admin.ModelAdmin):
    """Scoped to the viewer; municipality admins write, leaders read, others need model permissions."""

    # Only superusers create or remove whole municipalities.
    superuser_adds = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return list_admin_objects(request.user, super().get_queryset(request))

    def _perm(self, request: HttpRequest, action: str) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{action}_{self.opts.model_name}")

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return is_municipality_admin(request) or is_leader(request) or user.has_module_perms(self.opts.app_label)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (is_municipality_admin(request) or is_leader(request) or self._perm(request, "view")
                or self.has_change_permission(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request) or self._perm(request, "change")

    def has_add_permission(self, request: HttpRequest) -> bool:
        if self.superuser_adds:
            return request.user.is_superuser
        return is_municipality_admin(request) or self._perm(request, "add")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.superuser_adds:
            return request.user.is_superuser
        return is_municipality_admin(request) or self._perm(request, "delete")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A choice outside the viewer's scope would move a row out of it (or leak another
        # municipality's names into the form).
        related = db_field.remote_field.model
        if related in (Municipality, School, SchoolClass, Person):
            kwargs["queryset"] = list_admin_objects(request.user, related._default_manager.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Field names only: the values may be a confidential address.
        do_audit(request.user, "directory.admin_changed" if change else "directory.admin_added", obj,
                 fields=sorted(form.changed_data))

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        do_audit(request.user, "directory.admin_deleted", obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            do_audit(request.user, "directory.admin_deleted", obj)
        super().delete_queryset(request, queryset)


@admin.register(Municipality)
class MunicipalityAdmin(DirectoryAdmin):
    superuser_adds = True
    list_display = ["name", "country", "source_id"]
    search_fields = ["name"]


@admin.register(School)
class SchoolAdmin(DirectoryAdmin):
    list_display = ["name", "municipality", "source_id"]
    list_filter = ["municipality"]
    search_fields = ["name"]


@admin.register(SchoolClass)
class SchoolClassAdmin(DirectoryAdmin):
    list_display = ["name", "grade", "school", "school_year", "reveals_special_education"]
    list_filter = ["school", "grade", "school_year"]
    search_fields = ["name"]


class ProtectionInline(admin.StackedInline):
    """A pupil's or guardian's protection flags, on the person's page, for leaders and administrators only."""

    model = Protection
    fk_name = "pupil"
    fields = list(PROTECTION_FIELDS) + ["updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]
    can_delete = False
    max_num = 1
    extra = 1

    def _allowed(self, request: HttpRequest, obj: Person | None) -> bool:
        # Flags belong to pupils and guardians (R-LIST-05): one parent's secret number is theirs.
        if obj is None or obj.pk is None or not obj.facts.roles & {"pupil", "guardian"}:
            return False
        return can_set_protection(request.user, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class GuardianshipInline(admin.TabularInline):
    model = Guardianship
    fk_name = "pupil"
    autocomplete_fields = ["guardian"]
    extra = 0
    verbose_name = _("guardian")
    verbose_name_plural = _("guardians")


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    fk_name = "pupil"
    extra = 0


class TeachingInline(admin.TabularInline):
    model = TeachingAssignment
    fk_name = "teacher"
    extra = 0


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    fk_name = "person"
    extra = 0


class InlineWritesByAdmins:
    """Relations on a person's page follow the person admin's rules (not the inline model's)."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request) or is_leader(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_municipality_admin(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.remote_field.model
        if related in (Municipality, School, SchoolClass, Person):
            kwargs["queryset"] = list_admin_objects(request.user, related._default_manager.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedGuardianshipInline(InlineWritesByAdmins, GuardianshipInline):
    pass


class ScopedEnrollmentInline(InlineWritesByAdmins, EnrollmentInline):
    pass


class ScopedTeachingInline(InlineWritesByAdmins, TeachingInline):
    pass


class ScopedStaffRoleInline(InlineWritesByAdmins, StaffRoleInline):
    pass


@admin.register(Person)
class PersonAdmin(DirectoryAdmin):
    list_display = ["username", "name", "municipality", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "municipality"]
    search_fields = ["username", "name", "email"]
    ordering = ["name"]
    inlines = [ProtectionInline, ScopedEnrollmentInline, ScopedGuardianshipInline, ScopedTeachingInline,
               ScopedStaffRoleInline]
    readonly_fields = ["last_login", "date_joined"]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> Any:
        # A protected person's record (R-LIST-05) opens only after a recent strong sign-in; one
        # outside the viewer's scope is left to the admin's own answer, so nothing is told first.
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and is_protected_person(obj):
            require_step_up(request, obj, "protected_record")
            # The view itself is written to the audit log leadership reads (R-PRIV-02).
            do_audit(request.user, "directory.protected_record_viewed", obj, door="admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fields(self, request: HttpRequest, obj: Person | None = None) -> list[str]:
        fields = ["username", "name", "email", "language", "municipality", "source_id", "is_active", "is_staff"]
        # Phone and address may be the very thing a protection flag hides; only those who see
        # the flags see them here.
        if obj is None or can_set_protection(request.user, obj) or is_municipality_admin(request):
            fields[3:3] = ["phone", "address"]
        if request.user.is_superuser:
            fields += ["is_superuser", "groups", "user_permissions"]
        if obj is not None:
            fields += ["last_login", "date_joined"]
        return fields

    def has_change_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        if super().has_change_permission(request, obj):
            return True
        # A leader may save a pupil's page, but only its protection flags: every other field is
        # read-only for them (get_readonly_fields).
        return (obj is not None and bool(obj.facts.roles & {"pupil", "guardian"})
                and can_set_protection(request.user, obj))

    def _edits_people(self, request: HttpRequest) -> bool:
        return is_municipality_admin(request) or self._perm(request, "change")

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> list[str]:
        if obj is not None and not self._edits_people(request):
            return self.get_fields(request, obj)
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Person, form: forms.ModelForm, change: bool) -> None:
        if change and not self._edits_people(request):
            return
        if not change:
            # People sign in through the national sign-in; a password is set separately if ever.
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not Protection:
            super().save_formset(request, form, formset, change)
            return
        # The admin's change message reads these; the action's audit record is the real trail.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.has_changed() and inline_form.is_valid():
                flags = {name: bool(inline_form.cleaned_data.get(name)) for name in PROTECTION_FIELDS}
                # The action asks the policy again and writes the audit row; a refusal
                # (PolicyDenied) aborts the admin's transaction, so nothing on the page is saved.
                saved = check_set_protection(request.user, form.instance, **flags)
                formset.changed_objects.append((saved, list(inline_form.changed_data)))


@admin.register(Guardianship)
class GuardianshipAdmin(DirectoryAdmin):
    list_display = ["guardian", "pupil", "parental_responsibility"]
    list_filter = ["parental_responsibility"]
    search_fields = ["guardian__name", "pupil__name"]
    autocomplete_fields = ["guardian", "pupil"]


@admin.register(Enrollment)
class EnrollmentAdmin(DirectoryAdmin):
    list_display = ["pupil", "school_class"]
    list_filter = ["school_class"]
    search_fields = ["pupil__name"]
    autocomplete_fields = ["pupil"]


@admin.register(TeachingAssignment)
class TeachingAssignmentAdmin(DirectoryAdmin):
    list_display = ["teacher", "school_class", "kind"]
    list_filter = ["kind", "school_class"]
    search_fields = ["teacher__name"]
    autocomplete_fields = ["teacher"]


@admin.register(StaffRole)
class StaffRoleAdmin(DirectoryAdmin):
    list_display = ["person", "kind", "school", "municipality"]
    list_filter = ["kind", "school"]
    search_fields = ["person__name"]
    autocomplete_fields = ["person"]


@admin.register(Protection)
class ProtectionAdmin(admin.ModelAdmin):
    """Every pupil's and guardian's protection flags the viewer may set, in one list."""

    list_display = ["pupil", *PROTECTION_FIELDS, "updated_by", "updated_at"]
    list_filter = list(PROTECTION_FIELDS)
    search_fields = ["pupil__name", "pupil__username"]
    fields = ["pupil", *PROTECTION_FIELDS, "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Protection]:
        return list_admin_objects(request.user, super().get_queryset(request)).select_related("pupil", "updated_by")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # The list names every protected pupil: confidential as a whole (R-LIST-05, R-STAFF-02).
        if self._allowed(request):
            require_step_up(request, None, "protection_flags")
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> Any:
        if self._allowed(request):
            require_step_up(request, None, "protection_flags")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request: HttpRequest, obj: Protection | None = None) -> list[str]:
        return self.readonly_fields + (["pupil"] if obj is not None else [])

    def _allowed(self, request: HttpRequest, obj: Protection | None = None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if obj is None:
            return list_protectable_pupils(user).exists()
        return can_set_protection(user, obj.pupil)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Protection | None = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Protection | None = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Protection | None = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "pupil":
            kwargs["queryset"] = list_protectable_pupils(request.user).filter(protection__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Protection, form: forms.ModelForm, change: bool) -> None:
        flags = {name: bool(form.cleaned_data.get(name)) for name in PROTECTION_FIELDS}
        saved = check_set_protection(request.user, obj.pupil, **flags)
        obj.pk = saved.pk
        obj.refresh_from_db()
