"""Tags, tag groups and groups: the labels other tools (TheyDo) put on insights,
opportunities, KPIs, projects and research quotes. Organisation-wide, like a workspace's
tag groups; names match case-insensitively, and imports create the ones they miss."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from .common import TimeStamped


class TagGroup(TimeStamped):
    """A named category of tags (e.g. "Channel" holding Support, Email …)."""

    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="taggroup_name_ci_unique",
                violation_error_message="A tag group with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(TimeStamped):
    """A plain tag (``kind=tag``, no group), a tag inside a tag group (``kind=tag`` with
    ``group``), or a group an item belongs to (``kind=group``, TheyDo's ``groups``)."""

    class Kind(models.TextChoices):
        TAG = "tag", "Tag"
        GROUP = "group", "Group"

    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.TAG)
    group = models.ForeignKey(
        TagGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=200)

    class Meta:
        # a tag without a group first on every database (PostgreSQL sorts NULLs last)
        ordering = ["kind", models.F("group__name").asc(nulls_first=True), "name", "pk"]
        constraints = [
            # NULL groups are distinct in a plain unique constraint: two partial ones instead
            models.UniqueConstraint(
                "kind",
                Lower("name"),
                condition=models.Q(group__isnull=True),
                name="tag_name_ci_unique_ungrouped",
                violation_error_message="This tag already exists.",
            ),
            models.UniqueConstraint(
                "group",
                Lower("name"),
                condition=models.Q(group__isnull=False),
                name="tag_name_ci_unique_in_group",
                violation_error_message="This tag group already has this tag.",
            ),
            models.CheckConstraint(
                condition=models.Q(group__isnull=True) | models.Q(kind="tag"),
                name="tag_group_only_for_tags",
                violation_error_message="Only tags belong to a tag group.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group.name}: {self.name}" if self.group_id else self.name
