"""The lanes (rows) a map can show, in display order. Keys are stored in
``JourneyMap.hidden_lanes``; ``term`` is the vocabulary key of the lane's name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LaneSpec:
    key: str
    term: str
    editor_kind: str | None  # which item editor adds to it (None: not added from the grid)
    preset: str = ""  # the ``kind`` a new item of this lane gets


LANES: tuple[LaneSpec, ...] = (
    LaneSpec("emotion", "emotion", None),
    LaneSpec("customer_pain_points", "customer_pain_point", "painpoint", "customer"),
    LaneSpec("employee_pain_points", "employee_pain_point", "painpoint", "employee"),
    LaneSpec("insights", "insight", "laneitem", "insight"),
    LaneSpec("opportunities", "opportunity", "laneitem", "opportunity"),
    LaneSpec("research", "research", "laneitem", "research"),
    LaneSpec("ideas", "idea", "laneitem", "idea"),
    LaneSpec("kpis", "kpi", "kpi"),
    LaneSpec("projects", "project", None),
    LaneSpec("sub_maps", "sub_map", None),
)
LANE_KEYS = tuple(lane.key for lane in LANES)
LANES_BY_KEY = {lane.key: lane for lane in LANES}
