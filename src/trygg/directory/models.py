"""The directory: municipalities, schools, classes, people and how they are related.

Roles are not a column: a person is a pupil because they are enrolled, a guardian
because a guardianship names them, a teacher because they teach a class. That keeps
one source of truth for every relation the policy engine asks about.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from trygg.database import RowReader


class Role(models.TextChoices):
    PUPIL = "pupil", _("Pupil")
    GUARDIAN = "guardian", _("Guardian")
    TEACHER = "teacher", _("Teacher")
    LEADER = "leader", _("School leader")
    UNION_REP = "union_rep", _("Union representative")
    SAFETY_REP = "safety_rep", _("Safety representative")
    ADMIN = "admin", _("Municipality administrator")
    # Handles the cases a school cannot handle itself: a report against the school's own leader.
    CASE_HANDLER = "case_handler", _("Municipality case handler")


STAFF_ROLES = frozenset({Role.TEACHER, Role.LEADER, Role.UNION_REP, Role.SAFETY_REP, Role.ADMIN, Role.CASE_HANDLER})


class Country(models.TextChoices):
    NORWAY = "NO", _("Norway")
    DENMARK = "DK", _("Denmark")


class Municipality(models.Model):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, choices=Country.choices, default=Country.NORWAY)
    source_id = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="schools")
    name = models.CharField(max_length=200)
    source_id = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A OneRoster ``department`` org: part of its school, stored so that a later delta that does not ship
    ``orgs.csv`` still places a class or person named by the department in the school."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=200)
    source_id = models.CharField(max_length=200, unique=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class SchoolClass(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=100)
    # 0-10: 0 is the Danish 0. klasse (børnehaveklasse); empty for a class without a grade (an
    # elective, a club, a mixed group), whose pupils count as below every grade limit (R-CHAT-02).
    grade = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    school_year = models.CharField(max_length=9, default="2026/27")
    # R-LIST-05: membership of some classes reveals that a pupil receives special education.
    reveals_special_education = models.BooleanField(default=False)
    source_id = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__isnull=True) | models.Q(grade__gte=0, grade__lte=10),
                name="class_grade_0_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school})"


class PersonManager(BaseUserManager["Person"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: object) -> Person:
        person = self.model(username=username, **extra)
        if password:
            person.set_password(password)
        else:
            person.set_unusable_password()
        person.save(using=self._db)
        return person

    def create_superuser(self, username: str, password: str | None = None, **extra: object) -> Person:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class Language(models.TextChoices):
    NB = "nb", "Norsk bokmål"
    DA = "da", "Dansk"
    EN = "en", "English"


class Person(AbstractBaseUser, PermissionsMixin):
    username = models.CharField(_("username"), max_length=150, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.NB)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="people", null=True, blank=True
    )
    source_id = models.CharField(max_length=200, unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Access to the Django admin; set for municipality administrators and school leaders.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # A new value with every new password (not with a rehash of the same one): tokens and sessions
    # are bound to it, so a password change by any route ends every older sign-in (issue 12 §1).
    credential_stamp = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = PersonManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.name or self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        if not getattr(self, "_rehashing", False):
            self.credential_stamp = secrets.token_hex(16)

    def check_password(self, raw_password: str) -> bool:
        def rehash(raw: str) -> None:
            # The same password at new hasher parameters: no password change, nothing revoked.
            self._rehashing = True
            try:
                self.set_password(raw)
            finally:
                self._rehashing = False
            self._password = None
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, rehash)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django binds sessions to the password hash, so a rehash at new parameters would end them;
        # bound to the credential stamp instead, they end with a password change and only then.
        return salted_hmac("trygg.directory.Person.session", f"{self.pk}:{self.credential_stamp}",
                           secret=secret, algorithm="sha256").hexdigest()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.username

    @cached_property
    def facts(self) -> PersonFacts:
        """Return the relations the policy engine asks about, once per request (cached, never stale)."""
        from trygg.directory.facts import facts_for

        return facts_for([self.pk])[self.pk]

    @property
    def roles(self) -> frozenset[str]:
        return self.facts.roles


class Enrollment(models.Model):
    pupil = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="enrollments")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="enrollments")

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [models.UniqueConstraint(fields=["pupil", "school_class"], name="unique_enrollment")]

    def __str__(self) -> str:
        return f"{self.pupil} in {self.school_class}"


class TeachingKind(models.TextChoices):
    CONTACT = "contact", _("Contact teacher")
    SUBJECT = "subject", _("Subject teacher")


class TeachingAssignment(models.Model):
    teacher = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="teaching")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="teaching")
    kind = models.CharField(max_length=10, choices=TeachingKind.choices, default=TeachingKind.SUBJECT)

    class Meta:
        verbose_name = _("teaching assignment")
        verbose_name_plural = _("teaching assignments")
        constraints = [
            models.UniqueConstraint(fields=["teacher", "school_class"], name="unique_teaching_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.teacher} teaches {self.school_class} ({self.kind})"


class Guardianship(models.Model):
    guardian = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardianships")
    pupil = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="guardians")
    # A guardian without parental responsibility sees nothing about the child: a parent
    # who has lost it may be the person a protected address protects the child from.
    parental_responsibility = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [models.UniqueConstraint(fields=["guardian", "pupil"], name="unique_guardianship")]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.pupil}"


class StaffRole(models.Model):
    class Kind(models.TextChoices):
        LEADER = Role.LEADER.value, Role.LEADER.label
        UNION_REP = Role.UNION_REP.value, Role.UNION_REP.label
        SAFETY_REP = Role.SAFETY_REP.value, Role.SAFETY_REP.label
        ADMIN = Role.ADMIN.value, Role.ADMIN.label
        CASE_HANDLER = Role.CASE_HANDLER.value, Role.CASE_HANDLER.label

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="staff_roles")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Leaders and representatives belong to a school; a municipality admin and case handler to the
    # municipality.
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="staff")
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="staff")

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "school", "municipality"], name="unique_staff_role")
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.kind})"


class Protection(models.Model):
    """Protection flags on a pupil or a guardian, set only by school leaders and municipality admins
    (R-LIST-05).

    On a guardian they protect that guardian alone (one parent's secret number or address); on a
    pupil a secret address or strictly confidential identity also hides the pupil's guardians from
    other families (``trygg.directory.queries.hidden_from``). The field keeps its old name
    ``pupil`` so every reader of pupils' flags stays as it was.
    """

    pupil = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="protection",
                                 verbose_name=_("pupil or guardian"))
    secret_phone = models.BooleanField(_("secret phone number"), default=False)
    secret_address = models.BooleanField(_("secret address"), default=False)
    address_reveals_circumstances = models.BooleanField(
        _("address reveals personal circumstances (e.g. institution)"), default=False
    )
    confidential_identity = models.BooleanField(
        _("strictly confidential identity (name confidential too)"), default=False
    )
    updated_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("protection flags")
        verbose_name_plural = _("protection flags")

    def __str__(self) -> str:
        return f"protection for {self.pupil_id}"

    @property
    def address_hidden(self) -> bool:
        return self.secret_address or self.address_reveals_circumstances or self.confidential_identity

    @property
    def phone_hidden(self) -> bool:
        return self.secret_phone or self.confidential_identity

    @property
    def any(self) -> bool:
        return self.address_hidden or self.phone_hidden


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a leaked database leaks no tokens.

    A token carries how its sign-in was made: ``strong_at`` is when a second factor (or a
    provider's higher level) was last shown for it, which step-up reads (``trygg.signin.stepup``).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # "password", "password+otp": how the token was obtained, shown on the person's sign-ins page.
    method = models.CharField(max_length=20, default="password")
    strong_at = models.DateTimeField(null=True, blank=True)
    # The client's User-Agent, shortened, so a person can tell their devices apart.
    label = models.CharField(max_length=120, blank=True)
    # The person's credential stamp when the token was issued: a new password ends it.
    stamp = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"token {self.pk} for {self.person_id}"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(
        cls,
        person: Person,
        lifetime: timedelta = timedelta(days=30),
        *,
        method: str = "password",
        strong: bool = False,
        label: str = "",
    ) -> tuple[ApiToken, str]:
        """Create a token for ``person`` and return it with the raw value, which is shown once."""
        raw = secrets.token_urlsafe(32)
        now = timezone.now()
        token = cls.objects.create(
            person=person, digest=cls.digest_of(raw), expires_at=now + lifetime, method=method,
            strong_at=now if strong else None, label=label[:120], stamp=person.credential_stamp,
        )
        return token, raw

    @classmethod
    def find(cls, raw: Any) -> ApiToken | None:
        """Return the live token with this raw value, its active person loaded; anything else None."""
        if not isinstance(raw, str) or not raw or len(raw) > 200:
            return None
        # One hand-written statement for the token and its person (``RowReader``): every API call
        # makes it, and building it through the ORM cost a millisecond.
        token_reader, person_reader = _TOKENS, _PEOPLE
        tokens = connection.ops.quote_name(cls._meta.db_table)
        people = connection.ops.quote_name(Person._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {token_reader.columns('t')}, {person_reader.columns('p')} "  # noqa: S608 - names only
                f"FROM {tokens} t JOIN {people} p ON p.id = t.person_id "
                "WHERE t.digest = %s AND t.expires_at > %s AND p.is_active AND t.stamp = p.credential_stamp",
                [cls.digest_of(raw), connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        token, next_column = token_reader.read(row)
        token.person, _end = person_reader.read(row, next_column)
        return token


_TOKENS, _PEOPLE = RowReader(ApiToken), RowReader(Person)


@dataclass(frozen=True)
class PersonFacts:
    """Everything about a person's relations that rules need, as plain sets of ids."""

    id: int
    roles: frozenset[str]
    municipality_id: int | None
    language: str
    pupil_class_ids: frozenset[int] = field(default_factory=frozenset)
    grade: int | None = None
    contact_class_ids: frozenset[int] = field(default_factory=frozenset)
    subject_class_ids: frozenset[int] = field(default_factory=frozenset)
    child_ids: frozenset[int] = field(default_factory=frozenset)
    child_class_ids: frozenset[int] = field(default_factory=frozenset)
    led_school_ids: frozenset[int] = field(default_factory=frozenset)
    rep_school_ids: frozenset[int] = field(default_factory=frozenset)
    admin_municipality_ids: frozenset[int] = field(default_factory=frozenset)
    school_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def taught_class_ids(self) -> frozenset[int]:
        return self.contact_class_ids | self.subject_class_ids

    @property
    def is_adult(self) -> bool:
        return Role.PUPIL not in self.roles or bool(self.roles & (STAFF_ROLES | {Role.GUARDIAN}))

    @property
    def is_staff_member(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


def load_facts(person: Person) -> PersonFacts:
    """Read a person's relations from the database, uncached (``trygg.directory.facts`` caches)."""
    from trygg.directory.facts import load_facts_many

    return load_facts_many([person.pk])[person.pk]
