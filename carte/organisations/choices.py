"""Fixed vocabularies of the organisations app."""

from __future__ import annotations

from django.db import models


class OrgRole(models.TextChoices):
    ADMIN = "admin", "Administrator"
    DIRECTOR = "director", "PMO Director"
    PMO_MANAGER = "pmo_manager", "PMO Manager"
    STAFF = "staff", "PMO staff"
    CUSTOMER = "customer", "Customer"
    VIEWER = "viewer", "Viewer / auditor"


class PMOKind(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise PMO"
    DEPARTMENTAL = "departmental", "Departmental PMO"
    PROGRAMME = "programme", "Programme PMO"
    CENTRE_OF_EXCELLENCE = "coe", "Centre of Excellence"


class CompetenceLevel(models.IntegerChoices):
    """The five proficiency levels of the competence framework, lowest first; a
    competence says in its own words what each means for it."""

    AWARENESS = 1, "Awareness"
    WORKING = 2, "Working knowledge"
    PRACTITIONER = 3, "Practitioner"
    EXPERT = 4, "Expert"
    AUTHORITY = 5, "Authority"
