"""Comparing two maps of one journey: today's (the baseline) and a future state or a
scenario. Pure: it reads two ``Side``s (``maps.future_state.comparison_side`` loads them)
and touches no database.

* steps are matched by their key: added, removed, changed (name, stage, emotion,
  channel, moment of truth) or the same;
* pain points by their exchange key: those the other map no longer has are the ones it
  resolves, each with the CX projects that address it;
* the two emotion curves share one axis: the other map's steps in its order, with the
  removed ones where the baseline had them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EMOTION_MIN, EMOTION_MAX = -2, 2


@dataclass(frozen=True)
class ProjectRef:
    pk: int
    title: str
    status: str
    url: str


@dataclass(frozen=True)
class StepSide:
    key: str
    name: str
    stage: str = ""
    emotion: int = 0
    channel: str = ""
    moment_of_truth: bool = False
    projects: tuple[ProjectRef, ...] = ()


@dataclass(frozen=True)
class PainSide:
    key: str
    title: str
    step: str = ""
    severity: int = 3
    frequency: int = 3
    projects: tuple[ProjectRef, ...] = ()


@dataclass(frozen=True)
class Side:
    title: str
    steps: tuple[StepSide, ...] = ()
    pain_points: tuple[PainSide, ...] = ()


#: what "changed" means for a step: (attribute, label)
COMPARED = (
    ("name", "Name"),
    ("stage", "Stage"),
    ("emotion", "Emotion"),
    ("channel", "Channel"),
    ("moment_of_truth", "Moment of truth"),
)


def shown(field: str, value: object) -> str:
    """A compared value as the page writes it: emotion signed, flags as yes/no."""
    if field == "emotion" and isinstance(value, int):
        return f"+{value}" if value > 0 else str(value).replace("-", "−")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value not in (None, "") else "—"


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: object
    after: object

    @property
    def before_text(self) -> str:
        return shown(self.field, self.before)

    @property
    def after_text(self) -> str:
        return shown(self.field, self.after)


@dataclass(frozen=True)
class StepChange:
    key: str
    before: StepSide | None  # None: added
    after: StepSide | None  # None: removed
    changes: tuple[FieldChange, ...] = ()

    @property
    def name(self) -> str:
        return (self.after or self.before).name  # type: ignore[union-attr]

    @property
    def projects(self) -> tuple[ProjectRef, ...]:
        """The projects that deliver the change: those on the step in either map."""
        return _unique(
            (
                *(self.before.projects if self.before else ()),
                *(self.after.projects if self.after else ()),
            )
        )


@dataclass(frozen=True)
class CurvePoint:
    key: str
    name: str
    baseline: int | None  # None: the step is not in that map
    other: int | None


@dataclass
class Comparison:
    baseline: Side
    other: Side
    added: list[StepChange] = field(default_factory=list)
    removed: list[StepChange] = field(default_factory=list)
    changed: list[StepChange] = field(default_factory=list)
    unchanged: int = 0
    resolved: list[PainSide] = field(default_factory=list)  # gone in the other map
    remaining: list[PainSide] = field(default_factory=list)  # in both
    new_pain_points: list[PainSide] = field(default_factory=list)  # only in the other
    curve: list[CurvePoint] = field(default_factory=list)

    @property
    def has_differences(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _unique(projects: tuple[ProjectRef, ...]) -> tuple[ProjectRef, ...]:
    return tuple({p.pk: p for p in projects}.values())


def step_changes(before: StepSide, after: StepSide) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, label, getattr(before, name), getattr(after, name))
        for name, label in COMPARED
        if getattr(before, name) != getattr(after, name)
    )


def merged_keys(baseline: list[str], other: list[str]) -> list[str]:
    """One order for both maps' steps: the other map's, with each step it dropped placed
    right after the baseline step that came before it (after earlier dropped ones)."""
    result = list(other)
    in_other = set(other)
    previous: str | None = None
    for key in baseline:
        if key in in_other:
            previous = key
            continue
        at = result.index(previous) + 1 if previous is not None else 0
        while at < len(result) and result[at] not in in_other:
            at += 1
        result.insert(at, key)
    return result


def compare(baseline: Side, other: Side) -> Comparison:
    """What ``other`` changes relative to ``baseline``."""
    result = Comparison(baseline=baseline, other=other)
    before = {s.key: s for s in baseline.steps}
    after = {s.key: s for s in other.steps}
    for step in other.steps:
        if step.key not in before:
            result.added.append(StepChange(step.key, None, step))
            continue
        changes = step_changes(before[step.key], step)
        if changes:
            result.changed.append(StepChange(step.key, before[step.key], step, changes))
        else:
            result.unchanged += 1
    result.removed = [StepChange(s.key, s, None) for s in baseline.steps if s.key not in after]

    other_pains = {p.key for p in other.pain_points}
    for pain in baseline.pain_points:
        (result.remaining if pain.key in other_pains else result.resolved).append(pain)
    baseline_pains = {p.key for p in baseline.pain_points}
    result.new_pain_points = [p for p in other.pain_points if p.key not in baseline_pains]

    order = merged_keys([s.key for s in baseline.steps], [s.key for s in other.steps])
    result.curve = [
        CurvePoint(
            key=key,
            name=(after.get(key) or before[key]).name,
            baseline=before[key].emotion if key in before else None,
            other=after[key].emotion if key in after else None,
        )
        for key in order
    ]
    return result


# --- the chart -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSeries:
    name: str
    points: str  # SVG polyline points, "x,y x,y"
    dots: tuple[tuple[float, float, int, str], ...]  # x, y, emotion, step name


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: ChartSeries
    other: ChartSeries
    gridlines: tuple[tuple[float, int], ...]  # y, emotion
    columns: tuple[tuple[float, str], ...]  # x, step name


def chart(curve: list[CurvePoint], *, baseline: str, other: str, step_width: int = 140) -> Chart:
    """Coordinates for the overlaid emotion curves (inline SVG; the template draws them).
    A series skips the steps its map lacks: its line joins the steps on either side."""
    margin_x, margin_top, row = 60, 16, 28
    height = margin_top * 2 + row * (EMOTION_MAX - EMOTION_MIN)
    width = margin_x * 2 + step_width * max(len(curve) - 1, 1)

    def x(i: int) -> float:
        return margin_x + i * step_width

    def y(emotion: int) -> float:
        return margin_top + (EMOTION_MAX - emotion) * row

    def series(name: str, attr: str) -> ChartSeries:
        dots = tuple(
            (x(i), y(getattr(p, attr)), getattr(p, attr), p.name)
            for i, p in enumerate(curve)
            if getattr(p, attr) is not None
        )
        return ChartSeries(name, " ".join(f"{dx:g},{dy:g}" for dx, dy, _, _ in dots), dots)

    return Chart(
        width=width,
        height=height,
        baseline=series(baseline, "baseline"),
        other=series(other, "other"),
        gridlines=tuple((y(e), e) for e in range(EMOTION_MAX, EMOTION_MIN - 1, -1)),
        columns=tuple((x(i), p.name) for i, p in enumerate(curve)),
    )
