"""The journey map tree and its structure: stages, steps and the links between steps."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet
from simple_history import register
from simple_history.models import HistoricalRecords

from .common import Evidence, TimeStamped, between, exchange_key_field

TREE_FIELDS = ("tree_id", "lft", "rght", "level")


def default_review_every_days() -> int:
    return settings.JOURNEYHUB_DEFAULT_REVIEW_EVERY_DAYS


class Persona(TimeStamped):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class JourneyMapQuerySet(TreeQuerySet):
    def published(self) -> JourneyMapQuerySet:
        return self.filter(status=JourneyMap.Status.PUBLISHED)

    def with_people(self) -> JourneyMapQuerySet:
        return self.select_related("owner", "team")

    def with_personas(self) -> JourneyMapQuerySet:
        """For pages that name a map's personas: one query for the whole list."""
        return self.prefetch_related("personas")


class JourneyMapManager(TreeManager.from_queryset(JourneyMapQuerySet)):  # type: ignore[misc]
    pass


class JourneyMap(MPTTModel):
    """One journey map; its depth in the tree is its zoom level (lifecycle → task)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    class State(models.TextChoices):
        """Seed 003's taxonomy: the journey as it is, as it should become, or a variant."""

        CURRENT = "current", "Current state"
        FUTURE = "future", "Future state"
        SCENARIO = "scenario", "Scenario"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(blank=True)
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    parent_step = models.ForeignKey(
        "maps.Step",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sub_maps",
        help_text="The step of the parent map that this map zooms into.",
    )
    # Several: a journey is often shared by personas (issue #17); any-of in filters.
    personas = models.ManyToManyField(Persona, blank=True, related_name="maps")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    is_template = models.BooleanField(
        default=False,
        db_index=True,
        help_text="Offered under “New map from a template” to everyone who may see it.",
    )
    state = models.CharField(
        max_length=10,
        choices=State.choices,
        default=State.CURRENT,
        help_text="Current state (as-is), future state (to-be) or a scenario variant.",
    )
    # SET_NULL, not PROTECT: deleting a current-state map (or the subtree holding it)
    # must not be blocked by its drafts; they stay as future states of nothing.
    state_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="variants",
        help_text="The current-state map this future state or scenario belongs to.",
    )
    scenario_label = models.CharField(
        max_length=120,
        blank=True,
        help_text="What the scenario varies, e.g. a persona or a channel.",
    )
    vision = models.TextField(
        blank=True,
        help_text="The CX vision statement this map and the journeys under it serve.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_maps"
    )
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_maps"
    )
    review_every_days = models.PositiveIntegerField(default=default_review_every_days)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    review_due_at = models.DateTimeField(
        null=True,
        editable=False,
        help_text="When the next review falls due: last review (or creation) + cadence.",
    )
    hidden_lanes = models.JSONField(
        default=list, blank=True, help_text="Keys of the lanes this map does not show."
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Optimistic lock: bumped by every content edit."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JourneyMapManager()

    class MPTTMeta:
        order_insertion_by = ["title"]

    class Meta:
        ordering = ["tree_id", "lft", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(review_every_days__gte=1),
                name="journeymap_review_every_days_positive",
                violation_error_message="Review every … days must be at least 1.",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="journeymap_version_positive"
            ),
            # Only future states and scenarios belong to another map, never to themselves.
            models.CheckConstraint(
                condition=models.Q(state_of__isnull=True)
                | (~models.Q(state="current") & ~models.Q(state_of=models.F("id"))),
                name="journeymap_state_of_only_variants",
                violation_error_message=(
                    "Only a future state or a scenario belongs to a current-state map."
                ),
            ),
            # The tree's own invariants (maps/tree.py serialises the writes that keep
            # them): a write that forgets the tree lock fails instead of storing
            # overlapping ranges, which would widen grants resolved by lft/rght.
            models.CheckConstraint(
                condition=models.Q(lft__gte=1, level__gte=0, rght__gt=models.F("lft")),
                name="journeymap_tree_range_valid",
            ),
            models.CheckConstraint(
                condition=Exact((models.F("rght") - models.F("lft")) % 2, 1),
                name="journeymap_tree_range_even_width",
            ),
            # Deferred to the commit: mptt shifts many rows in one UPDATE. SQLite cannot
            # defer (models.W038, silenced); it has one writer at a time anyway.
            models.UniqueConstraint(
                fields=["tree_id", "lft"],
                name="journeymap_tree_lft_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.UniqueConstraint(
                fields=["tree_id", "rght"],
                name="journeymap_tree_rght_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]
        indexes = [
            # repository filters: status, owner ("My maps"), team
            models.Index(fields=["status"], name="journeymap_status_idx"),
            # ... and, with the review date, each owner's overdue share on home (read
            # from the index alone: 8 -> 2 ms at 10,000 maps)
            models.Index(
                fields=["owner", "status", "review_due_at"], name="journeymap_owner_due_idx"
            ),
            models.Index(fields=["team", "status"], name="journeymap_team_status_idx"),
            # repository filter by state (current / future / scenario)
            models.Index(fields=["state", "status"], name="journeymap_state_status_idx"),
            # staleness: maps whose next review has fallen due
            models.Index(fields=["review_due_at"], name="journeymap_review_due_idx"),
            # the /maps/ tree: a level's visible maps counted, its first rows read and a
            # long top level paged by tree id, without testing every map's visibility
            models.Index(fields=["level", "tree_id"], name="journeymap_level_tree_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("maps:detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.parent_id and self.pk:
            if self.parent_id == self.pk:
                errors["parent"] = "A map cannot be its own parent."
            elif self.parent.is_descendant_of(self):
                errors["parent"] = (
                    f"A map cannot become its own ancestor: “{self.parent}” lies inside "
                    f"“{self}”. Choose a parent outside this map's subtree."
                )
        if self.parent_step_id:
            if not self.parent_id:
                errors["parent_step"] = (
                    "A map can only zoom into a step of its parent map; choose a parent first."
                )
            elif self.parent_step.map_id != self.parent_id:
                errors["parent_step"] = (
                    f"The step “{self.parent_step}” belongs to the map "
                    f"“{self.parent_step.map}”, not to the parent map “{self.parent}”."
                )
        errors.update(self._state_errors())
        if errors:
            raise ValidationError(errors)

    def _state_errors(self) -> dict[str, str]:
        if self.state == self.State.CURRENT:
            if self.state_of_id:
                return {"state_of": "A current-state map does not belong to another map."}
            if self.scenario_label:
                return {"scenario_label": "Only a scenario has a scenario label."}
            return {}
        if self.scenario_label and self.state != self.State.SCENARIO:
            return {"scenario_label": "Only a scenario has a scenario label."}
        if self.pk and self.variants.exists():
            return {
                "state": "This map has future states or scenarios of its own; it stays a "
                "current-state map while they belong to it."
            }
        if self.state_of_id is None:
            return {}
        if self.pk and self.state_of_id == self.pk:
            return {"state_of": "A map cannot be a future state or scenario of itself."}
        if self.state_of.state != self.State.CURRENT:
            kind = self.state_of.get_state_display().lower()
            return {
                "state_of": f"“{self.state_of}” is itself a {kind}; a future state or "
                "scenario belongs to a current-state map."
            }
        return {}

    def validate_constraints(self, exclude=None):
        # The tree constraints guard mptt's numbering, not user input; in-memory tree
        # fields may be stale until a service holds the tree lock.
        super().validate_constraints(exclude={*(exclude or ()), *TREE_FIELDS})

    @property
    def reviewed_or_created_at(self):
        return self.last_reviewed_at or self.created_at

    def save(self, *args, **kwargs):
        # Derived, stored so "due for review" is an indexed filter rather than date
        # arithmetic per row.
        self.review_due_at = self.reviewed_or_created_at + timedelta(days=self.review_every_days)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "review_due_at"}
        super().save(*args, **kwargs)

    @property
    def is_review_due(self) -> bool:
        """Archived maps are kept for the record and never fall due."""
        due_at = self.review_due_at or (
            self.reviewed_or_created_at + timedelta(days=self.review_every_days)
        )
        return self.status != self.Status.ARCHIVED and timezone.now() >= due_at


# HistoricalRecords cannot be declared inside an MPTTModel (the tree fields break
# historical saves), so the map is registered here without them. Its personas are
# recorded with each historical row (m2m_fields), as the other m2m fields are.
register(
    JourneyMap,
    excluded_fields=["lft", "rght", "tree_id", "level"],
    m2m_fields=["personas"],
)


class JourneyMapUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK guardian grant of a map permission to a user (covers the map's subtree)."""

    content_object = models.ForeignKey(JourneyMap, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "map grant to a user"
        verbose_name_plural = "map grants to users"


class JourneyMapGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-FK guardian grant of a map permission to a group (covers the map's subtree)."""

    content_object = models.ForeignKey(JourneyMap, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "map grant to a group"
        verbose_name_plural = "map grants to groups"


class Stage(TimeStamped):
    """An ordered phase of a map that groups its steps."""

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    exchange_key = exchange_key_field()
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "position", "pk"]
        indexes = [models.Index(fields=["map", "position"], name="stage_map_position_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "exchange_key"],
                name="stage_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Step(TimeStamped):
    class Channel(models.TextChoices):
        WEB = "web", "Web"
        APP = "app", "Mobile app"
        BRANCH = "branch", "Branch"
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"
        EMAIL = "email", "E-mail"
        MAIL = "mail", "Letter"
        PARTNER = "partner", "Partner"
        OTHER = "other", "Other"

    class EndKind(models.TextChoices):
        SUCCESS = "success", "Successful end"
        OTHER = "other", "Other end"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="steps")
    stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="steps"
    )
    key = models.SlugField(
        max_length=80, help_text="Stable identifier within the map, used by event logs."
    )
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    emotion = models.SmallIntegerField(
        default=0,
        validators=between("Emotion", -2, 2),
        help_text="How the customer feels here, from −2 (very bad) to +2 (very good).",
    )
    is_recurring = models.BooleanField(default=False)
    is_moment_of_truth = models.BooleanField(default=False)
    evidence = models.CharField(
        max_length=12, choices=Evidence.choices, default=Evidence.ASSUMPTION
    )
    # "" = not an end step; event analytics count a case ending here as complete
    end_kind = models.CharField(
        max_length=8,
        choices=EndKind.choices,
        blank=True,
        default="",
        help_text="Whether a journey may end here (event analytics: a case whose last "
        "event is here is complete, not a drop-off), and whether that end is a success.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "key"],
                name="step_key_unique_per_map",
                violation_error_message="Another step of this map already uses this key.",
            ),
            models.CheckConstraint(
                condition=models.Q(emotion__gte=-2, emotion__lte=2),
                name="step_emotion_range",
                violation_error_message="Emotion must be between −2 and +2.",
            ),
        ]
        indexes = [
            # the map grid: a map's steps in order
            models.Index(fields=["map", "position"], name="step_map_position_idx"),
            models.Index(fields=["is_moment_of_truth"], name="step_moment_of_truth_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.stage_id and self.map_id and self.stage.map_id != self.map_id:
            raise ValidationError({"stage": f"The stage “{self.stage}” belongs to another map."})


class StepLink(TimeStamped):
    """A non-linear connection between two steps of a map: a branch, loop or skip."""

    class Kind(models.TextChoices):
        BRANCH = "branch", "Branch"
        LOOP = "loop", "Loop back"
        SKIP = "skip", "Skip ahead"

    from_step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="links_out")
    to_step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BRANCH)
    label = models.CharField(max_length=160, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_step", "to_step"],
                name="steplink_unique_pair",
                violation_error_message="These two steps are already linked in this direction.",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_step=models.F("to_step")),
                name="steplink_not_self",
                violation_error_message=(
                    "A step cannot link to itself; mark it as recurring instead."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_step} → {self.to_step}"

    def clean(self) -> None:
        super().clean()
        if self.from_step_id and self.to_step_id and self.from_step.map_id != self.to_step.map_id:
            raise ValidationError({"to_step": "Both steps of a link must be on the same map."})
