"""Display names of the product's concepts, overridable per organisation in the admin."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

# Every term a page may show, with its default label. Level N is depth N-1 in the tree.
DEFAULT_TERMS: dict[str, str] = {
    "level_1": "Lifecycle",
    "level_2": "Journey",
    "level_3": "Sub-journey",
    "level_4": "Task",
    "map": "Journey map",
    "maps": "Journey maps",
    "stage": "Stage",
    "step": "Step",
    "emotion": "Emotion",
    "pain_point": "Pain point",
    "customer_pain_point": "Customer pain point",
    "employee_pain_point": "Employee pain point",
    "insight": "Insight",
    "opportunity": "Opportunity",
    "research": "Research",
    "idea": "Idea",
    "kpi": "KPI",
    "project": "CX project",
    "sub_map": "Sub-map",
    "moment_of_truth": "Moment of truth",
    "persona": "Persona",
    "owner": "Owner",
    "team": "Team",
}


class VocabularyTerm(models.Model):
    key = models.CharField(max_length=40, unique=True)
    label = models.CharField(max_length=80)

    class Meta:
        ordering = ["key", "pk"]
        verbose_name = "vocabulary term"

    def __str__(self) -> str:
        return f"{self.key} → {self.label}"

    def clean(self) -> None:
        super().clean()
        if self.key and self.key not in DEFAULT_TERMS and not self.key.startswith("level_"):
            known = ", ".join(sorted(DEFAULT_TERMS))
            raise ValidationError({"key": f"Unknown term “{self.key}”. Known terms: {known}."})
