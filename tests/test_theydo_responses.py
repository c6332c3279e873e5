"""TheyDo survey and feedback response files → a research source of the map and its
quotes (``maps.theydo.responses``), through ``maps.theydo.engine.theydo_import``."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from simple_history.models import HistoricalRecords

from maps.imports import ImportRefused
from maps.models import JourneyMap, Quote, ResearchSource, Tag, TagGroup
from maps.theydo.engine import theydo_import, theydo_preview
from maps.theydo.export import export
from maps.theydo.responses import QUOTE_FIELDS
from tests.factories import PainPointFactory, PersonaFactory

pytestmark = pytest.mark.django_db


FIXTURES = Path(__file__).parent / "fixtures" / "theydo"
MIRROR = Path("/work/.mirror/theydo+theydo-s3-integrations/repo")
IMPROVE = "What would have made opening your account easier?"
LIKED = "What did you like?"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def quotes(source: ResearchSource) -> dict[str, Quote]:
    """The source's quotes by their key in the plan: responseId[/fieldId]."""
    return {
        f"{q.response_id}/{q.field_id}" if q.field_id else q.response_id: q
        for q in source.quotes.prefetch_related("tags__group")
    }


def group_tags(quote: Quote) -> set[tuple[str, str]]:
    return {(t.group.name, t.name) for t in quote.tags.all() if t.group_id}


def survey(responses: int, *, one_per_response: bool, version: int = 0) -> dict:
    """A survey of ``responses`` responses, each with two text answers, two tags and a
    persona; ``version`` changes every answer (for re-imports)."""
    return {
        "format": "THEYDO_SURVEY_RESPONSES_V1",
        "surveyMetadata": {
            "surveyName": "Monthly pulse",
            "surveyId": "pulse",
            "convertAllRowsToQuotes": one_per_response,
            "surveyFields": [
                {"fieldId": "q1", "fieldName": "Why?", "required": True},
                {"fieldId": "q2", "fieldName": "What else?", "required": False},
                {
                    "fieldId": "ch",
                    "fieldName": "Channel",
                    "fieldType": "TAG_GROUP",
                    "tagGroupTitle": "Channel",
                    "required": False,
                },
                {
                    "fieldId": "mood",
                    "fieldName": "Mood",
                    "fieldType": "TAG_GROUP",
                    "tagGroupTitle": "Mood",
                    "required": False,
                },
                {
                    "fieldId": "who",
                    "fieldName": "Who",
                    "fieldType": "PERSONA",
                    "required": False,
                },
            ],
        },
        "responses": [
            {
                "responseId": f"r{i}",
                "responseDateTime": "2026-02-01T10:00:00Z",
                "responseFields": [
                    {"fieldId": "q1", "textValue": f"answer {i} v{version}"},
                    {"fieldId": "q2", "textValue": f"more {i} v{version}"},
                    {"fieldId": "ch", "textValue": f"channel {i % 3} v{version}"},
                    {"fieldId": "mood", "textValue": f"mood {i % 2}"},
                    {"fieldId": "who", "textValue": "Saver"},
                ],
            }
            for i in range(responses)
        ],
    }


class TestSurveyWithOneQuotePerResponse:
    def test_the_file_becomes_one_survey_source_owned_by_the_importer(self, team_map, owner):
        plan = theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)

        source = ResearchSource.objects.get()
        assert (source.map, source.kind, source.import_key) == (
            team_map,
            "survey",
            "onboarding-spring-2026",
        )
        assert source.title == "Onboarding survey, spring 2026"
        assert source.owner == owner
        assert source.one_quote_per_response is True
        # the declared fields as in the file, fieldType TEXT where it was omitted
        assert [(f["fieldId"], f["fieldType"]) for f in source.fields] == [
            ("improve", "TEXT"),
            ("liked", "TEXT"),
            ("segment", "TAG_GROUP"),
            ("device", "TAG_GROUP"),
            ("persona", "PERSONA"),
            ("email", "IGNORE"),
        ]
        assert source.fields[2]["tagGroupTitle"] == "Customer segment"
        assert plan.summary()["created"] == {"research source": 1, "quote": 4}
        assert plan.counts["responses"] == 4

    def test_each_response_is_one_verbatim_quote_with_its_text_answers_labelled(
        self, team_map, owner
    ):
        theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)

        found = quotes(ResearchSource.objects.get())
        assert list(found) == ["r-1001", "r-1002", "r-1003", "r-1004"]
        first = found["r-1001"]
        # two TEXT fields are declared: one "Field name: answer" paragraph per answer
        assert first.text == (
            f"{IMPROVE}: The selfie kept failing in my kitchen, the light was too dark.\n\n"
            f"{LIKED}: Getting the card in two days."
        )
        assert first.answers == {
            "improve": "The selfie kept failing in my kitchen, the light was too dark.",
            "liked": "Getting the card in two days.",
        }
        assert first.field_id == ""
        # an empty answer of a field that is not required is skipped
        assert found["r-1003"].text == (
            f"{IMPROVE}: The fee table was confusing: what does 'tier 2' mean?"
        )
        assert found["r-1003"].answers == {
            "improve": "The fee table was confusing: what does 'tier 2' mean?"
        }
        assert found["r-1003"].responded_at == dt.datetime(
            2026, 3, 3, 11, 5, 12, 250_000, tzinfo=dt.UTC
        )
        assert [q.position for q in found.values()] == [0, 1, 2, 3]

    def test_tag_group_answers_become_tags_of_the_response_and_ignored_fields_vanish(
        self, team_map, owner
    ):
        TagGroup.objects.create(name="CHANNEL")  # matched case-insensitively, not doubled
        theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)

        found = quotes(ResearchSource.objects.get())
        assert group_tags(found["r-1001"]) == {("Customer segment", "Retail"), ("CHANNEL", "App")}
        assert group_tags(found["r-1002"]) == {("CHANNEL", "Web")}
        assert group_tags(found["r-1003"]) == {
            ("Customer segment", "Small business"),
            ("CHANNEL", "Web"),
        }
        assert group_tags(found["r-1004"]) == group_tags(found["r-1001"])
        assert sorted(TagGroup.objects.values_list("name", flat=True)) == [
            "CHANNEL",
            "Customer segment",
        ]
        # the same tag in the same group is one tag, whichever responses use it
        assert Tag.objects.filter(group__name="CHANNEL").count() == 2
        # the IGNORE column's e-mail addresses are stored nowhere
        for quote in found.values():
            assert "example.net" not in quote.text + json.dumps(quote.answers) + quote.persona_hint

    def test_a_persona_answer_links_the_persona_of_that_name_and_otherwise_is_a_hint(
        self, team_map, owner
    ):
        saver = PersonaFactory(name="first-time SAVER")
        plan = theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)

        found = quotes(ResearchSource.objects.get())
        assert (found["r-1001"].persona, found["r-1001"].persona_hint) == (
            saver,
            "First-time saver",
        )
        assert (found["r-1003"].persona, found["r-1003"].persona_hint) == (
            None,
            "Busy business owner",
        )
        assert (found["r-1002"].persona, found["r-1002"].persona_hint) == (None, "")
        assert any("“Busy business owner”" in n and "hint only" in n for n in plan.notes)
        assert saver.__class__.objects.count() == 1  # never created


class TestFeedbackWithAQuotePerAnswer:
    def test_each_text_answer_is_a_quote_of_its_own(self, team_map, owner):
        plan = theydo_import(journey_map=team_map, data=fixture("feedback_responses"), by=owner)

        source = ResearchSource.objects.get()
        assert (source.kind, source.import_key, source.title) == (
            "feedback",
            "support-feedback-2026-03",
            "Support ticket feedback, March 2026",
        )
        assert source.one_quote_per_response is False
        found = quotes(source)
        assert {key: q.text for key, q in found.items()} == {
            "t-58812/message": "The agent solved my card problem in five minutes.",
            "t-58840/message": "I waited 40 minutes on the phone and was transferred twice.",
            "t-58840/followup": "Please call back instead of keeping me on hold.",
            "t-58901/message": "The store reader screen is unreadable in the sun.",
        }
        assert all(q.answers == {} for q in found.values())
        # both quotes of a response carry its tags
        assert group_tags(found["t-58840/message"]) == {
            ("Channel", "Phone"),
            ("Sentiment", "Negative"),
        }
        assert group_tags(found["t-58840/followup"]) == group_tags(found["t-58840/message"])
        assert group_tags(found["t-58901/message"]) == {("Channel", "Store")}
        assert [c.key for c in plan.of("create")] == [
            "support-feedback-2026-03",
            "t-58812/message",
            "t-58840/message",
            "t-58840/followup",
            "t-58901/message",
        ]
        assert plan.counts["responses"] == 3
        assert plan.counts["tag groups created"] == 2
        assert not any("A-117" in q.text for q in found.values())


class TestReimport:
    def test_the_same_file_again_changes_nothing(self, team_map, owner):
        data = fixture("feedback_responses")
        theydo_import(journey_map=team_map, data=data, by=owner)
        history = Quote.history.count(), ResearchSource.history.count()
        version = JourneyMap.objects.get(pk=team_map.pk).version

        plan = theydo_import(journey_map=team_map, data=data, by=owner)

        assert plan.summary()["created"] == {} and plan.summary()["updated"] == {}
        assert plan.summary()["unchanged"] == {"research source": 1, "quote": 4}
        assert (Quote.history.count(), ResearchSource.history.count()) == history
        assert JourneyMap.objects.get(pk=team_map.pk).version == version
        assert Quote.objects.count() == 4

    def test_a_new_month_updates_the_source_and_its_responses_and_keeps_the_others(
        self, team_map, owner
    ):
        theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)
        source = ResearchSource.objects.get()
        version = JourneyMap.objects.get(pk=team_map.pk).version
        first = quotes(source)["r-1001"]
        pain = PainPointFactory(map=team_map)
        first.pain_points.add(pain)
        hand_tag = Tag.objects.create(name="follow up")
        first.tags.add(hand_tag)
        by_hand = Quote.objects.create(source=source, text="Said at the counter", position=7)

        april = fixture("survey_responses")
        april["surveyMetadata"]["surveyName"] = "Onboarding survey 2026"
        april["responses"] = [
            {
                "responseId": "r-1001",  # corrected by the survey tool
                "responseDateTime": "2026-03-02T08:15:30Z",
                "responseFields": [
                    {"fieldId": "improve", "textValue": "The selfie failed in the dark."},
                    {"fieldId": "segment", "textValue": "Enterprise"},
                    {"fieldId": "device", "textValue": "app"},
                ],
            },
            {
                "responseId": "r-2001",
                "responseDateTime": "2026-04-01T09:00:00Z",
                "responseFields": [
                    {"fieldId": "improve", "textValue": "Let me save and finish later."},
                    {"fieldId": "device", "textValue": "Web"},
                ],
            },
        ]
        plan = theydo_import(journey_map=team_map, data=april, by=owner)

        assert ResearchSource.objects.get().title == "Onboarding survey 2026"
        # research is map content: editors holding the old version get a conflict
        assert JourneyMap.objects.get(pk=team_map.pk).version == version + 1
        found = quotes(source)
        # March's other responses and the quote added by hand are kept; the new one goes
        # after them
        assert list(found) == ["r-1001", "r-1002", "r-1003", "r-1004", "", "r-2001"]
        assert found[""] == by_hand and found[""].text == "Said at the counter"
        assert found["r-2001"].position == 8
        updated = found["r-1001"]
        assert updated.pk == first.pk
        assert updated.text == f"{IMPROVE}: The selfie failed in the dark."
        assert updated.answers == {"improve": "The selfie failed in the dark."}
        assert updated.persona_hint == ""
        # the TAG_GROUP tags are replaced; a tag added by hand and the evidence link stay
        assert group_tags(updated) == {("Customer segment", "Enterprise"), ("Channel", "App")}
        assert hand_tag in updated.tags.all()
        assert list(updated.pain_points.all()) == [pain]
        changes = {c.key: c for c in plan.changes}
        assert changes["onboarding-spring-2026"].fields == ("surveyName",)
        assert changes["r-1001"].action == "update"
        assert set(changes["r-1001"].fields) == {"text", "answers", "persona", "tags"}
        assert changes["r-2001"].action == "create"
        assert "r-1002" not in changes

    def test_switching_to_one_quote_per_response_replaces_that_responses_answer_quotes(
        self, team_map, owner
    ):
        data = fixture("feedback_responses")
        theydo_import(journey_map=team_map, data=data, by=owner)
        whole = copy.deepcopy(data)
        whole["feedbackMetadata"]["convertAllRowsToQuotes"] = True
        whole["responses"] = whole["responses"][1:2]  # only t-58840 this time

        preview = theydo_preview(journey_map=team_map, data=whole, by=owner)
        assert preview.counts["quotes deleted"] == 2
        assert any("“t-58840/message”, “t-58840/followup”" in n for n in preview.notes)
        assert Quote.objects.count() == 4  # a preview writes nothing

        theydo_import(journey_map=team_map, data=whole, by=owner)

        found = quotes(ResearchSource.objects.get())
        # the other responses' quotes are kept; the new quote goes after them
        assert list(found) == ["t-58812/message", "t-58901/message", "t-58840"]
        assert found["t-58840"].text == (
            "Tell us about your experience: I waited 40 minutes on the phone and was "
            "transferred twice.\n\nAnything else?: Please call back instead of keeping me "
            "on hold."
        )
        assert Quote.history.filter(history_type="-", history_user=owner).count() == 2
        assert not Quote.tags.through.objects.exclude(quote__in=Quote.objects.all()).exists()


class TestRefused:
    def test_a_bad_date_deep_inside_writes_nothing_and_names_its_path(self, team_map, owner):
        data = fixture("survey_responses")
        data["responses"][3]["responseDateTime"] = "2026-03-04T09:00:00+02:00"

        with pytest.raises(ImportRefused) as refused:
            theydo_import(journey_map=team_map, data=data, by=owner)

        assert any(m.startswith("responses[3].responseDateTime") for m in refused.value.problems)
        assert (ResearchSource.objects.count(), Quote.objects.count()) == (0, 0)
        assert (TagGroup.objects.count(), Tag.objects.count()) == (0, 0)

    def test_a_tag_longer_than_we_store_is_named_by_its_path(self, team_map, owner):
        data = fixture("feedback_responses")
        data["responses"][2]["responseFields"][1]["textValue"] = "x" * 201

        with pytest.raises(ImportRefused) as refused:
            theydo_import(journey_map=team_map, data=data, by=owner)

        assert refused.value.problems == [
            "responses[2].responseFields[1].textValue: at most 200 characters (it has 201)"
        ]
        assert ResearchSource.objects.count() == 0

    def test_a_feedback_id_that_is_already_a_surveys_key_is_refused(self, team_map, owner):
        theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)
        data = fixture("feedback_responses")
        data["feedbackMetadata"]["feedbackId"] = "onboarding-spring-2026"

        with pytest.raises(ImportRefused) as refused:
            theydo_import(journey_map=team_map, data=data, by=owner)

        assert refused.value.problems == [
            "feedbackMetadata.feedbackId: “onboarding-spring-2026” is already the key of the "
            "survey source “Onboarding survey, spring 2026” of this map; a feedback needs an "
            "id of its own"
        ]
        assert ResearchSource.objects.get().kind == "survey"


def _published(name: str) -> dict:
    """One of TheyDo's own example files, read from the read-only mirror of their
    repository (never copied into ours: it has no licence)."""
    if not MIRROR.exists():
        pytest.skip(f"no mirror of TheyDo's repository at {MIRROR}")
    shown = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"HEAD:examples/{name}.json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if shown.returncode:
        pytest.skip(f"examples/{name}.json is not in the mirror: {shown.stderr.strip()}")
    return json.loads(shown.stdout)


@pytest.mark.parametrize(
    ("name", "kind", "first"),
    [
        ("survey_responses", "survey", "Faster onboarding would help a lot."),
        ("feedback_responses", "feedback", "The agent resolved my issue quickly."),
    ],
)
def test_theydos_published_examples_import_with_their_values(team_map, owner, name, kind, first):
    data = _published(name)
    theydo_import(journey_map=team_map, data=data, by=owner)

    source = ResearchSource.objects.get()
    assert source.kind == kind
    found = quotes(source)
    # one TEXT field and convertAllRowsToQuotes: each response is its answer, verbatim
    assert list(found) == [r["responseId"] for r in data["responses"]]
    assert found["resp-1"].text == first
    assert len(group_tags(found["resp-1"])) == 1
    assert group_tags(found["resp-2"]) == set()


@pytest.mark.parametrize("name", ["survey_responses", "feedback_responses"])
def test_an_export_imports_back_without_a_change(team_map, owner, name):
    data = fixture(name)
    theydo_import(journey_map=team_map, data=data, by=owner)
    exported = export(team_map, data["format"])

    plan = theydo_import(journey_map=team_map, data=exported, by=owner)

    assert plan.summary()["created"] == {} and plan.summary()["updated"] == {}
    assert plan.counts.get("quotes deleted") is None
    assert export(team_map, data["format"]) == exported


def test_keys_are_scoped_to_the_map(team_map, draft_map, owner):
    theydo_import(journey_map=team_map, data=fixture("survey_responses"), by=owner)
    theydo_import(journey_map=draft_map, data=fixture("survey_responses"), by=owner)

    assert ResearchSource.objects.filter(import_key="onboarding-spring-2026").count() == 2
    assert Quote.objects.filter(source__map=draft_map).count() == 4


def test_history_records_the_importing_user_with_the_quotes_tags(team_map, owner):
    theydo_import(journey_map=team_map, data=fixture("feedback_responses"), by=owner)

    assert ResearchSource.history.filter(history_type="+", history_user=owner).count() == 1
    assert Quote.history.filter(history_type="+", history_user=owner).count() == 4
    latest = Quote.history.get(response_id="t-58840", field_id="followup")
    assert {(row.tag.group.name, row.tag.name) for row in latest.tags.all()} == {
        ("Channel", "Phone"),
        ("Sentiment", "Negative"),
    }


def _batches_beyond_one(quotes: int, *, update: bool) -> int:
    """Statements beyond one per bulk write when ``quotes`` quotes (two tags each) are
    written: Django splits a bulk write into batches of at most 999 parameters on SQLite
    (``bulk_batch_size``); on PostgreSQL every bulk write is one statement (0)."""

    def beyond(fields: list, rows: int) -> int:
        size = max(connection.ops.bulk_batch_size(fields, [None] * rows), 1)
        return -(-rows // size) - 1

    def inserted(model) -> list:
        return [f for f in model._meta.concrete_fields if not f.primary_key]

    tag_history = HistoricalRecords.m2m_models[Quote._meta.get_field("tags")]
    written = beyond(inserted(Quote.history.model), quotes)
    written += beyond(inserted(Quote.tags.through), 2 * quotes)
    written += beyond(inserted(tag_history), 2 * quotes)
    if update:
        fields = [Quote._meta.get_field(name) for name in QUOTE_FIELDS]
        return written + beyond(["pk", "pk", *fields], quotes)
    return written + beyond(inserted(Quote), quotes)


# A new survey: savepoint, map lock, source by key, last source position, personas, tag
# groups; tag groups and tags created; source and its history (+ 3 reads of its links);
# quotes; their tags (delete + insert); their history (+ 4 reads of their links, 1 insert
# of the tag links' history); map version; release = 24.
NEW_BUDGET = 24
# A re-import changing every answer: savepoint, map lock, source by key, its quotes and
# their tags, personas, tag groups and tags (+ one read of each found tag's group: 2 here,
# a number of distinct tags, never of responses), the new tags; quotes updated; their tags
# (delete + insert); their history (+ 4 + 1 as above); map version; release = 22.
REIMPORT_BUDGET = 22


@pytest.mark.parametrize("one_per_response", [True, False])
def test_the_import_runs_a_fixed_number_of_statements_whatever_the_number_of_responses(
    team_map, owner, one_per_response, django_assert_max_num_queries
):
    PersonaFactory(name="Saver")
    assert _batches_beyond_one(20, update=True) == 0  # 10 responses: never split
    for n in (10, 1000):
        ResearchSource.objects.all().delete()
        TagGroup.objects.all().delete()  # the same tags to create at each size
        count = n if one_per_response else 2 * n
        first = survey(n, one_per_response=one_per_response)
        with django_assert_max_num_queries(NEW_BUDGET + _batches_beyond_one(count, update=False)):
            theydo_import(journey_map=team_map, data=first, by=owner)
        again = survey(n, one_per_response=one_per_response, version=1)
        with django_assert_max_num_queries(
            REIMPORT_BUDGET + _batches_beyond_one(count, update=True)
        ):
            plan = theydo_import(journey_map=team_map, data=again, by=owner)
        assert plan.summary()["updated"] == {"quote": count}
        assert Quote.objects.filter(text__endswith="v1").count() == count
