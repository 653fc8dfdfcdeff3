"""Fixed vocabularies of capacity."""

from __future__ import annotations

from django.db import models


class ExceptionReason(models.TextChoices):
    """Why a person's availability differs from their contract for some months."""

    LEAVE = "leave", "Leave"
    SECONDMENT = "secondment", "Secondment"
    PART_TIME = "part_time", "Part-time"
    OTHER = "other", "Other"


class AllocationKind(models.TextChoices):
    """What a person's time is allocated to: a service of the catalogue, or other work
    that takes time all the same (so the true load shows)."""

    SERVICE = "service", "Service"
    PROJECT = "project", "Project"
    BAU = "bau", "Business as usual"
    TRAINING = "training", "Training"
    OTHER = "other", "Other work"
