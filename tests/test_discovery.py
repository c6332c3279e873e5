"""Discovering a map from an event log: the summary and the proposal (maps.discovery.mining),
checked against a small log worked by hand."""

from __future__ import annotations

import io
import random

import pytest

from maps.discovery import mining
from maps.discovery.mining import propose, summarise
from maps.imports import ImportRefused

# Five cases of a permit process (A apply, C check, F fix, P approve, Y pay, R reject):
#   c1: A C P Y      c2: A C P Y      c3: A C R      c4: A C F C P Y      c5: A P Y
# relative positions (i / (n − 1)), their medians:
#   A 0 everywhere → 0; C .33 .33 .5 .2 .6 → .333; F .4; P .67 .67 .8 .5 → .667;
#   Y 1 ×4 → 1; R 1 → 1 (Y before R: more cases) ⇒ order A C F P Y R
# transitions, cases (of 5): A→C 4 (80 %), C→P 3 (60 %), P→Y 4 (80 %), C→R 1, C→F 1,
#   F→C 1, A→P 1 (20 % each)
#   next-step flow: A→C, C→F, P→Y; loop: F→C; skip: C→P over F (F happens with C and P),
#   A→P over C and F (C happens with A and P); branch: C→R over F, P, Y (P and R never
#   happen together: alternatives)
# ends: Y 4 (80 %, the successful end), R 1 (20 %, another end)
# variants: A C P Y 2 (40 %); A C R, A P Y, A C F C P Y 1 each (20 %)
ROWS = [
    ("c1", "apply", "2026-03-01T09:00:00Z"),
    ("c1", "check", "2026-03-01T10:00:00Z"),
    ("c1", "approve", "2026-03-02T09:00:00Z"),
    ("c1", "pay", "2026-03-03T09:00:00Z"),
    ("c2", "apply", "2026-03-01T09:00:00Z"),
    ("c2", "approve", "2026-03-02T11:00:00Z"),  # out of time order in the file
    ("c2", "check", "2026-03-01T10:00:00Z"),
    ("c2", "pay", "2026-03-03T09:00:00Z"),
    ("c3", "apply", "2026-03-01T09:00:00Z"),
    ("c3", "check", "2026-03-01T10:00:00Z"),
    ("c3", "reject", "2026-03-01T11:00:00Z"),
    ("c4", "apply", "2026-03-01T09:00:00Z"),
    ("c4", "check", "2026-03-01T10:00:00Z"),
    ("c4", "fix", "2026-03-01T11:00:00Z"),
    ("c4", "check", "2026-03-01T12:00:00Z"),
    ("c4", "approve", "2026-03-01T13:00:00Z"),
    ("c4", "pay", "2026-03-01T14:00:00Z"),
    ("c5", "apply", "2026-03-01T09:00:00Z"),
    ("c5", "approve", "2026-03-01T10:00:00Z"),
    ("c5", "pay", "2026-03-01T11:00:00Z"),
]


def csv_log(rows=ROWS) -> bytes:
    lines = ["case_id,activity,timestamp,channel"] + [f"{c},{a},{t},web" for c, a, t in rows]
    return ("\n".join(lines) + "\n").encode()


def summary_of(content: bytes, **kwargs) -> mining.LogSummary:
    return summarise(lambda: io.BytesIO(content), **kwargs)


def names(proposal, links):
    return [
        (proposal.steps[x.from_position].activity, proposal.steps[x.to_position].activity)
        + ((x.kind,) if hasattr(x, "kind") else ())
        + (x.share,)
        for x in links
    ]


def test_the_hand_worked_log_gives_its_steps_in_their_typical_order():
    proposal = propose(summary_of(csv_log()))
    assert [step.activity for step in proposal.steps] == [
        "apply",
        "check",
        "fix",
        "approve",
        "pay",
        "reject",
    ]
    assert [step.median_position for step in proposal.steps] == [0.0, 0.333, 0.4, 0.667, 1.0, 1.0]
    assert [step.case_share for step in proposal.steps] == [100.0, 80.0, 20.0, 80.0, 80.0, 20.0]
    assert (proposal.cases, proposal.events) == (5, 20)


def test_the_frequent_transitions_become_loops_skips_and_branches_with_their_share():
    proposal = propose(summary_of(csv_log()))
    assert names(proposal, proposal.links) == [
        ("apply", "approve", "skip", 20.0),
        ("check", "approve", "skip", 60.0),
        ("check", "reject", "branch", 20.0),
        ("fix", "check", "loop", 20.0),
    ]
    assert [link.label for link in proposal.links] == [
        "20 % of cases",
        "60 % of cases",
        "20 % of cases",
        "20 % of cases",
    ]
    assert names(proposal, proposal.flow) == [
        ("apply", "check", 80.0),
        ("check", "fix", 20.0),
        ("approve", "pay", 80.0),
    ]


def test_the_end_activities_are_the_end_steps_the_most_frequent_the_successful_one():
    proposal = propose(summary_of(csv_log()))
    ends = {step.activity: (step.end_share, step.end_kind) for step in proposal.steps}
    assert ends == {
        "apply": (0.0, ""),
        "check": (0.0, ""),
        "fix": (0.0, ""),
        "approve": (0.0, ""),
        "pay": (80.0, "success"),
        "reject": (20.0, "other"),
    }


def test_the_main_variants_are_listed_with_their_share_of_cases():
    proposal = propose(summary_of(csv_log()))
    assert [(v.steps, v.cases, v.share) for v in proposal.variants] == [
        (["apply", "check", "approve", "pay"], 2, 40.0),
        (["apply", "check", "reject"], 1, 20.0),
        (["apply", "approve", "pay"], 1, 20.0),
        (["apply", "check", "fix", "check", "approve", "pay"], 1, 20.0),
    ]
    assert proposal.variants_exact


def test_higher_thresholds_keep_only_the_frequent_links_and_ends():
    proposal = propose(summary_of(csv_log()), link_threshold=25, end_threshold=25)
    assert names(proposal, proposal.links) == [("check", "approve", "skip", 60.0)]
    assert [s.activity for s in proposal.steps if s.end_kind] == ["pay"]


def test_the_owners_names_and_end_kinds_are_kept_over_the_proposal():
    summary = summary_of(csv_log())
    reject = summary.activities.index("reject")
    pay = summary.activities.index("pay")
    proposal = propose(summary, names={pay: "Fee paid"}, end_kinds={reject: "", pay: "other"})
    assert [s.name for s in proposal.steps][-2:] == ["Fee paid", "reject"]
    assert [(s.activity, s.end_kind) for s in proposal.steps if s.is_end] == [("pay", "other")]
    assert proposal.variants[0].steps == ["apply", "check", "approve", "Fee paid"]


def test_a_step_that_follows_itself_often_is_recurring_not_a_link_to_itself():
    rows = [("x", "a", "2026-01-01T00:00:00Z"), ("x", "b", "2026-01-01T01:00:00Z")]
    rows += [("x", "b", "2026-01-01T02:00:00Z"), ("y", "a", "2026-01-01T00:00:00Z")]
    proposal = propose(summary_of(csv_log(rows)))
    assert [(s.activity, s.is_recurring) for s in proposal.steps] == [("a", False), ("b", True)]
    assert proposal.links == []


def test_a_log_whose_cases_are_not_together_gives_the_same_summary():
    shuffled = list(ROWS)
    random.Random(7).shuffle(shuffled)
    grouped, ungrouped = summary_of(csv_log()), summary_of(csv_log(shuffled))
    assert (grouped.mode, ungrouped.mode) == ("sorted", "ungrouped")
    assert grouped.grouped and not ungrouped.grouped
    # activity numbers follow first appearance: compare by name
    assert _by_name(grouped.as_json()) == _by_name(ungrouped.as_json())


def test_cases_together_but_not_sorted_are_read_grouped_with_the_same_summary():
    by_case: dict[str, list] = {}
    for row in ROWS:
        by_case.setdefault(row[0], []).append(row)
    reordered = [row for case in ("c4", "c2", "c5", "c1", "c3") for row in by_case[case]]
    summary = summary_of(csv_log(reordered))
    assert summary.mode == "grouped"
    assert _by_name(summary.as_json()) == _by_name(summary_of(csv_log()).as_json())


def test_case_ids_of_digits_are_sorted_by_number():
    rows = [(str(n), "a", "2026-01-01T00:00:00Z") for n in (8, 9, 10, 11)]
    assert summary_of(csv_log(rows)).mode == "sorted"


def _by_name(data):
    acts = data["activities"]
    return {
        "events": data["events"],
        "cases": data["cases"],
        "positions": {acts[i]: data["median_position"][i] for i in range(len(acts))},
        "follows": {(acts[a], acts[b]): c for a, b, c, _ in data["follows"]},
        "ends": {acts[i]: data["ends"][i] for i in range(len(acts))},
        "variants": {tuple(acts[i] for i in v): n for v, n in data["variants"]},
    }


def test_an_unsorted_log_proposes_the_same_map_as_the_sorted_one():
    shuffled = list(ROWS)
    random.Random(3).shuffle(shuffled)
    one, other = propose(summary_of(csv_log())), propose(summary_of(csv_log(shuffled)))
    assert [s.activity for s in one.steps] == [s.activity for s in other.steps]
    assert names(one, one.links) == names(other, other.links)
    assert [(v.steps, v.cases) for v in one.variants] == [
        (v.steps, v.cases) for v in other.variants
    ]


def test_every_bad_line_is_named_up_to_fifty_then_and_n_more():
    rows = "".join(f"c{i},a,yesterday,web\n" for i in range(60))
    content = f"case_id,step_key,timestamp,channel\n{rows}x,,2026-01-01,web\n".encode()
    with pytest.raises(ImportRefused) as refused:
        summary_of(content)
    problems = refused.value.problems
    assert problems[0] == (
        "line 2, column timestamp: “yesterday” is not an ISO 8601 timestamp "
        "(e.g. 2026-05-03T09:15:00Z)"
    )
    assert len(problems) == 51
    assert problems[-1] == "… and 11 more problems"


def test_a_log_without_the_needed_columns_is_refused_naming_them():
    with pytest.raises(ImportRefused) as refused:
        summary_of(b"who,what\n1,a\n")
    assert "line 1: the header needs a case_id (or customer_id) column" in refused.value.problems
    assert "line 1: the header needs a timestamp column" in refused.value.problems


def test_a_chosen_activity_column_is_read():
    content = b"case_id,stage,timestamp\n1,Open,2026-01-01T00:00:00Z\n1,Close,2026-01-02T00:00Z\n"
    summary = summary_of(content, activity_column="stage")
    assert summary.activities == ["Open", "Close"]


def test_more_activities_than_a_map_should_have_are_refused():
    rows = "".join(f"c,a{i},2026-01-01T00:00:{i % 60:02d}Z,\n" for i in range(501))
    with pytest.raises(ImportRefused) as refused:
        summary_of(f"case_id,step_key,timestamp,channel\n{rows}".encode())
    assert "more than 500 different activities" in refused.value.problems[0]


def test_the_variant_table_stays_bounded_and_keeps_the_frequent_variants():
    rows = []
    for case in range(3 * mining.VARIANT_SLOTS):
        # every third case the common variant, each other case a variant of its own
        digits = [f"d{case // 8**i % 8}" for i in range(4)]
        for i, activity in enumerate(["a", "b"] if case % 3 == 0 else ["a", *digits]):
            rows.append((f"k{case}", activity, f"2026-01-01T00:{i:02d}:00Z"))
    summary = summary_of(csv_log(rows))
    assert summary.distinct_variants_seen == 2001
    assert not summary.variants_exact  # the table was cut: rare counts may be low
    common = [summary.activities.index("a"), summary.activities.index("b")]
    assert summary.variants[0] == [common, 1000]  # the frequent one is exact
    assert len(summary.variants) == mining.TOP_VARIANTS
