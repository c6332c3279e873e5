"""The formulas of the KPI kinds: a period's value from its raw observations.

Pure functions, no database. Every kind pools its raw inputs across the
observations of one period (one per region, channel, segment …) before it computes
the value, so a period's figure is the figure of all its respondents together —
never an average of per-dimension percentages:

value
    the observations' values, summed or averaged (``KPI.aggregation``).
ratio
    Σ numerators ÷ Σ denominators × 100 (a percentage).
nps
    (Σ promoters − Σ detractors) ÷ Σ all answers × 100, from −100 to +100.
csat
    (Σ satisfied + Σ very satisfied) ÷ Σ all five answer counts × 100.
ces
    Σ (mean × respondents) ÷ Σ respondents: the mean over all respondents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VALUE, RATIO, NPS, CSAT, CES = "value", "ratio", "nps", "csat", "ces"
SUM, AVERAGE = "sum", "average"

#: the raw inputs each kind needs, in the order forms and CSV files list them
KIND_INPUTS: dict[str, tuple[str, ...]] = {
    VALUE: ("value",),
    RATIO: ("numerator", "denominator"),
    NPS: ("promoters", "passives", "detractors"),
    CSAT: ("very_dissatisfied", "dissatisfied", "neutral", "satisfied", "very_satisfied"),
    CES: ("mean", "respondents"),
}
#: inputs that are counts of people (whole numbers ≥ 0)
COUNT_INPUTS = frozenset(
    {
        "promoters",
        "passives",
        "detractors",
        "very_dissatisfied",
        "dissatisfied",
        "neutral",
        "satisfied",
        "very_satisfied",
        "respondents",
    }
)
ALL_INPUTS: tuple[str, ...] = tuple(dict.fromkeys(f for fs in KIND_INPUTS.values() for f in fs))

Observation = Mapping[str, Any]


def _total(observations: Iterable[Observation], name: str) -> float:
    return sum(o[name] for o in observations)


def nps(promoters: float, passives: float, detractors: float) -> float:
    """% promoters − % detractors."""
    answers = promoters + passives + detractors
    return (promoters - detractors) / answers * 100


def csat(
    very_dissatisfied: float,
    dissatisfied: float,
    neutral: float,
    satisfied: float,
    very_satisfied: float,
) -> float:
    """% of answers that are 4 or 5 ("satisfied" or "very satisfied")."""
    answers = very_dissatisfied + dissatisfied + neutral + satisfied + very_satisfied
    return (satisfied + very_satisfied) / answers * 100


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator * 100


def period_value(
    kind: str, observations: list[Observation], *, aggregation: str = AVERAGE
) -> float:
    """One period's value from all its observations (at least one)."""
    if not observations:
        raise ValueError("a period needs at least one observation")
    if kind == VALUE:
        total = _total(observations, "value")
        return total if aggregation == SUM else total / len(observations)
    if kind == RATIO:
        return ratio(_total(observations, "numerator"), _total(observations, "denominator"))
    if kind == NPS:
        return nps(*(_total(observations, name) for name in KIND_INPUTS[NPS]))
    if kind == CSAT:
        return csat(*(_total(observations, name) for name in KIND_INPUTS[CSAT]))
    if kind == CES:
        respondents = _total(observations, "respondents")
        return sum(o["mean"] * o["respondents"] for o in observations) / respondents
    raise ValueError(f"unknown KPI kind {kind!r}")


def input_problem(kind: str, inputs: Observation) -> tuple[str, str] | None:
    """(field, message) when one observation's inputs cannot make a value, else None.
    Types are checked by the caller; this checks the sums that the formulas divide by."""
    if kind == RATIO and inputs["denominator"] <= 0:
        return "denominator", "must be greater than 0"
    if kind in (NPS, CSAT) and sum(inputs[name] for name in KIND_INPUTS[kind]) == 0:
        return KIND_INPUTS[kind][0], "all counts are 0: there must be at least one answer"
    if kind == CES and inputs["respondents"] == 0:
        return "respondents", "must be at least 1"
    return None
