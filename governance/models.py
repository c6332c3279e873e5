"""Governance records: reviews that confirm a map is still current, the balanced
scorecard's quadrant weights and its nightly snapshots."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from maps.models import JourneyMap
from maps.models.common import finite, finite_constraint


class Review(models.Model):
    """An owner confirming that a map is current; resets its staleness."""

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="map_reviews",
    )
    reviewed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["map", "-reviewed_at", "pk"]
        indexes = [
            # a map's review log, newest first
            models.Index(fields=["map", "-reviewed_at"], name="review_map_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.map} reviewed {self.reviewed_at:%Y-%m-%d}"


def weight_field(label: str, help_text: str = "") -> models.FloatField:
    """A weight of a single-row settings model: 1 by default, never negative."""
    return models.FloatField(
        label,
        default=1.0,
        validators=[MinValueValidator(0.0, "Weights cannot be negative."), *finite("A weight")],
        help_text=help_text,
    )


class ScorecardWeights(models.Model):
    """How much each quadrant of the balanced scorecard counts towards journey health.

    One row for the whole organisation (primary key 1, enforced by a constraint), edited
    by CX leadership and admins; every change is kept in its history.
    """

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(
        primary_key=True, default=SINGLETON_PK, editable=False, verbose_name="ID"
    )
    quantitative_business = weight_field("quantitative, business")
    quantitative_customer = weight_field("quantitative, customer")
    qualitative_business = weight_field("qualitative, business")
    qualitative_customer = weight_field("qualitative, customer")
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Optimistic lock: bumped by every change."
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    FIELDS = (
        "quantitative_business",
        "quantitative_customer",
        "qualitative_business",
        "qualitative_customer",
    )

    class Meta:
        verbose_name = "scorecard weights"
        verbose_name_plural = "scorecard weights"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1),
                name="scorecardweights_single_row",
                violation_error_message=(
                    "There is only one set of scorecard weights; change the existing one."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(
                    quantitative_business__gte=0,
                    quantitative_customer__gte=0,
                    qualitative_business__gte=0,
                    qualitative_customer__gte=0,
                ),
                name="scorecardweights_not_negative",
                violation_error_message="Weights cannot be negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(quantitative_business__gt=0)
                | models.Q(quantitative_customer__gt=0)
                | models.Q(qualitative_business__gt=0)
                | models.Q(qualitative_customer__gt=0),
                name="scorecardweights_one_positive",
                violation_error_message=(
                    "At least one quadrant must have a weight above 0, or no journey "
                    "could have a health score."
                ),
            ),
            *(
                finite_constraint(name, "A weight")
                for name in (
                    "quantitative_business",
                    "quantitative_customer",
                    "qualitative_business",
                    "qualitative_customer",
                )
            ),
        ]

    def __str__(self) -> str:
        return "Scorecard weights"

    def get_absolute_url(self) -> str:
        return reverse("governance:scorecard_weights")

    def validate_unique(self, exclude=None) -> None:
        # The only uniqueness rule is the fixed primary key: say so in words.
        if self._state.adding and type(self).objects.filter(pk=self.pk).exists():
            raise ValidationError(
                "There is only one set of scorecard weights; change the existing one."
            )
        super().validate_unique(exclude={*(exclude or ()), "id"})

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.FIELDS}


class ScorecardSnapshot(models.Model):
    """A map's scorecard on one day, stored nightly so trends and drops are cheap."""

    map = models.ForeignKey(
        JourneyMap, on_delete=models.CASCADE, related_name="scorecard_snapshots"
    )
    date = models.DateField()
    health = models.FloatField(null=True, blank=True)
    quantitative_business = models.FloatField(null=True, blank=True)
    quantitative_customer = models.FloatField(null=True, blank=True)
    qualitative_business = models.FloatField(null=True, blank=True)
    qualitative_customer = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["map", "-date", "pk"]
        get_latest_by = "date"
        constraints = [
            models.UniqueConstraint(
                fields=["map", "date"],
                name="scorecardsnapshot_unique_per_map_date",
                violation_error_message="This map already has a snapshot on this date.",
            ),
            models.CheckConstraint(
                condition=models.Q(health__isnull=True) | models.Q(health__gte=0, health__lte=100),
                name="scorecardsnapshot_health_range",
                violation_error_message="Health must be between 0 and 100.",
            ),
        ]
        # The unique constraint's index (map, date) serves a map's trend and its
        # month-end value; this one serves "every map's snapshot on a day".
        indexes = [models.Index(fields=["date"], name="scorecardsnapshot_date_idx")]

    def __str__(self) -> str:
        health = "not scored" if self.health is None else f"{self.health:.1f}"
        return f"{self.map} on {self.date:%Y-%m-%d}: {health}"


class ReminderLog(models.Model):
    """A review digest sent to an owner on a day: what makes reminders idempotent."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_reminders"
    )
    day = models.DateField()
    maps = models.PositiveIntegerField(help_text="How many maps the digest listed.")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "owner", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "day"], name="reminderlog_one_per_owner_day")
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.day:%Y-%m-%d} ({self.maps} maps)"


class PrioritisationWeights(models.Model):
    """How the project portfolio is ranked: the method and the weights of each factor.

    One row for the whole organisation (primary key 1, enforced by a constraint), edited
    by CX leadership and admins; every change is kept in its history. The formulas are
    in ``governance/prioritisation.py``.
    """

    SINGLETON_PK = 1

    class Method(models.TextChoices):
        RICE_HEALTH = "rice_health", "RICE raised by journey health and pain"
        WSJF = "wsjf", "WSJF (cost of delay ÷ job size)"
        VALUE_EFFORT = "value_effort", "Value versus effort"

    id = models.PositiveSmallIntegerField(
        primary_key=True, default=SINGLETON_PK, editable=False, verbose_name="ID"
    )
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.RICE_HEALTH)
    health_gap = weight_field(
        "journey health gap", "RICE: how much a weak journey raises the score."
    )
    pain = weight_field(
        "pain points addressed", "RICE: how much severe, frequent pain raises the score."
    )
    business_value = weight_field("business value", "WSJF and value versus effort.")
    time_criticality = weight_field("time criticality", "WSJF.")
    risk_reduction = weight_field("risk reduction / opportunity enablement", "WSJF.")
    customer_value = weight_field("customer value", "Value versus effort.")
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Optimistic lock: bumped by every change."
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    FIELDS = (
        "health_gap",
        "pain",
        "business_value",
        "time_criticality",
        "risk_reduction",
        "customer_value",
    )

    class Meta:
        verbose_name = "prioritisation weights"
        verbose_name_plural = "prioritisation weights"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1),
                name="prioritisationweights_single_row",
                violation_error_message=("Only one set of prioritisation weights."),
            ),
            models.CheckConstraint(
                condition=models.Q(
                    health_gap__gte=0,
                    pain__gte=0,
                    business_value__gte=0,
                    time_criticality__gte=0,
                    risk_reduction__gte=0,
                    customer_value__gte=0,
                ),
                name="prioritisationweights_not_negative",
                violation_error_message="Weights cannot be negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=["rice_health", "wsjf", "value_effort"]),
                name="prioritisationweights_method_valid",
                violation_error_message="Choose RICE, WSJF or value versus effort.",
            ),
            *(
                finite_constraint(name, "A weight")
                for name in (
                    "health_gap",
                    "pain",
                    "business_value",
                    "time_criticality",
                    "risk_reduction",
                    "customer_value",
                )
            ),
        ]

    def __str__(self) -> str:
        return "Prioritisation weights"

    def get_absolute_url(self) -> str:
        return reverse("portfolio_weights")

    def validate_unique(self, exclude=None) -> None:
        if self._state.adding and type(self).objects.filter(pk=self.pk).exists():
            raise ValidationError("Only one set of prioritisation weights.")
        super().validate_unique(exclude={*(exclude or ()), "id"})

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.FIELDS}


class MapSnapshot(models.Model):
    """A labelled copy of a map's content at a moment ("after Q3 research")."""

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="snapshots")
    label = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="map_snapshots",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(help_text="The map's fields and content when it was taken.")

    class Meta:
        ordering = ["map", "-created_at", "-pk"]
        indexes = [
            # a map's snapshots, newest first
            models.Index(fields=["map", "-created_at"], name="mapsnapshot_map_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.map}: {self.label}"


class ShareLink(models.Model):
    """A read-only link to a published map for people without an account.

    Only a SHA-256 hash of the token is stored: the link is shown once, when it is made,
    and whoever reads the database (a backup, the admin) cannot open anything with what
    is here. Revoking, expiry, and the map leaving "published" all stop it at once.
    """

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(
        max_length=8, editable=False, help_text="The token's first characters, to tell links apart."
    )
    label = models.CharField(max_length=100, blank=True)
    expires_on = models.DateField(
        null=True, blank=True, help_text="The last day the link works; empty: until revoked."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="share_links_created",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="share_links_revoked",
    )  # fmt: skip
    # kept on the row so the list needs no aggregate and survives pruning of the use log
    uses = models.PositiveIntegerField(default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["uses", "last_used_at"])

    class Meta:
        ordering = ["map", "-created_at", "-pk"]
        indexes = [
            models.Index(fields=["map", "-created_at"], name="sharelink_map_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.map}: {self.label or self.token_prefix + '…'}"

    def is_active(self, today=None) -> bool:
        """Not revoked and not past its last day (the map's status is checked apart)."""
        today = today or timezone.localdate()
        return self.revoked_at is None and (self.expires_on is None or self.expires_on >= today)


class ShareLinkUse(models.Model):
    """One opening of a share link. Privacy-minded: the address is cut to its network
    (IPv4 /24, IPv6 /48) and the user agent to 200 characters; no cookie, no referrer."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="use_log")
    used_at = models.DateTimeField(default=timezone.now)
    network = models.CharField(max_length=64, blank=True, help_text="The address's network only.")
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["link", "-used_at", "-pk"]
        indexes = [
            models.Index(fields=["link", "-used_at"], name="sharelinkuse_link_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.link} used {self.used_at:%Y-%m-%d %H:%M}"


# --- the inventory of maps kept in other tools (issue #15) ------------------------------


def _inventory_back_to_migrate(collector, field, sub_objs, using) -> None:
    """``on_delete`` of an inventory entry's JourneyHub map: the entry is no longer
    migrated, so it goes back to "to migrate" (status first: a migrated entry must have
    a map, and Django runs these two UPDATEs in the order they are added)."""
    collector.add_field_update(
        ExternalMap._meta.get_field("status"), ExternalMap.Status.TO_MIGRATE, sub_objs
    )
    collector.add_field_update(field, None, sub_objs)


#: the tools of ``ExternalMap.Tool``, for its check constraint (a test keeps them equal)
TOOLS = [
    *("slides", "spreadsheet", "miro", "mural", "smaply", "theydo"),
    *("uxpressia", "figma", "lucidchart", "other"),
]


class ExternalMap(models.Model):
    """A journey map kept in another tool (slides, a spreadsheet, Miro …): the inventory
    journey management starts with, and its migration into JourneyHub.

    Status: to migrate → migrated (linked to the JourneyHub map that replaces it) or
    retired (with the reason). The rules of who may add and change entries are in
    ``governance/inventory.py``.
    """

    class Tool(models.TextChoices):
        SLIDES = "slides", "Slides"
        SPREADSHEET = "spreadsheet", "Spreadsheet"
        MIRO = "miro", "Miro"
        MURAL = "mural", "Mural"
        SMAPLY = "smaply", "Smaply"
        THEYDO = "theydo", "TheyDo"
        UXPRESSIA = "uxpressia", "UXPressia"
        FIGMA = "figma", "Figma"
        LUCIDCHART = "lucidchart", "Lucidchart"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        TO_MIGRATE = "to_migrate", "To migrate"
        MIGRATED = "migrated", "Migrated"
        RETIRED = "retired", "Retired"

    title = models.CharField(max_length=200)
    tool = models.CharField(max_length=20, choices=Tool.choices)
    link = models.URLField(
        max_length=2000,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"], message="Enter an http or https URL.")],
        help_text="Where the map lives (http or https).",
    )
    file = models.FileField(upload_to="inventory/%Y/%m/", max_length=300, blank=True)
    file_name = models.CharField(
        max_length=255, blank=True, help_text="The file's name as uploaded."
    )
    file_content_type = models.CharField(max_length=120, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inventory_entries"
    )
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="inventory_entries"
    )
    area = models.CharField(
        "journey or area", max_length=200, blank=True, help_text="The journey or area it covers."
    )
    notes = models.TextField(blank=True)
    last_updated = models.DateField(
        null=True, blank=True, help_text="When the map was last updated in its tool."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TO_MIGRATE)
    migrated_to = models.ForeignKey(
        JourneyMap,
        null=True,
        blank=True,
        on_delete=_inventory_back_to_migrate,
        related_name="migrated_from",
        verbose_name="JourneyHub map",
    )
    retired_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Optimistic lock: bumped by every change."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "inventory entry"
        verbose_name_plural = "inventory entries"
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tool__in=TOOLS),
                name="externalmap_tool_valid",
                violation_error_message="Choose one of the listed tools.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["to_migrate", "migrated", "retired"]),
                name="externalmap_status_valid",
                violation_error_message="Choose to migrate, migrated or retired.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="migrated") | models.Q(migrated_to__isnull=False),
                name="externalmap_migrated_has_map",
                violation_error_message="A migrated entry names the JourneyHub map it became.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="retired") | ~models.Q(retired_reason=""),
                name="externalmap_retired_has_reason",
                violation_error_message="A retired entry says why it was retired.",
            ),
        ]
        # owner, team and migrated_to are foreign keys, indexed by Django; these serve
        # the inventory page's other filters (?tool=, ?status=) and its progress counts
        indexes = [
            models.Index(fields=["tool"], name="externalmap_tool_idx"),
            models.Index(fields=["status"], name="externalmap_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_tool_display()})"

    def get_absolute_url(self) -> str:
        return reverse("inventory:detail", args=[self.pk])


# --- comments and @mentions (issue #17) ---------------------------------------------------

#: what a comment can be about, for its check constraint (a test keeps them equal)
COMMENT_TARGETS = ["map", "stage", "step", "painpoint", "laneitem", "kpi", "project"]


class Comment(models.Model):
    """A comment on a map or on one of its items (a step, pain point, lane item, KPI, or a
    CX project touching the map). A comment without ``parent`` opens a thread; replies
    point at it. It always knows its map, so whoever may see the map may read and write
    here. The rules (who may edit, resolve, remove) are in ``governance/comments.py``."""

    class Target(models.TextChoices):
        MAP = "map", "Map"
        STAGE = "stage", "Stage"
        STEP = "step", "Step"
        PAIN_POINT = "painpoint", "Pain point"
        LANE_ITEM = "laneitem", "Lane item"
        KPI = "kpi", "KPI"
        PROJECT = "project", "CX project"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="comments")
    target_kind = models.CharField(max_length=10, choices=Target.choices, default=Target.MAP)
    target_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The item's id; empty for a comment on the map itself."
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies",
        help_text="The thread's first comment; empty for a comment that opens a thread.",
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="comments",
    )  # fmt: skip
    body = models.TextField(max_length=5000)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, through="CommentMention",
        related_name="comment_mentions",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target_kind__in=COMMENT_TARGETS),
                name="comment_target_kind_valid",
                violation_error_message="Comment on a map, stage, step, item, KPI or project.",
            ),
            models.CheckConstraint(
                condition=models.Q(target_kind="map", target_id__isnull=True)
                | (~models.Q(target_kind="map") & models.Q(target_id__isnull=False)),
                name="comment_target_id_iff_item",
                violation_error_message="A comment on an item names the item; on a map, none.",
            ),
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | models.Q(resolved_at__isnull=True),
                name="comment_only_threads_resolve",
                violation_error_message="Threads are resolved, not single replies.",
            ),
        ]
        indexes = [
            # one item's threads, and the comment counts of a map's cards (grouped by target)
            models.Index(fields=["map", "target_kind", "target_id"], name="comment_map_target_idx"),
            # a map's open threads for the discussion panel
            models.Index(fields=["map", "resolved_at"], name="comment_map_open_idx"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.map}"

    def get_absolute_url(self) -> str:
        top = self.parent_id or self.pk
        return reverse("comments:thread", args=[self.map.slug, top])


class CommentMention(models.Model):
    """A user @mentioned in a comment who may see its map; ``notified_at`` records the
    one e-mail the mention sends (an edit that keeps the mention sends none)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mention_rows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mention_rows"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="commentmention_once")
        ]
        indexes = [
            # a user's mentions on their home page, newest first
            models.Index(fields=["user", "-created_at"], name="commentmention_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"@{self.user} in comment {self.comment_id}"


class MapHealth(models.Model):
    """Each map's four quadrant scores as ``governance.scoring`` computes them, stored so
    that health reads one row per map instead of every KPI and rating (issue #16).

    Never stale by construction: database triggers (governance/derived_health.py) add 1 to
    ``generation`` on every write of the map's KPIs or qualitative factors (measurement
    writes reach it through KPI.latest_value), and a row counts only while
    ``computed_generation == generation``; ``scoring.health_values`` recomputes the
    others and writes them back only if no write came in meanwhile. The scores do not
    depend on the quadrant weights, so a weights change needs nothing. Derived data:
    never exported, no history."""

    map = models.OneToOneField(
        JourneyMap, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    quantitative_business = models.FloatField(null=True, editable=False)
    quantitative_customer = models.FloatField(null=True, editable=False)
    qualitative_business = models.FloatField(null=True, editable=False)
    qualitative_customer = models.FloatField(null=True, editable=False)
    # the map has a KPI or a rated factor (maps without are left out of some reads)
    has_content = models.BooleanField(default=False, editable=False)
    generation = models.BigIntegerField(default=0, editable=False)
    # the generation the scores were computed at; NULL: never computed
    computed_generation = models.BigIntegerField(null=True, editable=False)

    class Meta:
        verbose_name = "stored map health"
        verbose_name_plural = "stored map health"

    def __str__(self) -> str:
        return f"Health of map {self.map_id} (generation {self.generation})"
