"""Organisations (the tenant) and what hangs directly off them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from carte.core.models import TenantModel, unique_live
from carte.core.text import TextPolicy
from carte.organisations import permissions as perms
from carte.organisations.choices import CompetenceLevel, OrgRole, PMOKind

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1 to 50 lower-case letters, digits and hyphens, not starting or ending with a hyphen.",
)


class CarteUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Log in with the e-mail address whatever its case.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser, TextPolicy):
    """A login. Identified by e-mail; belongs to organisations through memberships."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = CarteUserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = self.email.lower()
        if not self.username:
            self.username = self.email
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Organisation(TextPolicy):
    """The tenant: a client organisation whose PMOs Carte runs. Sees nothing of others."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PMO(TenantModel):
    """A project, programme or portfolio management office of the organisation."""

    ACCESS = perms.PMO

    CONSTRAINT_FIELDS = {"pmo_unique_live_name": "name", "pmo_not_own_parent": "parent"}

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PMOKind.choices, default=PMOKind.DEPARTMENTAL)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = "PMO"
        verbose_name_plural = "PMOs"
        ordering = ["name", "id"]
        constraints = [
            unique_live(
                "name",
                fold=Lower,
                name="pmo_unique_live_name",
                message="A PMO with this name already exists.",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")),
                name="pmo_not_own_parent",
                violation_error_message="A PMO cannot be its own parent.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerGroup(TenantModel):
    """A business unit or function the PMO serves: Finance, HR, a department."""

    ACCESS = perms.CUSTOMER_GROUP

    CONSTRAINT_FIELDS = {"customergroup_unique_live_name": "name"}

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            unique_live(
                "name",
                fold=Lower,
                name="customergroup_unique_live_name",
                message="A customer group with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Person(TenantModel):
    """Someone the PMO works with; needs no login. Works in a PMO or for a provider."""

    ACCESS = perms.PERSON

    CONSTRAINT_FIELDS = {"person_unique_live_email": "email", "person_unique_live_user": "user"}

    name = models.CharField(max_length=200)
    email = models.EmailField("e-mail")
    job_title = models.CharField(max_length=200, blank=True)
    pmo = models.ForeignKey(
        PMO,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people",
        verbose_name="PMO",
    )
    provider = models.CharField(
        "external provider",
        max_length=200,
        blank=True,
        help_text="The outside company this person works for, if not the organisation itself.",
    )
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    user = models.ForeignKey(
        "organisations.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        verbose_name="login",
    )

    class Meta:
        verbose_name_plural = "people"
        ordering = ["name", "id"]
        constraints = [
            unique_live(
                "email",
                fold=Lower,
                name="person_unique_live_email",
                message="A person with this e-mail already exists.",
            ),
            unique_live(
                "user",
                when=models.Q(user__isnull=False),
                name="person_unique_live_user",
                message="This login is already linked to another person.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A login's place in an organisation, with the organisation roles it holds there."""

    ACCESS = perms.MEMBERSHIP

    CONSTRAINT_FIELDS = {"membership_unique_user": "email"}

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")

    class Meta:
        ordering = ["user__email", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                name="membership_unique_user",
                violation_error_message="This login is already a member of the organisation.",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def role_list(self) -> list[str]:
        return sorted(r.role for r in self.roles.all())


class MembershipRole(models.Model):
    """One organisation role held through a membership."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=OrgRole.choices)

    class Meta:
        ordering = ["role"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="membershiprole_unique"),
        ]

    def __str__(self) -> str:
        return self.role


class ApiToken(models.Model):
    """A personal API token, stored as a SHA-256 hash; optionally limited to one organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Competence(TenantModel):
    """A competence of the organisation's framework (M-2, M-9, M-14): what a service needs
    and what people are assessed on, with what each of the five proficiency levels
    (`CompetenceLevel`) means for it, in the organisation's words."""

    ACCESS = perms.COMPETENCE

    CONSTRAINT_FIELDS = {"competence_unique_live_name": "name"}

    name = models.CharField(max_length=200)
    group = models.CharField(
        max_length=100, blank=True, help_text="The family it belongs to: Delivery, Analysis..."
    )
    description = models.TextField(blank=True)
    level_1 = models.TextField(CompetenceLevel.AWARENESS.label, blank=True)
    level_2 = models.TextField(CompetenceLevel.WORKING.label, blank=True)
    level_3 = models.TextField(CompetenceLevel.PRACTITIONER.label, blank=True)
    level_4 = models.TextField(CompetenceLevel.EXPERT.label, blank=True)
    level_5 = models.TextField(CompetenceLevel.AUTHORITY.label, blank=True)

    LEVEL_FIELDS = ("level_1", "level_2", "level_3", "level_4", "level_5")

    class Meta:
        ordering = ["group", "name", "id"]
        constraints = [
            unique_live(
                "name",
                fold=Lower,
                name="competence_unique_live_name",
                message="A competence with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def levels(self) -> list[tuple[int, str, str]]:
        """Each level: its number, its name and what it means for this competence."""
        return [
            (value, label, getattr(self, f"level_{value}"))
            for value, label in CompetenceLevel.choices
        ]
