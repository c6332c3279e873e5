"""Browser forms of the map editor. Every form carries the map version it started from."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.db import models
from django.utils.text import slugify

from .kpi_math import COUNT_INPUTS, KIND_INPUTS
from .lanes import LANES
from .models import KPI, JourneyMap, LaneItem, PainPoint, Persona, Stage, Step, StepLink


class VersionedForm(forms.ModelForm):
    """A ModelForm for a piece of one map: the map's own steps and stages only."""

    map_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    scoped_fields: tuple[str, ...] = ("stage", "step", "from_step", "to_step")

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        super().__init__(*args, **kwargs)
        self.journey_map = journey_map
        if hasattr(self.instance, "map_id"):
            self.instance.map = journey_map
        for name in self.scoped_fields:
            if name in self.fields:
                model = self.fields[name].queryset.model
                self.fields[name].queryset = model.objects.filter(map=journey_map)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3


class StageForm(VersionedForm):
    class Meta:
        model = Stage
        fields = ("name", "description")


class StepForm(VersionedForm):
    class Meta:
        model = Step
        fields = (
            "name",
            "stage",
            "channel",
            "emotion",
            "evidence",
            "is_moment_of_truth",
            "is_recurring",
            "end_kind",
            "key",
            "description",
        )
        widgets = {
            "emotion": forms.Select(
                choices=[
                    (2, "+2 very positive"),
                    (1, "+1 positive"),
                    (0, "0 neutral"),
                    (-1, "−1 negative"),
                    (-2, "−2 very negative"),
                ]
            )
        }
        labels = {
            "is_moment_of_truth": "Moment of truth",
            "is_recurring": "Recurring step",
            "end_kind": "Journeys may end here",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["key"].help_text = "Left empty, it is made from the name."
        if self.instance.pk is None and not self.is_bound and not self.initial.get("stage"):
            stages = list(self.fields["stage"].queryset.values_list("pk", flat=True)[:2])
            if len(stages) == 1:  # the map's only stage, rather than "---------"
                self.initial["stage"] = stages[0]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("key") and cleaned.get("name"):
            base = slugify(cleaned["name"])[:70] or "step"
            taken = set(
                Step.objects.filter(map=self.journey_map)
                .exclude(pk=self.instance.pk)
                .values_list("key", flat=True)
            )
            key, n = base, 2
            while key in taken:
                key, n = f"{base}-{n}", n + 1
            cleaned["key"] = key
            self.instance.key = key
        return cleaned


class StepLinkForm(VersionedForm):
    class Meta:
        model = StepLink
        fields = ("from_step", "to_step", "kind", "label")
        labels = {"from_step": "From step", "to_step": "To step"}


class PainPointForm(VersionedForm):
    class Meta:
        model = PainPoint
        fields = ("kind", "title", "step", "severity", "frequency", "evidence", "description")
        widgets = {
            "severity": forms.Select(choices=[(i, str(i)) for i in range(1, 6)]),
            "frequency": forms.Select(choices=[(i, str(i)) for i in range(1, 6)]),
        }
        help_texts = {"severity": "1 minor … 5 critical", "frequency": "1 rare … 5 constant"}


def _https_urls(db_field, **kwargs):
    """URLs typed without a scheme are https (Django 6's default, chosen now)."""
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


class LinesField(forms.CharField):
    """A list of texts typed one per line (external links); blank lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class LaneItemForm(VersionedForm):
    external_links = LinesField(
        required=False, label="External links", help_text="One link per line."
    )

    class Meta:
        model = LaneItem
        fields = (
            "kind",
            "title",
            "step",
            "evidence",
            "status",
            "item_type",
            "empathy_score",
            "weight",
            "url",
            "external_links",
            "description",
        )
        widgets = {"url": forms.URLInput(attrs={"placeholder": "https://"})}
        formfield_callback = _https_urls


class KPIForm(VersionedForm):
    class Meta:
        model = KPI
        fields = (
            "name",
            "kind",
            "aggregation",
            "perspective",
            "step",
            "unit",
            "direction",
            "baseline",
            "target",
            "weight",
            "description",
        )


class MapSettingsForm(forms.ModelForm):
    """The map's own fields and which lanes it shows."""

    map_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    shown_lanes = forms.MultipleChoiceField(
        choices=[(lane.key, lane.key) for lane in LANES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Lanes shown",
    )

    class Meta:
        model = JourneyMap
        fields = (
            "title",
            "summary",
            "status",
            "is_template",
            "personas",
            "review_every_days",
            "scenario_label",
            "vision",
        )
        labels = {"is_template": "Offer as a template", "vision": "CX vision"}
        # Checkboxes in a fieldset: each persona labelled, no ctrl-click multi-select.
        widgets = {
            "vision": forms.Textarea(attrs={"rows": 3}),
            "personas": forms.CheckboxSelectMultiple,
        }

    def __init__(
        self,
        *args,
        lane_labels: dict[str, str] | None = None,
        locked: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        for name, reason in (locked or {}).items():  # fields the policy keeps from this user
            self.fields[name].disabled = True
            self.fields[name].help_text = reason
        labels = lane_labels or {}
        self.fields["shown_lanes"].choices = [
            (lane.key, labels.get(lane.term, lane.key)) for lane in LANES
        ]
        hidden = set(self.instance.hidden_lanes or ())
        self.initial.setdefault(
            "shown_lanes", [lane.key for lane in LANES if lane.key not in hidden]
        )
        self.fields["personas"].queryset = Persona.objects.order_by("name")
        vision = self.fields["vision"]
        vision.help_text = "The CX vision statement this map serves; the maps under it show it."
        if self.instance.state != JourneyMap.State.SCENARIO:  # a label names a scenario
            label = self.fields["scenario_label"]
            label.disabled, label.widget = True, forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        shown = set(cleaned.get("shown_lanes") or ())
        self.instance.hidden_lanes = [lane.key for lane in LANES if lane.key not in shown]
        return cleaned


class NewMapForm(forms.ModelForm):
    class Meta:
        model = JourneyMap
        fields = ("title", "summary", "status", "personas", "parent_step")
        labels = {"parent_step": "Zooms into step"}
        widgets = {"personas": forms.CheckboxSelectMultiple}

    template = forms.ChoiceField(
        required=False,
        label="Start from",
        widget=forms.RadioSelect,
        help_text="A template gives the new map its stages, steps, lanes and KPI definitions; "
        "you own the copy and change it freely.",
    )

    def __init__(
        self,
        *args,
        parent: JourneyMap | None = None,
        templates: Sequence[tuple[str, str]] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.parent = parent
        self.instance.parent = parent  # so the model's own checks see the tree position
        self.fields["template"].choices = [("", "A blank map"), *templates]
        self.order_fields(["title", "template"])  # what to start from comes right after
        self.fields["personas"].queryset = Persona.objects.order_by("name")
        if parent is None:
            del self.fields["parent_step"]
        else:
            self.fields["parent_step"].queryset = Step.objects.filter(map=parent)
            self.fields["parent_step"].required = False


class ObservationForm(forms.Form):
    """One raw observation of a KPI: the date, the inputs of its kind, dimensions.
    Which input fields it has depends on the KPI's kind (``maps.kpi_math.KIND_INPUTS``)."""

    LABELS = {
        "value": "Value",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "promoters": "Promoters (9–10)",
        "passives": "Passives (7–8)",
        "detractors": "Detractors (0–6)",
        "very_dissatisfied": "Very dissatisfied (1)",
        "dissatisfied": "Dissatisfied (2)",
        "neutral": "Neutral (3)",
        "satisfied": "Satisfied (4)",
        "very_satisfied": "Very satisfied (5)",
        "mean": "Mean score",
        "respondents": "Respondents",
    }

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.CharField(max_length=100, required=False)
    channel = forms.CharField(max_length=100, required=False)
    segment = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, kpi: KPI, **kwargs):
        super().__init__(*args, **kwargs)
        self.kpi = kpi
        self.input_names = KIND_INPUTS[kpi.kind]
        for name in self.input_names:
            field: forms.Field = (
                forms.IntegerField(min_value=0) if name in COUNT_INPUTS else forms.FloatField()
            )
            field.label = self.LABELS[name]
            self.fields[name] = field
        # the inputs first, then the optional dimensions
        self.order_fields(["date", *self.input_names, "region", "channel", "segment"])

    def observation_row(self) -> dict:
        data = self.cleaned_data
        return {
            "date": data["date"],
            **{name: data[name] for name in self.input_names},
            "dimensions": {k: data[k] for k in ("region", "channel", "segment") if data[k]},
        }


class MeasurementsImportForm(forms.Form):
    file = forms.FileField(
        help_text="A CSV file, or TheyDo's metrics file (JSON, “THEYDO_METRICS_V1”). "
        "Nothing is imported if any row has a problem."
    )
