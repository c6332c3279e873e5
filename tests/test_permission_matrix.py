"""The permission matrix: every URL of the project, every method it serves, every role.

URLs are taken from the URL configuration, so a new view cannot escape: a route
without a row here fails ``test_every_url_is_in_the_matrix``. Each request runs in a
savepoint that is rolled back, so one role's successful write does not change what
the next request sees.

Roles, in the order of every expectation tuple:
anonymous, vic (viewer), tess (olivia's team), olivia (owner), omar (other owner),
leader (CX leadership), admin (superuser).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLResolver, get_resolver
from guardian.shortcuts import assign_perm
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework.test import APIClient

from governance.comments import comment_create
from governance.map_snapshots import snapshot_take
from governance.models import (
    ExternalMap,
    MapHealth,
    PrioritisationWeights,
    ReminderLog,
    Review,
    ScorecardSnapshot,
    ScorecardWeights,
)
from governance.share_links import share_link_create, share_link_record_use
from maps.models import (
    DeliveryStatus,
    EventActivityMapping,
    EventImport,
    ExchangeImport,
    JourneyMap,
    Quote,
    ResearchSource,
    Tag,
    TagGroup,
    TheydoImport,
    VocabularyTerm,
)
from tests.factories import (
    CXProjectFactory,
    GroupFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    MeasurementObservationFactory,
    PainPointFactory,
    PersonaFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
    UserFactory,
)
from tests.research_data import PDF
from tests.research_data import attach as research_attach

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "team_member", "owner", "other_owner", "leader", "admin_user")


def expect(anon, vic, tess, olivia, omar, leader, admin) -> dict[str, int]:
    return dict(zip(ROLES, (anon, vic, tess, olivia, omar, leader, admin), strict=True))


def everyone(status: int, *, anon: int | None = None) -> dict[str, int]:
    return expect(status if anon is None else anon, *([status] * 6))


SIGNED_IN_PAGE = everyone(200, anon=302)
API_READ = everyone(200, anon=401)
# content of olivia's team map: tess, olivia and admin edit; nobody else
API_CONTENT_CREATE = expect(401, 403, 201, 201, 403, 403, 201)
API_CONTENT_UPDATE = expect(401, 403, 200, 200, 403, 403, 200)
API_CONTENT_DELETE = expect(401, 403, 204, 204, 403, 403, 204)
DRAFT_READ_PAGE = expect(302, 404, 404, 404, 200, 200, 200)
DRAFT_READ_API = expect(401, 404, 404, 404, 200, 200, 200)
MANAGE_PAGE = expect(302, 403, 403, 200, 403, 200, 200)  # transfer, share: owner/leadership/admin
ADMIN_ONLY = expect(302, 302, 302, 302, 302, 302, 200)  # the Django admin, staff only


@dataclass
class Case:
    method: str
    url: str
    expected: dict[str, int]
    data: dict = field(default_factory=dict)
    api: bool = False
    format: str = "json"  # API calls: "multipart" for uploads


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    """Every (route, name) of the URL configuration."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        else:
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


def fill(route: str, values: dict[str, object]) -> str:
    """Turn a route (path converters or regex groups) into a concrete URL."""
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), url)
    positional = iter(values.get("positional", ()))  # unnamed groups, in order
    url = re.sub(r"\((?!\?)[^)]*\)", lambda m: str(next(positional)), url)
    return "/" + url.replace("^", "").replace("$", "")


@pytest.fixture
def world(
    owner,
    team,
    team_member,
    viewer,
    other_owner,
    leader,
    admin_user,
    team_map,
    draft_map,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path  # uploads (research files) land in a temporary folder
    persona = PersonaFactory(name="Young professional", slug="young-professional")
    stage = StageFactory(map=team_map)
    first = StepFactory(map=team_map, stage=stage, key="apply")
    second = StepFactory(map=team_map, stage=stage, key="verify")
    link = StepLinkFactory(from_step=second, to_step=first)
    pain = PainPointFactory(map=team_map, step=first)
    item = LaneItemFactory(map=team_map, step=first)
    kpi = KPIFactory(map=team_map, name="Completion rate")
    measurement = MeasurementFactory(kpi=kpi)
    # observed on another day: the measurement above is a value entered directly, and a
    # period is either (maps.services.measurement_record)
    observation = MeasurementObservationFactory(
        kpi=kpi, date=measurement.date + dt.timedelta(days=90)
    )
    factor = QualitativeFactorFactory(map=team_map)
    project = CXProjectFactory(owner=owner, team=team, maps=[team_map])
    guest = UserFactory(username="guest")
    UserFactory(username="newcomer")
    grant = assign_perm("change_journeymap", guest, team_map)
    group_grant = assign_perm("view_journeymap", GroupFactory(name="Auditors"), team_map)
    review = Review.objects.create(map=team_map, reviewed_by=owner)
    map_snapshot = snapshot_take(journey_map=team_map, label="after Q3 research", by=owner)
    share_link, share_token = share_link_create(journey_map=team_map, by=owner)
    share_link_use = share_link_record_use(link=share_link, ip="192.0.2.1", user_agent="pytest")
    reminder = ReminderLog.objects.create(owner=owner, day=dt.date(2026, 11, 2), maps=2)
    term = VocabularyTerm.objects.create(key="pain_point", label="Friction")
    # the inventory of maps kept elsewhere: olivia's slide deck, her team's, with a file
    inventory_entry = ExternalMap.objects.create(
        title="Onboarding deck", tool="slides", owner=owner, team=team
    )
    inventory_entry.file.save("deck.pdf", ContentFile(PDF))
    token = TokenProxy.objects.get(pk=Token.objects.create(user=admin_user).pk)
    PainPointFactory(map=draft_map)
    weights, _ = ScorecardWeights.objects.get_or_create(pk=1)
    weights.save()  # a history row for the admin's history pages
    snapshot = ScorecardSnapshot.objects.create(map=team_map, date="2026-01-31", health=50)
    priorities, _ = PrioritisationWeights.objects.get_or_create(pk=1)
    priorities.save()  # a history row for the admin's history pages
    # a finished import; the file name only (nothing on disk)
    event_import = EventImport.objects.create(
        map=team_map, uploaded_by=owner, file="event-logs/log.csv", status="done", progress=100
    )
    # a TheyDo preview waiting for its confirmation (the file name only: nothing on disk)
    theydo_import = TheydoImport.objects.create(
        map=team_map, uploaded_by=owner, file="theydo-imports/m.json", file_name="m.json"
    )
    # olivia's refused journeyhub/1 upload: only she sees it (the file name only)
    exchange_import = ExchangeImport.objects.create(
        uploaded_by=owner, file_name="maps.json", status="refused", problems=["format: missing"]
    )
    # sign-in lockout records (django-axes): read in the admin, never added there
    seen = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "vic"}
    seen |= {"http_accept": "text/html", "path_info": "/accounts/login/"}
    axes_rows = {
        "axes.accessattempt": AccessAttempt.objects.create(
            **seen, get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(**seen),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**seen),
    }
    # research: a source with a quote and a file on the published map, one on the draft
    tag_group = TagGroup.objects.create(name="Channel")
    tag = Tag.objects.create(group=tag_group, name="Support")
    source = ResearchSource.objects.create(map=team_map, title="Interviews", kind="interview")
    source.steps.add(first)
    quote = Quote.objects.create(source=source, text="The code is unreadable in the sun.")
    quote.tags.add(tag)
    quote.steps.add(first)
    attachment = research_attach(source)
    draft_source = ResearchSource.objects.create(map=draft_map, title="Secret survey")
    draft_attachment = research_attach(draft_source)
    # comments: vic's thread on the pain point with olivia's reply mentioning tess, and
    # omar's on his draft
    thread = comment_create(
        journey_map=team_map, author=viewer, body="Still true?", target_kind="painpoint",
        target_id=pain.pk,
    )  # fmt: skip
    reply = comment_create(journey_map=team_map, author=owner, body="@tess?", parent=thread)
    draft_comment = comment_create(journey_map=draft_map, author=other_owner, body="Draft")
    return {
        "comment": thread,
        "comment_reply": reply,
        "draft_comment": draft_comment,
        "axes_rows": axes_rows,
        "tag_group": tag_group,
        "tag": tag,
        "source": source,
        "quote": quote,
        "attachment": attachment,
        "draft_source": draft_source,
        "draft_attachment": draft_attachment,
        "team_map": team_map,
        "draft_map": draft_map,
        "persona": persona,
        "stage": stage,
        "step": first,
        "link": link,
        "pain": pain,
        "item": item,
        "kpi": kpi,
        "measurement": measurement,
        "observation": observation,
        "factor": factor,
        "project": project,
        "grant": grant,
        "group_grant": group_grant,
        "review": review,
        "reminder": reminder,
        "map_snapshot": map_snapshot,
        "share_link": share_link,
        "share_token": share_token,
        "share_link_use": share_link_use,
        "term": term,
        "inventory_entry": inventory_entry,
        "token": token,
        "weights": weights,
        "snapshot": snapshot,
        "priorities": priorities,
        "event_import": event_import,
        "theydo_import": theydo_import,
        "exchange_import": exchange_import,
        "activity_mapping": EventActivityMapping.objects.create(
            map=first.map, activity="Signed up", step=first
        ),
        "delivery_status": DeliveryStatus.objects.create(key="CX-1", status="In Progress"),
        "users": {"viewer": viewer, "team": team, "other_owner": other_owner, "guest": guest},
    }


def api_resource_cases(w) -> dict[str, list[Case]]:
    m = w["team_map"]
    v = {"map_version": m.version}
    content = {
        "stage": ("stages", w["stage"], {"map": m.pk, "name": "Verify", **v}),
        "step": ("steps", w["step"], {"map": m.pk, "key": "sign", "name": "Sign", **v}),
        "steplink": (
            "step-links",
            w["link"],
            {"from_step": w["step"].pk, "to_step": w["link"].from_step_id, "kind": "branch", **v},
        ),
        "painpoint": ("pain-points", w["pain"], {"map": m.pk, "title": "Slow", **v}),
        "laneitem": ("lane-items", w["item"], {"map": m.pk, "title": "Idea", "kind": "idea", **v}),
        "kpi": ("kpis", w["kpi"], {"map": m.pk, "name": "NPS", **v}),
        "qualitativefactor": (
            "qualitative-factors",
            w["factor"],
            {"map": m.pk, "name": "Clarity", "rating": 4, **v},
        ),
        "researchsource": (
            "research-sources",
            w["source"],
            {"map": m.pk, "title": "Survey", "kind": "survey", **v},
        ),
        "quote": ("quotes", w["quote"], {"source": w["source"].pk, "text": "Too slow", **v}),
    }
    cases: dict[str, list[Case]] = {}
    for basename, (prefix, obj, payload) in content.items():
        cases[f"api:{basename}-list"] = [
            Case("GET", f"/api/{prefix}/", API_READ, api=True),
            Case("POST", f"/api/{prefix}/", API_CONTENT_CREATE, payload, api=True),
        ]
        cases[f"api:{basename}-detail"] = [
            Case("GET", f"/api/{prefix}/{obj.pk}/", API_READ, api=True),
            Case("PATCH", f"/api/{prefix}/{obj.pk}/", API_CONTENT_UPDATE, dict(v), api=True),
            Case("PUT", f"/api/{prefix}/{obj.pk}/", API_CONTENT_UPDATE, payload, api=True),
            Case(
                "DELETE",
                f"/api/{prefix}/{obj.pk}/?map_version={m.version}",
                API_CONTENT_DELETE,
                api=True,
            ),
        ]
    # PUT of a step with a new key would collide with nothing; of a link with the same pair, fine.
    # research files: uploaded (multipart) by the map's editors, listed with the map
    attachment, draft_attachment = w["attachment"], w["draft_attachment"]
    cases["api:attachment-list"] = [
        Case("GET", "/api/research-attachments/", API_READ, api=True),
        Case(
            "POST",
            "/api/research-attachments/",
            API_CONTENT_CREATE,
            {"source": w["source"].pk, "file": SimpleUploadedFile("r.pdf", PDF)},
            api=True,
            format="multipart",
        ),
    ]
    cases["api:attachment-detail"] = [
        Case("GET", f"/api/research-attachments/{attachment.pk}/", API_READ, api=True),
        Case(
            "GET",
            f"/api/research-attachments/{draft_attachment.pk}/",
            DRAFT_READ_API,
            api=True,
        ),
        Case(
            "PATCH",
            f"/api/research-attachments/{attachment.pk}/",
            everyone(405, anon=401),
            {"name": "x"},
            api=True,
        ),
        Case("DELETE", f"/api/research-attachments/{attachment.pk}/", API_CONTENT_DELETE, api=True),
    ]
    kpi, measurement, project, grant = w["kpi"], w["measurement"], w["project"], w["grant"]
    point = {"kpi": kpi.pk, "date": "2026-06-01", "value": 42}
    cases["api:kpi-measurements"] = [
        Case("GET", f"/api/kpis/{kpi.pk}/measurements/", API_READ, api=True),
        Case(
            "POST",
            f"/api/kpis/{kpi.pk}/measurements/",
            API_CONTENT_CREATE,
            # another period than ``point``: a period is observed or entered, not both
            {"date": "2026-07-01", "value": 42},
            api=True,
        ),
    ]
    cases["api:measurement-list"] = [
        Case("GET", "/api/measurements/", API_READ, api=True),
        Case("POST", "/api/measurements/", API_CONTENT_CREATE, point, api=True),
    ]
    cases["api:measurement-detail"] = [
        Case("GET", f"/api/measurements/{measurement.pk}/", API_READ, api=True),
        Case(
            "PATCH",
            f"/api/measurements/{measurement.pk}/",
            API_CONTENT_UPDATE,
            {"value": 7},
            api=True,
        ),
        Case("PUT", f"/api/measurements/{measurement.pk}/", API_CONTENT_UPDATE, point, api=True),
        Case("DELETE", f"/api/measurements/{measurement.pk}/", API_CONTENT_DELETE, api=True),
    ]
    cases["api:project-list"] = [
        Case("GET", "/api/projects/", API_READ, api=True),
        # vic edits no map, so proposes no project; omar edits his own draft
        Case(
            "POST",
            "/api/projects/",
            expect(401, 403, 201, 201, 201, 201, 201),
            {"title": "Faster checks", "effort": 2},
            api=True,
        ),
    ]
    project_update = expect(401, 403, 200, 200, 403, 200, 200)  # owner, team, leadership
    cases["api:project-detail"] = [
        Case("GET", f"/api/projects/{project.pk}/", API_READ, api=True),
        Case("PATCH", f"/api/projects/{project.pk}/", project_update, {"impact": 4}, api=True),
        Case(
            "PUT",
            f"/api/projects/{project.pk}/",
            project_update,
            {"title": "Renamed", "effort": 3},
            api=True,
        ),
        Case(
            "DELETE",
            f"/api/projects/{project.pk}/",
            expect(401, 403, 403, 204, 403, 204, 204),
            api=True,
        ),
    ]
    # journey owners (olivia, omar) and leadership curate personas; only leadership deletes
    curate = expect(401, 403, 403, 201, 201, 201, 201)
    cases["api:persona-list"] = [
        Case("GET", "/api/personas/", API_READ, api=True),
        Case("POST", "/api/personas/", curate, {"name": "Retiree", "slug": "retiree"}, api=True),
    ]
    persona = w["persona"]
    cases["api:persona-detail"] = [
        Case("GET", f"/api/personas/{persona.pk}/", API_READ, api=True),
        Case(
            "PATCH",
            f"/api/personas/{persona.pk}/",
            expect(401, 403, 403, 200, 200, 200, 200),
            {"description": "Busy"},
            api=True,
        ),
        Case(
            "PUT",
            f"/api/personas/{persona.pk}/",
            expect(401, 403, 403, 200, 200, 200, 200),
            {"name": "Young pro", "slug": "young-pro"},
            api=True,
        ),
        Case(
            "DELETE",
            f"/api/personas/{persona.pk}/",
            expect(401, 403, 403, 403, 403, 204, 204),
            api=True,
        ),
    ]
    cases.update(persona_page_cases(w))
    cases["api:mapgrant-list"] = [
        Case("GET", "/api/map-grants/", API_READ, api=True),
        Case(
            "POST",
            "/api/map-grants/",
            expect(401, 403, 403, 201, 403, 201, 201),
            {"map": m.pk, "user": "newcomer", "role": "editor"},
            api=True,
        ),
    ]
    grant_visible = expect(401, 404, 404, 200, 404, 200, 200)
    cases["api:mapgrant-detail"] = [
        Case("GET", f"/api/map-grants/{grant.pk}/", grant_visible, api=True),
        Case(
            "DELETE",
            f"/api/map-grants/{grant.pk}/",
            expect(401, 404, 404, 204, 404, 204, 204),
            api=True,
        ),
    ]
    return cases


def matrix(w) -> dict[str, list[Case]]:
    m, draft = w["team_map"], w["draft_map"]
    omar = w["users"]["other_owner"]
    version = {"version": m.version}
    cases: dict[str, list[Case]] = {
        "home": [Case("GET", "/", SIGNED_IN_PAGE)],
        "login": [Case("GET", "/accounts/login/", everyone(200))],
        "favicon": [Case("GET", "/favicon.ico", everyone(302))],
        "logout": [
            Case("POST", "/accounts/logout/", everyone(302)),
            Case("GET", "/accounts/logout/", everyone(405, anon=302)),
        ],
        "password_change": [Case("GET", "/accounts/password_change/", SIGNED_IN_PAGE)],
        "password_change_done": [Case("GET", "/accounts/password_change/done/", SIGNED_IN_PAGE)],
        "password_reset": [Case("GET", "/accounts/password_reset/", everyone(200))],
        "password_reset_done": [Case("GET", "/accounts/password_reset/done/", everyone(200))],
        "password_reset_confirm": [Case("GET", "/accounts/reset/MQ/bad-token/", everyone(200))],
        "password_reset_complete": [Case("GET", "/accounts/reset/done/", everyone(200))],
        "maps:repository": [Case("GET", "/maps/", SIGNED_IN_PAGE)],
        "maps:detail": [
            Case("GET", f"/maps/{m.slug}/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/", DRAFT_READ_PAGE),
            Case("POST", f"/maps/{m.slug}/", everyone(405, anon=302)),
        ],
        "governance:transfer": [
            Case("GET", f"/maps/{m.slug}/transfer/", MANAGE_PAGE),
            Case("GET", f"/maps/{draft.slug}/transfer/", expect(302, 404, 404, 404, 200, 200, 200)),
            Case(
                "POST",
                f"/maps/{m.slug}/transfer/",
                expect(302, 403, 403, 302, 403, 302, 302),
                {"new_owner": omar.pk, **version},
            ),
        ],
        "governance:share": [
            Case("GET", f"/maps/{m.slug}/share/", MANAGE_PAGE),
            Case(
                "POST",
                f"/maps/{m.slug}/share/",
                expect(302, 403, 403, 302, 403, 302, 302),
                {"username": "newcomer", "role": "viewer"},
            ),
        ],
        # read-only share links (tests/test_share_links.py): made and revoked by those
        # who may share the map; the public page needs no sign-in
        "governance:share-link-create": [
            Case(
                "POST",
                f"/maps/{m.slug}/share/links/",
                expect(302, 403, 403, 302, 403, 302, 302),
                {"label": "Agency"},
            ),
            Case("GET", f"/maps/{m.slug}/share/links/", NOT_POST),
        ],
        "governance:share-link-revoke": [
            Case(
                "POST",
                f"/maps/{m.slug}/share/links/{w['share_link'].pk}/revoke/",
                expect(302, 403, 403, 302, 403, 302, 302),
            ),
            Case("GET", f"/maps/{m.slug}/share/links/{w['share_link'].pk}/revoke/", NOT_POST),
        ],
        "share-link-public": [
            Case("GET", f"/s/{w['share_token']}/", everyone(200)),
            Case("GET", "/s/not-a-token/", everyone(404)),
            Case("POST", f"/s/{w['share_token']}/", everyone(405)),
        ],
        "api:map-share-links": [
            Case(
                "GET",
                f"/api/maps/{m.pk}/share-links/",
                expect(401, 403, 403, 200, 403, 200, 200),
                api=True,
            ),
            Case(
                "GET",
                f"/api/maps/{draft.pk}/share-links/",
                expect(401, 404, 404, 404, 200, 200, 200),
                api=True,
            ),
            Case(
                "POST",
                f"/api/maps/{m.pk}/share-links/",
                expect(401, 403, 403, 201, 403, 201, 201),
                {"label": "Agency"},
                api=True,
            ),
        ],
        "api:map-share-link-revoke": [
            Case(
                "POST",
                f"/api/maps/{m.pk}/share-links/{w['share_link'].pk}/revoke/",
                expect(401, 403, 403, 200, 403, 200, 200),
                api=True,
            ),
            Case(
                "GET",
                f"/api/maps/{m.pk}/share-links/{w['share_link'].pk}/revoke/",
                everyone(405, anon=401),
                api=True,
            ),
        ],
        "governance:history": [
            Case("GET", f"/maps/{m.slug}/history/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/history/", DRAFT_READ_PAGE),
            Case("POST", f"/maps/{m.slug}/history/", everyone(405, anon=302)),
        ],
        "governance:snapshots": [
            Case("GET", f"/maps/{m.slug}/snapshots/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/snapshots/", DRAFT_READ_PAGE),
            Case("POST", f"/maps/{m.slug}/snapshots/", EDIT_POST, {"label": "Before the workshop"}),
        ],
        "governance:snapshot": [
            Case("GET", f"/maps/{m.slug}/snapshots/{w['map_snapshot'].pk}/", SIGNED_IN_PAGE),
        ],
        "governance:snapshot-restore": [
            Case(
                "POST",
                f"/maps/{m.slug}/snapshots/{w['map_snapshot'].pk}/restore/",
                expect(302, 403, 403, 302, 403, 302, 302),
                {"map_version": m.version},
            ),
            Case("GET", f"/maps/{m.slug}/snapshots/{w['map_snapshot'].pk}/restore/", NOT_POST),
        ],
        "governance:review": [
            Case(
                "POST",
                f"/maps/{m.slug}/review/",
                expect(302, 403, 403, 302, 403, 403, 302),
                {"note": "Checked"},
            ),
            Case("GET", f"/maps/{m.slug}/review/", everyone(405, anon=302)),
        ],
        "governance:unshare": [
            Case(
                "POST",
                f"/maps/{m.slug}/share/{w['grant'].pk}/remove/",
                expect(302, 403, 403, 302, 403, 302, 302),
            ),
            Case("GET", f"/maps/{m.slug}/share/{w['grant'].pk}/remove/", everyone(405, anon=302)),
        ],
        "governance:scorecard": [
            Case("GET", f"/maps/{m.slug}/scorecard/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/scorecard/", DRAFT_READ_PAGE),
            # rating a factor edits the map's content: its editors only
            Case(
                "POST",
                f"/maps/{m.slug}/scorecard/",
                expect(302, 403, 302, 302, 403, 403, 302),
                {"factor": w["factor"].pk, "rating": 2, "note": "Slow", **version},
            ),
            Case(
                "POST", f"/maps/{draft.slug}/scorecard/", expect(302, 404, 404, 404, 200, 403, 200)
            ),
        ],
        "governance:scorecard_weights": [
            Case("GET", "/maps/scorecard/weights/", SIGNED_IN_PAGE),
            Case(
                "POST",
                "/maps/scorecard/weights/",
                expect(302, 403, 403, 403, 403, 302, 302),
                {
                    "quantitative_business": 2,
                    "quantitative_customer": 1,
                    "qualitative_business": 1,
                    "qualitative_customer": 1,
                    "version": w["weights"].version,
                },
            ),
        ],
        "api:map-scorecard": [
            Case("GET", f"/api/maps/{m.pk}/scorecard/", API_READ, api=True),
            Case("GET", f"/api/maps/{draft.pk}/scorecard/", DRAFT_READ_API, api=True),
            Case("POST", f"/api/maps/{m.pk}/scorecard/", everyone(405, anon=401), api=True),
        ],
        "api:api-root": [Case("GET", "/api/", API_READ, api=True)],
        "api:token": [
            Case(
                "POST",
                "/api/auth/token/",
                everyone(400),
                {"username": "olivia", "password": "wrong"},
                api=True,
            ),
            Case("GET", "/api/auth/token/", everyone(405), api=True),
        ],
        "api:schema": [Case("GET", "/api/schema/", API_READ, api=True)],
        "api:docs": [Case("GET", "/api/docs/", SIGNED_IN_PAGE)],
        "api:map-list": [
            Case("GET", "/api/maps/", API_READ, api=True),
            Case(
                "POST",
                "/api/maps/",
                expect(401, 403, 201, 201, 403, 201, 201),
                {"title": "Upload documents", "parent": m.pk},
                api=True,
            ),
        ],
        "api:map-tree": [Case("GET", "/api/maps/tree/", API_READ, api=True)],
        # templates: listed to everyone signed in; a map from one goes where its creator
        # may add maps (under olivia's team map: its editors and leadership)
        "api:templates": [Case("GET", "/api/templates/", API_READ, api=True)],
        "api:map-from-template": [
            Case(
                "POST",
                "/api/maps/from-template/",
                expect(401, 403, 201, 201, 403, 201, 201),
                {"template": "essential:onboard", "title": "Onboard savers", "parent": m.pk},
                api=True,
            ),
        ],
        "api:map-detail": [
            Case("GET", f"/api/maps/{m.pk}/", API_READ, api=True),
            Case("GET", f"/api/maps/{draft.pk}/", DRAFT_READ_API, api=True),
            Case(
                "PATCH",
                f"/api/maps/{m.pk}/",
                API_CONTENT_UPDATE,
                {"summary": "New", **version},
                api=True,
            ),
            Case(
                "PUT",
                f"/api/maps/{m.pk}/",
                API_CONTENT_UPDATE,
                {"title": "Open", **version},
                api=True,
            ),
            Case(
                "DELETE",
                f"/api/maps/{m.pk}/?version={m.version}",
                expect(401, 403, 403, 204, 403, 204, 204),
                api=True,
            ),
        ],
        "api:map-review": [
            Case(
                "POST",
                f"/api/maps/{m.pk}/review/",
                expect(401, 403, 403, 200, 403, 403, 200),
                {"note": "Checked"},
                api=True,
            ),
            Case(
                "POST",
                f"/api/maps/{draft.pk}/review/",
                expect(401, 404, 404, 404, 200, 403, 200),
                api=True,
            ),
        ],
        "api:import-spreadsheet": [
            Case(
                "POST",
                f"/api/import/spreadsheet/?under={m.slug}",
                expect(401, 403, 200, 200, 403, 200, 200),
                {"file": SimpleUploadedFile("m.csv", b"map,step\nOnboard,Scan\n", "text/csv")},
                api=True,
                format="multipart",
            ),
            Case(
                "POST",
                "/api/import/spreadsheet/?dry_run=1",
                expect(401, 403, 403, 403, 403, 200, 200),  # the top level: leadership, admins
                {"file": SimpleUploadedFile("m.csv", b"map,step\nTop,Scan\n", "text/csv")},
                api=True,
                format="multipart",
            ),
            Case(
                "POST",
                f"/api/import/spreadsheet/?under={draft.slug}",
                expect(401, 404, 404, 404, 400, 400, 400),  # no file
                api=True,
                format="multipart",
            ),
            Case("GET", "/api/import/spreadsheet/", everyone(405, anon=401), api=True),
        ],
        "api:map-theydo-import": [
            Case(
                "POST",
                f"/api/maps/{m.pk}/import/theydo/",
                expect(401, 403, 200, 200, 403, 403, 200),
                {
                    "format": "THEYDO_METRICS_V1",
                    "metrics": [
                        {
                            "type": "NPS",
                            "importKey": "nps-1",
                            "title": "NPS",
                            "unit": "points",
                            "dataPoints": [
                                {
                                    "dateOfMeasurement": "2026-06-01",
                                    "promoters": 6,
                                    "passives": 2,
                                    "detractors": 2,
                                }
                            ],
                        }
                    ],
                },
                api=True,
            ),
            Case(
                "POST",
                f"/api/maps/{draft.pk}/import/theydo/",
                expect(401, 404, 404, 404, 400, 403, 400),  # an empty body: no format
                api=True,
            ),
            Case("GET", f"/api/maps/{m.pk}/import/theydo/", everyone(405, anon=401), api=True),
        ],
        "api:map-measurements-import": [
            Case(
                "POST",
                f"/api/maps/{m.pk}/measurements/import/",
                expect(401, 403, 200, 200, 403, 403, 200),
                {
                    "format": "THEYDO_METRICS_V1",
                    "metrics": [
                        {
                            "importKey": "nps-1",
                            "title": "NPS",
                            "type": "NPS",
                            "unit": "points",
                            "dataPoints": [
                                {
                                    "dateOfMeasurement": "2026-06-01",
                                    "promoters": 6,
                                    "passives": 2,
                                    "detractors": 2,
                                }
                            ],
                        }
                    ],
                },
                api=True,
            ),
            Case(
                "POST",
                f"/api/maps/{draft.pk}/measurements/import/",
                expect(401, 404, 404, 404, 400, 403, 400),  # an empty body: nothing to import
                api=True,
            ),
            Case(
                "GET",
                f"/api/maps/{m.pk}/measurements/import/",
                everyone(405, anon=401),
                api=True,
            ),
        ],
        "api:map-theydo-export": [
            Case("GET", f"/api/maps/{m.pk}/export/theydo/?kind=insights", API_READ, api=True),
            Case(
                "GET",
                f"/api/maps/{draft.pk}/export/theydo/?kind=metrics",
                DRAFT_READ_API,
                api=True,
            ),
            Case(
                "GET",
                f"/api/maps/{m.pk}/export/theydo/?kind=nope",
                everyone(400, anon=401),
                api=True,
            ),
            Case("POST", f"/api/maps/{m.pk}/export/theydo/", everyone(405, anon=401), api=True),
        ],
        "api:map-export": [
            Case("GET", f"/api/maps/{m.pk}/export/", API_READ, api=True),
            Case("GET", f"/api/maps/{draft.pk}/export/?subtree=0", DRAFT_READ_API, api=True),
            Case("POST", f"/api/maps/{m.pk}/export/", everyone(405, anon=401), api=True),
        ],
        "api:exchange-import": [
            Case(
                "POST",
                f"/api/import/?under={m.slug}",
                # a map owned by olivia under her team map: she, leadership and admins
                expect(401, 403, 403, 200, 403, 200, 200),
                {
                    "format": "journeyhub/1",
                    "maps": [{"slug": "matrix-import", "title": "Matrix", "owner": "olivia"}],
                },
                api=True,
            ),
            Case("POST", "/api/import/", everyone(400, anon=401), {}, api=True),  # no format
            Case(
                "POST",
                f"/api/import/?under={draft.slug}",
                expect(401, 404, 404, 404, 400, 400, 400),  # an empty body: no format
                {},
                api=True,
            ),
            Case("GET", "/api/import/", everyone(405, anon=401), api=True),
        ],
        "api:map-subtree": [
            Case("GET", f"/api/maps/{m.pk}/tree/", API_READ, api=True),
            Case("GET", f"/api/maps/{draft.pk}/tree/", DRAFT_READ_API, api=True),
        ],
        "api:map-transfer": [
            Case(
                "POST",
                f"/api/maps/{m.pk}/transfer/",
                expect(401, 403, 403, 200, 403, 200, 200),
                {"owner": "omar", **version},
                api=True,
            ),
            Case(
                "POST",
                f"/api/maps/{draft.pk}/transfer/",
                expect(401, 404, 404, 404, 200, 200, 200),
                {"owner": "guest", "version": draft.version},
                api=True,
            ),
        ],
    }
    cases.update(editor_cases(w))
    cases.update(api_resource_cases(w))
    cases.update(portfolio_cases(w))
    cases.update(search_cases(w))
    cases.update(inventory_cases(w))
    cases.update(comment_cases(w))
    return cases


def search_cases(w) -> dict[str, list[Case]]:
    """Search answers everyone signed in, with only what they may see (tests/test_search.py
    checks the hits of every role); a hidden draft as the subtree is a missing one."""
    draft = w["draft_map"]
    return {
        "search": [
            Case("GET", "/search/", SIGNED_IN_PAGE),
            Case("GET", "/search/?q=step&kind=step&evidence=assumption", SIGNED_IN_PAGE),
            Case("GET", f"/search/?q=step&map={draft.slug}", SIGNED_IN_PAGE),
            Case("POST", "/search/?q=step", everyone(405, anon=302)),
        ],
        "api:search": [
            Case("GET", "/api/search/?q=step", API_READ, api=True),
            Case(
                "GET",
                f"/api/search/?q=step&map={draft.slug}",
                expect(401, 400, 400, 400, 200, 200, 200),
                api=True,
            ),
            Case("POST", "/api/search/?q=step", everyone(405, anon=401), api=True),
        ],
    }


def portfolio_cases(w) -> dict[str, list[Case]]:
    project, m = w["project"], w["team_map"]  # olivia's, her team's, on her team map
    project_data = {
        "title": "Faster checks",
        "status": "planned",
        "reach": 10,
        "impact": 3,
        "confidence": 50,
        "effort": 2,
        "maps": [m.pk],
    }
    weights = {
        "method": "wsjf",
        "health_gap": 1,
        "pain": 1,
        "business_value": 2,
        "time_criticality": 1,
        "risk_reduction": 1,
        "customer_value": 1,
        "version": w["priorities"].version,
    }
    return {
        "portfolio": [
            Case("GET", "/portfolio/", SIGNED_IN_PAGE),
            Case("GET", f"/portfolio/?map={m.slug}&status=open&method=wsjf", SIGNED_IN_PAGE),
            Case("POST", "/portfolio/", everyone(405, anon=302)),
        ],
        # the map picker's options: everyone signed in, each only the maps they may see
        # (tests/test_portfolio_map_picker.py checks what each role is offered)
        "governance:portfolio-map-choices": [
            Case("GET", "/maps/portfolio/choices/?q=a", SIGNED_IN_PAGE),
            Case("GET", "/maps/portfolio/choices/?limit=0", everyone(400, anon=302)),
            Case("POST", "/maps/portfolio/choices/", everyone(405, anon=302)),
        ],
        "portfolio_export": [Case("GET", "/portfolio/export.csv", SIGNED_IN_PAGE)],
        "portfolio_export_xlsx": [Case("GET", "/portfolio/export.xlsx", SIGNED_IN_PAGE)],
        "portfolio_weights": [
            Case("GET", "/portfolio/weights/", SIGNED_IN_PAGE),
            Case("POST", "/portfolio/weights/", expect(302, 403, 403, 403, 403, 302, 302), weights),
        ],
        # CX leadership loads where delivery work stands; a POST without a file is refused
        "delivery_status_import": [
            Case("GET", "/projects/delivery-status/", expect(302, 403, 403, 403, 403, 200, 200)),
            Case("POST", "/projects/delivery-status/", expect(302, 403, 403, 403, 403, 400, 400)),
        ],
        # vic edits no map, so proposes no project; omar edits his own draft
        "project_new": [
            Case("GET", "/projects/new/", expect(302, 403, 200, 200, 200, 200, 200)),
            Case(
                "POST",
                "/projects/new/",
                expect(302, 403, 302, 302, 302, 302, 302),
                project_data,
            ),
        ],
        "project_detail": [
            Case("GET", f"/projects/{project.pk}/", SIGNED_IN_PAGE),
            Case("POST", f"/projects/{project.pk}/", everyone(405, anon=302)),
        ],
        "project_edit": [
            Case("GET", f"/projects/{project.pk}/edit/", expect(302, 403, 200, 200, 403, 200, 200)),
            Case(
                "POST",
                f"/projects/{project.pk}/edit/",
                expect(302, 403, 302, 302, 403, 302, 302),
                project_data,
            ),
        ],
        "project_delete": [
            Case(
                "POST",
                f"/projects/{project.pk}/delete/",
                expect(302, 403, 403, 302, 403, 302, 302),
            ),
            Case(
                "GET",
                f"/projects/{project.pk}/delete/",
                expect(302, 403, 403, 200, 403, 200, 200),
            ),
        ],
        "api:portfolio": [
            Case("GET", "/api/portfolio/", API_READ, api=True),
            Case("POST", "/api/portfolio/", everyone(405, anon=401), api=True),
        ],
    }


EDIT_PAGE = expect(302, 403, 200, 200, 403, 403, 200)  # the map editor: editors only
EDIT_POST = expect(302, 403, 302, 302, 403, 403, 302)
NOT_POST = everyone(405, anon=302)
SUBMAP_PAGE = expect(302, 403, 200, 200, 403, 200, 200)  # add maps under olivia's team map
TOP_LEVEL_PAGE = expect(302, 403, 403, 403, 403, 200, 200)  # leadership and admins
OWN_UPLOAD_PAGE = expect(302, 404, 404, 200, 404, 404, 404)  # olivia's upload: hers alone
OWN_UPLOAD_POST = expect(302, 404, 404, 302, 404, 404, 404)


def editor_cases(w) -> dict[str, list[Case]]:
    m, draft, step, pain, stage = w["team_map"], w["draft_map"], w["step"], w["pain"], w["stage"]
    v = {"map_version": m.version}
    pain_data = {
        "kind": "customer",
        "title": "Queue too long",
        "severity": 3,
        "frequency": 2,
        "evidence": "assumption",
        **v,
    }
    return {
        "maps:new": [
            Case(
                "GET",
                f"/maps/new/?parent={m.slug}&step={step.pk}",
                expect(302, 403, 200, 200, 403, 200, 200),
            ),
            Case(
                "POST",
                f"/maps/new/?parent={m.slug}",
                expect(302, 403, 302, 302, 403, 302, 302),
                {"title": "Upload documents", "status": "draft"},
            ),
            Case("GET", "/maps/new/", expect(302, 403, 403, 403, 403, 200, 200)),
            Case(
                "GET", f"/maps/new/?parent={draft.slug}", expect(302, 404, 404, 404, 200, 200, 200)
            ),
        ],
        "maps:settings": [
            Case("GET", f"/maps/{m.slug}/settings/", EDIT_PAGE),
            Case("GET", f"/maps/{draft.slug}/settings/", expect(302, 404, 404, 404, 200, 403, 200)),
            Case(
                "POST",
                f"/maps/{m.slug}/settings/",
                EDIT_POST,
                {
                    "title": "Open",
                    "summary": "",
                    "status": "published",
                    "review_every_days": 90,
                    **v,
                },
            ),
        ],
        "maps:item-new": [
            Case("GET", f"/maps/{m.slug}/edit/painpoint/new/", EDIT_PAGE),
            Case("POST", f"/maps/{m.slug}/edit/painpoint/new/", EDIT_POST, pain_data),
            Case("POST", f"/maps/{m.slug}/edit/stage/new/", EDIT_POST, {"name": "Wait", **v}),
        ],
        "maps:item-edit": [
            Case("GET", f"/maps/{m.slug}/edit/painpoint/{pain.pk}/", EDIT_PAGE),
            Case("POST", f"/maps/{m.slug}/edit/painpoint/{pain.pk}/", EDIT_POST, pain_data),
            Case("GET", f"/maps/{m.slug}/edit/stage/{stage.pk}/", EDIT_PAGE),
        ],
        "maps:item-delete": [
            Case("POST", f"/maps/{m.slug}/edit/painpoint/{pain.pk}/delete/", EDIT_POST, dict(v)),
            Case("GET", f"/maps/{m.slug}/edit/painpoint/{pain.pk}/delete/", NOT_POST),
        ],
        "maps:reorder": [
            Case(
                "POST",
                f"/maps/{m.slug}/edit/step/reorder/",
                EDIT_POST,
                {"move": step.pk, "direction": "right", **v},
            ),
            Case("GET", f"/maps/{m.slug}/edit/step/reorder/", NOT_POST),
        ],
        "maps:kpi-measurements": [
            Case("GET", f"/maps/{m.slug}/kpis/{w['kpi'].pk}/measurements/", EDIT_PAGE),
            Case(
                "POST",
                f"/maps/{m.slug}/kpis/{w['kpi'].pk}/measurements/",
                EDIT_POST,
                {"date": "2026-06-01", "value": 42, "region": "North"},
            ),
            Case(
                "GET",
                f"/maps/{draft.slug}/kpis/{w['kpi'].pk}/measurements/",
                expect(302, 404, 404, 404, 404, 403, 404),  # the KPI is not on the draft
            ),
        ],
        "maps:measurements-import": [
            Case("GET", f"/maps/{m.slug}/measurements/import/", EDIT_PAGE),
            Case(
                "POST",
                f"/maps/{m.slug}/measurements/import/",
                EDIT_POST,
                {
                    "file": SimpleUploadedFile(
                        "m.csv", b"kpi,date,value\nCompletion rate,2026-06-01,42\n", "text/csv"
                    )
                },
            ),
            Case(
                "GET",
                f"/maps/{draft.slug}/measurements/import/",
                expect(302, 404, 404, 404, 200, 403, 200),
            ),
        ],
        # event logs: read by everyone who may see the map, uploaded by its editors; an
        # upload without a file re-renders the form (successful uploads are tested in
        # test_event_analytics, with a temporary MEDIA_ROOT)
        "maps:events": [
            Case("GET", f"/maps/{m.slug}/events/", everyone(200, anon=302)),
            Case("POST", f"/maps/{m.slug}/events/", expect(302, 403, 200, 200, 403, 403, 200)),
            Case("GET", f"/maps/{draft.slug}/events/", expect(302, 404, 404, 404, 200, 200, 200)),
        ],
        # TheyDo imports: the map's editors only, reading included; an upload without a
        # file re-renders the form (uploads, previews and imports: test_theydo_import_page)
        # spreadsheets: imported under a map by those who may add maps to it, at the top
        # level by leadership and admins (a POST is the preview); exported by its readers
        "maps:spreadsheet-import": [
            Case("GET", f"/maps/{m.slug}/import/spreadsheet/", SUBMAP_PAGE),
            Case(
                "POST",
                f"/maps/{m.slug}/import/spreadsheet/",
                SUBMAP_PAGE,
                {"file": SimpleUploadedFile("m.csv", b"map,step\nOnboard,Scan\n", "text/csv")},
            ),
            Case(
                "GET",
                f"/maps/{draft.slug}/import/spreadsheet/",
                expect(302, 404, 404, 404, 200, 200, 200),
            ),
        ],
        "maps:spreadsheet-import-top": [
            Case("GET", "/maps/import/spreadsheet/", TOP_LEVEL_PAGE),
            Case(
                "POST",
                "/maps/import/spreadsheet/",
                TOP_LEVEL_PAGE,
                {"file": SimpleUploadedFile("m.csv", b"map,step\nOnboard,Scan\n", "text/csv")},
            ),
        ],
        "maps:spreadsheet-template": [
            Case("GET", "/maps/import/spreadsheet/template.xlsx", SIGNED_IN_PAGE),
            Case("POST", "/maps/import/spreadsheet/template.xlsx", NOT_POST),
        ],
        "maps:export-xlsx": [
            Case("GET", f"/maps/{m.slug}/export/xlsx/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/export/xlsx/", DRAFT_READ_PAGE),
        ],
        "maps:theydo-imports": [
            Case("GET", f"/maps/{m.slug}/import/theydo/", EDIT_PAGE),
            Case("POST", f"/maps/{m.slug}/import/theydo/", EDIT_PAGE),
            Case(
                "GET",
                f"/maps/{draft.slug}/import/theydo/",
                expect(302, 404, 404, 404, 200, 403, 200),
            ),
        ],
        "maps:theydo-import": [
            Case("GET", f"/maps/{m.slug}/import/theydo/{w['theydo_import'].pk}/", EDIT_PAGE),
            Case("POST", f"/maps/{m.slug}/import/theydo/{w['theydo_import'].pk}/", NOT_POST),
            Case(
                "GET",
                f"/maps/{draft.slug}/import/theydo/{w['theydo_import'].pk}/",
                expect(302, 404, 404, 404, 404, 403, 404),  # the import is not on the draft
            ),
        ],
        # journeyhub/1 in the browser: everyone signed in may upload (the importer decides
        # what each may change); an upload is its uploader's alone (others: 404)
        "maps:import": [
            Case("GET", "/maps/import/", SIGNED_IN_PAGE),
            Case("POST", "/maps/import/", SIGNED_IN_PAGE),  # no file: the form again
        ],
        "maps:import-job": [
            Case("GET", f"/maps/import/{w['exchange_import'].pk}/", OWN_UPLOAD_PAGE),
            Case("POST", f"/maps/import/{w['exchange_import'].pk}/", NOT_POST),
        ],
        "maps:import-confirm": [
            Case("POST", f"/maps/import/{w['exchange_import'].pk}/confirm/", OWN_UPLOAD_POST),
            Case("GET", f"/maps/import/{w['exchange_import'].pk}/confirm/", NOT_POST),
        ],
        "maps:import-discard": [
            Case("POST", f"/maps/import/{w['exchange_import'].pk}/discard/", OWN_UPLOAD_POST),
            Case("GET", f"/maps/import/{w['exchange_import'].pk}/discard/", NOT_POST),
        ],
        "maps:export": [
            Case("GET", f"/maps/{m.slug}/export/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/export/?subtree=0", DRAFT_READ_PAGE),
        ],
        "maps:theydo-import-confirm": [
            Case(
                "POST", f"/maps/{m.slug}/import/theydo/{w['theydo_import'].pk}/confirm/", EDIT_POST
            ),
            Case("GET", f"/maps/{m.slug}/import/theydo/{w['theydo_import'].pk}/confirm/", NOT_POST),
        ],
        "maps:theydo-import-discard": [
            Case(
                "POST", f"/maps/{m.slug}/import/theydo/{w['theydo_import'].pk}/discard/", EDIT_POST
            ),
            Case("GET", f"/maps/{m.slug}/import/theydo/{w['theydo_import'].pk}/discard/", NOT_POST),
        ],
        "maps:event-import": [
            Case("GET", f"/maps/{m.slug}/events/{w['event_import'].pk}/", everyone(200, anon=302)),
            Case("POST", f"/maps/{m.slug}/events/{w['event_import'].pk}/", NOT_POST),
            Case(
                "GET",
                f"/maps/{draft.slug}/events/{w['event_import'].pk}/",
                everyone(404, anon=302),  # the import is not on the draft
            ),
        ],
        # an import's activity → step mapping: the map's editors; the world's import is
        # done, so an editor's POST is refused as not waiting (400; the mapping itself in
        # test_event_mapping)
        "maps:event-import-mapping": [
            Case(
                "POST",
                f"/maps/{m.slug}/events/{w['event_import'].pk}/mapping/",
                expect(302, 403, 400, 400, 403, 403, 400),
            ),
            Case("GET", f"/maps/{m.slug}/events/{w['event_import'].pk}/mapping/", NOT_POST),
        ],
        **research_cases(w),
        **print_cases(w),
        **future_state_cases(w),
        **discovery_cases(w),
    }


def persona_page_cases(w) -> dict[str, list[Case]]:
    """Persona pages: everyone signed in reads them; journey owners (olivia, omar) and
    leadership curate them; leadership deletes. A form without a name is refused (400)."""
    slug = w["persona"].slug
    curate_page = expect(302, 403, 403, 200, 200, 200, 200)
    refused = expect(302, 403, 403, 400, 400, 400, 400)
    return {
        "personas:list": [Case("GET", "/personas/", SIGNED_IN_PAGE)],
        "personas:new": [
            Case("GET", "/personas/new/", curate_page),
            Case("POST", "/personas/new/", refused, {"name": ""}),
        ],
        "personas:detail": [Case("GET", f"/personas/{slug}/", SIGNED_IN_PAGE)],
        "personas:edit": [
            Case("GET", f"/personas/{slug}/edit/", curate_page),
            Case("POST", f"/personas/{slug}/edit/", refused, {"name": ""}),
        ],
        "personas:delete": [
            Case("POST", f"/personas/{slug}/delete/", expect(302, 403, 403, 403, 403, 302, 302)),
        ],
    }


def discovery_cases(w) -> dict[str, list[Case]]:
    """Discovering a map from a log: who may create a map there (top level: leadership
    and admins; under olivia's team map: its editors and leadership); an upload is its
    uploader's alone. A create without a title is refused (400) and keeps the upload."""
    from maps.discovery.store import upload_save
    from tests.test_discovery import csv_log

    m, draft = w["team_map"], w["draft_map"]
    if "discovery" not in w:  # olivia's upload under her team map, made once per world
        w["discovery"] = upload_save(
            upload=SimpleUploadedFile("log.csv", csv_log()), user=m.owner, parent_id=m.pk
        )
    token = w["discovery"].token
    return {
        "maps:discover": [
            Case("GET", "/maps/new/discover/", TOP_LEVEL_PAGE),
            Case("GET", f"/maps/new/discover/?parent={m.slug}", SUBMAP_PAGE),
            Case(
                "GET",
                f"/maps/new/discover/?parent={draft.slug}",
                expect(302, 404, 404, 404, 200, 200, 200),
            ),
            Case(
                "POST",
                f"/maps/new/discover/?parent={m.slug}",
                expect(302, 403, 302, 302, 403, 302, 302),
                {"file": SimpleUploadedFile("log.csv", csv_log(), "text/csv")},
            ),
        ],
        "maps:discover-proposal": [
            Case("GET", f"/maps/new/discover/{token}/", OWN_UPLOAD_PAGE),
            Case("GET", f"/maps/new/discover/{'x' * 24}/", everyone(404, anon=302)),
        ],
        "maps:discover-create": [
            Case(
                "POST",
                f"/maps/new/discover/{token}/create/",
                expect(302, 404, 404, 400, 404, 404, 404),
                {"title": ""},
            ),
            Case("GET", f"/maps/new/discover/{token}/create/", NOT_POST),
        ],
        "maps:discover-discard": [  # last: olivia's discard removes the upload
            Case("GET", f"/maps/new/discover/{token}/discard/", NOT_POST),
            Case("POST", f"/maps/new/discover/{token}/discard/", OWN_UPLOAD_POST),
        ],
    }


def future_state_cases(w) -> dict[str, list[Case]]:
    """Drafting a future state or scenario: the rule for a new map beside it (the team map
    is top-level: CX leadership and admins); comparing: both maps visible, else 404."""
    m, draft = w["team_map"], w["draft_map"]
    drafts = expect(302, 403, 403, 403, 403, 200, 200)
    return {
        "maps:variant-new": [
            Case("GET", f"/maps/{m.slug}/variants/new/", drafts),
            Case(
                "GET",
                f"/maps/{draft.slug}/variants/new/",
                expect(302, 404, 404, 404, 403, 200, 200),
            ),
            Case(
                "POST",
                f"/maps/{m.slug}/variants/new/",
                expect(302, 403, 403, 403, 403, 302, 302),
                {"state": "future"},
            ),
            Case(
                "POST",
                f"/maps/{m.slug}/variants/new/",
                expect(302, 403, 403, 403, 403, 400, 400),
                {"state": "scenario", "scenario_label": ""},  # a scenario needs its label
            ),
        ],
        "maps:compare": [
            Case("GET", f"/maps/{m.slug}/compare/{draft.slug}/", DRAFT_READ_PAGE),
            Case("GET", f"/maps/{draft.slug}/compare/{m.slug}/", DRAFT_READ_PAGE),
            Case("GET", f"/maps/{m.slug}/compare/{m.slug}/", everyone(400, anon=302)),
            Case("POST", f"/maps/{m.slug}/compare/{draft.slug}/", everyone(405, anon=302)),
        ],
        "maps:compare-with": [
            Case("GET", f"/maps/{m.slug}/compare/?with={draft.slug}", DRAFT_READ_PAGE),
            Case("GET", f"/maps/{m.slug}/compare/", everyone(400, anon=302)),  # no variant
        ],
        "maps:compare-link": [
            Case("GET", f"/maps/{m.slug}/compare/{draft.slug}/link/", everyone(405, anon=302)),
            Case(
                "POST",
                f"/maps/{m.slug}/compare/{draft.slug}/link/",
                # both maps visible, then a project the user may change (olivia's team's)
                expect(302, 404, 404, 404, 400, 302, 302),
                {"item": f"step:{w['step'].key}", "project": w["project"].pk},
            ),
        ],
    }


def print_cases(w) -> dict[str, list[Case]]:
    """The print view and the Mermaid export: read-only, for whoever may see the map."""
    m, draft = w["team_map"], w["draft_map"]
    cases: dict[str, list[Case]] = {}
    for name, tail in (
        ("maps:print", "print/"),
        ("maps:mermaid", "export/mermaid/"),
        ("maps:mermaid-download", "export/mermaid/download/"),
    ):
        cases[name] = [
            Case("GET", f"/maps/{m.slug}/{tail}", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/{tail}", DRAFT_READ_PAGE),
            Case("POST", f"/maps/{m.slug}/{tail}", NOT_POST),
        ]
    cases["maps:print"].append(
        Case("GET", f"/maps/{m.slug}/print/?columns=99", everyone(400, anon=302))
    )
    cases["api:map-mermaid-export"] = [
        Case("GET", f"/api/maps/{m.pk}/export/mermaid/", API_READ, api=True),
        Case("GET", f"/api/maps/{draft.pk}/export/mermaid/", DRAFT_READ_API, api=True),
        Case("POST", f"/api/maps/{m.pk}/export/mermaid/", everyone(405, anon=401), api=True),
    ]
    # the latest event log's figures: read like the map
    cases["api:map-funnel"] = [
        Case("GET", f"/api/maps/{m.pk}/funnel/", API_READ, api=True),
        Case("GET", f"/api/maps/{draft.pk}/funnel/", DRAFT_READ_API, api=True),
        Case("POST", f"/api/maps/{m.pk}/funnel/", everyone(405, anon=401), api=True),
    ]
    return cases


def research_cases(w) -> dict[str, list[Case]]:
    """Research pages: read and downloaded by everyone who may see the map, written by
    its editors; another map's file or source through this map's URL is a 404."""
    m, draft = w["team_map"], w["draft_map"]
    source, quote = w["source"], w["quote"]
    v = {"version": m.version}
    base = f"/maps/{m.slug}/research"
    return {
        "maps:research": [
            Case("GET", f"{base}/", SIGNED_IN_PAGE),
            Case("GET", f"/maps/{draft.slug}/research/", DRAFT_READ_PAGE),
            Case("POST", f"{base}/", NOT_POST),
        ],
        "maps:research-new": [
            Case("GET", f"{base}/new/", EDIT_PAGE),
            Case("POST", f"{base}/new/", EDIT_POST, {"kind": "survey", "title": "Q2", **v}),
        ],
        "maps:research-source": [
            Case("GET", f"{base}/{source.pk}/", SIGNED_IN_PAGE),
            Case("GET", f"{base}/{w['draft_source'].pk}/", everyone(404, anon=302)),
            Case("GET", f"/maps/{draft.slug}/research/{w['draft_source'].pk}/", DRAFT_READ_PAGE),
            # an upload: editors only
            Case(
                "POST",
                f"{base}/{source.pk}/",
                EDIT_POST,
                {"file": SimpleUploadedFile("notes.pdf", PDF, "application/pdf")},
            ),
        ],
        "maps:research-source-edit": [
            Case("GET", f"{base}/{source.pk}/edit/", EDIT_PAGE),
            Case(
                "POST",
                f"{base}/{source.pk}/edit/",
                EDIT_POST,
                {"kind": "interview", "title": "Renamed", **v},
            ),
        ],
        "maps:research-source-delete": [
            Case("POST", f"{base}/{source.pk}/delete/", EDIT_POST, dict(v)),
            Case("GET", f"{base}/{source.pk}/delete/", NOT_POST),
        ],
        "maps:research-quote-new": [
            Case("GET", f"{base}/{source.pk}/quotes/new/", EDIT_PAGE),
            Case("POST", f"{base}/{source.pk}/quotes/new/", EDIT_POST, {"text": "Hm", **v}),
        ],
        "maps:research-quote-edit": [
            Case("GET", f"{base}/{source.pk}/quotes/{quote.pk}/", EDIT_PAGE),
            Case("POST", f"{base}/{source.pk}/quotes/{quote.pk}/", EDIT_POST, {"text": "Hm", **v}),
        ],
        "maps:research-quote-delete": [
            Case("POST", f"{base}/{source.pk}/quotes/{quote.pk}/delete/", EDIT_POST, dict(v)),
            Case("GET", f"{base}/{source.pk}/quotes/{quote.pk}/delete/", NOT_POST),
        ],
        "maps:research-file": [
            Case("GET", f"{base}/files/{w['attachment'].pk}/", SIGNED_IN_PAGE),
            # a guessed id of the draft's file through the published map: never found
            Case("GET", f"{base}/files/{w['draft_attachment'].pk}/", everyone(404, anon=302)),
            Case(
                "GET",
                f"/maps/{draft.slug}/research/files/{w['draft_attachment'].pk}/",
                DRAFT_READ_PAGE,
            ),
            Case("POST", f"{base}/files/{w['attachment'].pk}/", NOT_POST),
        ],
        "maps:research-file-delete": [
            Case("POST", f"{base}/files/{w['attachment'].pk}/delete/", EDIT_POST),
            Case("GET", f"{base}/files/{w['attachment'].pk}/delete/", NOT_POST),
        ],
        "maps:evidence": [
            Case("GET", f"{base}/evidence/step/{w['step'].pk}/", SIGNED_IN_PAGE),
            Case("GET", f"{base}/evidence/painpoint/{w['pain'].pk}/", SIGNED_IN_PAGE),
            Case("POST", f"{base}/evidence/step/{w['step'].pk}/", NOT_POST),
        ],
    }


def inventory_cases(w) -> dict[str, list[Case]]:
    """The inventory of maps kept elsewhere (tests/test_inventory.py): everyone signed in
    reads and adds; olivia's entry is changed by her, her team, leadership and admins."""
    e = w["inventory_entry"]
    change_page = expect(302, 403, 200, 200, 403, 200, 200)
    change_post = expect(302, 403, 302, 302, 403, 302, 302)
    change_api = expect(401, 403, 200, 200, 403, 200, 200)
    described = {"title": "Onboarding deck 2024", "tool": "slides", "version": e.version}
    return {
        "inventory:list": [
            Case("GET", "/inventory/", SIGNED_IN_PAGE),
            Case("GET", "/inventory/?tool=slides&status=to_migrate", SIGNED_IN_PAGE),
            Case("POST", "/inventory/", NOT_POST),
        ],
        "inventory:export": [Case("GET", "/inventory/export.csv", SIGNED_IN_PAGE)],
        "inventory:new": [
            Case("GET", "/inventory/new/", SIGNED_IN_PAGE),
            Case("POST", "/inventory/new/", everyone(302), {"title": "Board", "tool": "miro"}),
        ],
        "inventory:detail": [
            Case("GET", f"/inventory/{e.pk}/", SIGNED_IN_PAGE),
            Case("GET", "/inventory/999999/", everyone(404, anon=302)),
            Case("POST", f"/inventory/{e.pk}/", NOT_POST),
        ],
        "inventory:edit": [
            Case("GET", f"/inventory/{e.pk}/edit/", change_page),
            Case("POST", f"/inventory/{e.pk}/edit/", change_post, described),
        ],
        "inventory:status": [
            Case("GET", f"/inventory/{e.pk}/status/?status=migrated", change_page),
            Case(
                "POST",
                f"/inventory/{e.pk}/status/",
                change_post,
                {"status": "retired", "retired_reason": "Duplicate", "version": e.version},
            ),
        ],
        "inventory:file": [
            Case("GET", f"/inventory/{e.pk}/file/", SIGNED_IN_PAGE),
            Case("POST", f"/inventory/{e.pk}/file/", NOT_POST),
        ],
        "api:inventory-list": [
            Case("GET", "/api/inventory/", API_READ, api=True),
            Case(
                "POST",
                "/api/inventory/",
                everyone(201, anon=401),
                {"title": "Board", "tool": "miro"},
                api=True,
            ),
        ],
        "api:inventory-detail": [
            Case("GET", f"/api/inventory/{e.pk}/", API_READ, api=True),
            Case(
                "PATCH",
                f"/api/inventory/{e.pk}/",
                change_api,
                {"area": "KYC", "version": e.version},
                api=True,
            ),
            Case("PUT", f"/api/inventory/{e.pk}/", change_api, described, api=True),
            Case("DELETE", f"/api/inventory/{e.pk}/", everyone(405, anon=401), api=True),
        ],
    }


def comment_cases(w) -> dict[str, list[Case]]:
    """Comments (tests/test_comments.py): everyone who sees the map reads and writes;
    vic's comment is edited by vic alone, removed by vic and the map's managers, and his
    thread resolved by him and the managers; omar's draft is the draft's."""
    m, draft, pain = w["team_map"], w["draft_map"], w["pain"]
    c, d = w["comment"], w["draft_comment"]
    posted = everyone(302)  # to the thread (anonymous: to sign in)
    draft_post = expect(302, 404, 404, 404, 302, 302, 302)
    authors_page = expect(302, 200, 403, 403, 403, 403, 403)
    authors_post = expect(302, 302, 403, 403, 403, 403, 403)
    moderators_post = expect(302, 302, 403, 302, 403, 302, 302)
    moderators_api = expect(401, 200, 403, 200, 403, 200, 200)
    base = f"/maps/{m.slug}/comments"
    body = {"body": "Agreed @olivia"}
    return {
        "comments:list": [
            Case("GET", f"{base}/", SIGNED_IN_PAGE),
            Case("POST", f"{base}/", posted, body),
            Case("GET", f"/maps/{draft.slug}/comments/", DRAFT_READ_PAGE),
            Case("POST", f"/maps/{draft.slug}/comments/", draft_post, body),
        ],
        "comments:item": [
            Case("GET", f"{base}/on/painpoint/{pain.pk}/", SIGNED_IN_PAGE),
            Case("POST", f"{base}/on/painpoint/{pain.pk}/", posted, body),
            Case("GET", f"{base}/on/painpoint/999999/", everyone(404, anon=302)),
        ],
        "comments:thread": [
            Case("GET", f"{base}/{c.pk}/", SIGNED_IN_PAGE),
            Case("POST", f"{base}/{c.pk}/", posted, body),
            Case("GET", f"/maps/{draft.slug}/comments/{d.pk}/", DRAFT_READ_PAGE),
            Case("GET", f"{base}/{d.pk}/", everyone(404, anon=302)),  # not on this map
        ],
        "comments:edit": [
            Case("GET", f"{base}/{c.pk}/edit/", authors_page),
            Case("POST", f"{base}/{c.pk}/edit/", authors_post, {"body": "Still true, really?"}),
        ],
        "comments:remove": [
            Case("POST", f"{base}/{c.pk}/remove/", moderators_post),
            Case("GET", f"{base}/{c.pk}/remove/", NOT_POST),
        ],
        "comments:resolve": [
            Case("POST", f"{base}/{c.pk}/resolve/", moderators_post),
            Case("GET", f"{base}/{c.pk}/resolve/", NOT_POST),
        ],
        "comments:reopen": [
            Case("POST", f"{base}/{c.pk}/reopen/", moderators_post),
            Case("GET", f"{base}/{c.pk}/reopen/", NOT_POST),
        ],
        "api:comment-list": [
            Case("GET", "/api/comments/", API_READ, api=True),
            Case("GET", f"/api/comments/?map={m.pk}&target_kind=painpoint", API_READ, api=True),
            Case(
                "POST", "/api/comments/", everyone(201, anon=401), {"map": m.pk, **body}, api=True
            ),
            Case(
                "POST",
                "/api/comments/",
                expect(401, 400, 400, 400, 201, 201, 201),  # a hidden map: like no map
                {"map": draft.pk, **body},
                api=True,
            ),
        ],
        "api:comment-detail": [
            Case("GET", f"/api/comments/{c.pk}/", API_READ, api=True),
            Case("GET", f"/api/comments/{d.pk}/", DRAFT_READ_API, api=True),
            Case(
                "PATCH",
                f"/api/comments/{c.pk}/",
                expect(401, 200, 403, 403, 403, 403, 403),
                {"body": "Edited"},
                api=True,
            ),
            Case("PUT", f"/api/comments/{c.pk}/", everyone(405, anon=401), body, api=True),
            Case(
                "DELETE",
                f"/api/comments/{c.pk}/",
                expect(401, 204, 403, 204, 403, 204, 204),
                api=True,
            ),
        ],
        "api:comment-resolve": [
            Case("POST", f"/api/comments/{c.pk}/resolve/", moderators_api, api=True),
        ],
        "api:comment-reopen": [
            Case("POST", f"/api/comments/{c.pk}/reopen/", moderators_api, api=True),
        ],
    }


# --- the Django admin -------------------------------------------------------------

ADMIN_EXCEPTIONS = {
    # name: (admin's status, status for signed-in non-staff, for anonymous)
    "admin:login": (302, 200, 200),
    "admin:logout": (405, 302, 302),  # GET; signing out is a POST
    "admin:autocomplete": (403, 302, 302),  # without its query parameters
    "admin:view_on_site": (302, 302, 302),
    "redirect": (302, 302, 302),  # unnamed /admin/<app>/<model>/<id>/ → its change page
    "catch-all": (404, 302, 302),  # unknown admin URLs
    # the scorecard always has its one row of quadrant weights
    "admin:governance_scorecardweights_delete": (403, 302, 302),
    "admin:governance_prioritisationweights_delete": (403, 302, 302),
    # lockout records come from failed sign-ins only
    "admin:axes_accessattempt_add": (403, 302, 302),
    "admin:axes_accesslog_add": (403, 302, 302),
    "admin:axes_accessfailurelog_add": (403, 302, 302),
    # TheyDo and journeyhub/1 import records come from imports; read and deleted here
    "admin:maps_theydoimport_add": (403, 302, 302),
    "admin:maps_exchangeimport_add": (403, 302, 302),
    # share links are made on the sharing page or the API (their token is shown there once)
    "admin:governance_sharelink_add": (403, 302, 302),
    "admin:governance_sharelinkuse_add": (403, 302, 302),
    # comments are posted on the map pages and the API (so their mentions notify)
    "admin:governance_comment_add": (403, 302, 302),
    "admin:governance_commentmention_add": (403, 302, 302),
    # each map's pain point counts are kept by database triggers: shown, never written
    "admin:maps_mappainpointcounts_add": (403, 302, 302),
    "admin:maps_mappainpointcounts_delete": (403, 302, 302),
    # each map's stored health is kept by triggers and health reads: shown, never written
    "admin:governance_maphealth_add": (403, 302, 302),
    "admin:governance_maphealth_delete": (403, 302, 302),
}


def url_key(route: str, name: str) -> str:
    """A route's name, or the route itself for unnamed ones."""
    return route if not name or name.endswith(":") else name


def values_history_id(obj) -> int:
    return obj.history.first().history_id if hasattr(obj, "history") else 0


def admin_cases(w) -> dict[str, list[Case]]:
    users = w["users"]
    instances = {
        "maps.journeymap": w["team_map"],
        "maps.persona": w["persona"],
        "maps.stage": w["stage"],
        "maps.step": w["step"],
        "maps.steplink": w["link"],
        "maps.painpoint": w["pain"],
        "maps.laneitem": w["item"],
        "maps.kpi": w["kpi"],
        "maps.measurement": w["measurement"],
        "maps.measurementobservation": w["observation"],
        "maps.qualitativefactor": w["factor"],
        "maps.cxproject": w["project"],
        "maps.vocabularyterm": w["term"],
        "maps.journeymapuserobjectpermission": w["grant"],
        "maps.journeymapgroupobjectpermission": w["group_grant"],
        "governance.review": w["review"],
        "governance.reminderlog": w["reminder"],
        "governance.mapsnapshot": w["map_snapshot"],
        "governance.sharelink": w["share_link"],
        "governance.sharelinkuse": w["share_link_use"],
        "governance.scorecardweights": w["weights"],
        "governance.scorecardsnapshot": w["snapshot"],
        "governance.prioritisationweights": w["priorities"],
        "governance.externalmap": w["inventory_entry"],
        "governance.comment": w["comment"],
        "governance.commentmention": w["comment_reply"].mention_rows.get(),
        "maps.eventimport": w["event_import"],
        "maps.researchsource": w["source"],
        "maps.quote": w["quote"],
        "maps.attachment": w["attachment"],
        "maps.tag": w["tag"],
        "maps.taggroup": w["tag_group"],
        "maps.theydoimport": w["theydo_import"],
        "maps.exchangeimport": w["exchange_import"],
        "maps.eventactivitymapping": w["activity_mapping"],
        "maps.deliverystatus": w["delivery_status"],
        "maps.mappainpointcounts": w["pain"].map.pain_point_counts,
        "governance.maphealth": MapHealth.objects.get_or_create(map=w["team_map"])[0],
        "auth.user": users["viewer"],
        "auth.group": users["team"],
        "authtoken.tokenproxy": w["token"],
        **w["axes_rows"],
    }
    cases: dict[str, list[Case]] = {}
    for route, name in walk():
        if not route.startswith("admin/"):
            continue
        parts = route.split("/")
        obj = instances.get(f"{parts[1]}.{parts[2]}") if len(parts) > 2 else None
        values = {
            "app_label": "maps",
            "object_id": getattr(obj, "pk", w["team_map"].pk),
            "object_pk": getattr(obj, "pk", w["team_map"].pk),
            "id": getattr(obj, "pk", 0),
            "history_id": values_history_id(obj),
            "user_id": users["guest"].pk,
            "group_id": users["team"].pk,
            "content_type_id": ContentType.objects.get_for_model(JourneyMap).pk,
            "url": "no-such-page/",
            "positional": [getattr(obj, "pk", 0), values_history_id(obj)],
        }
        key = url_key(route, name)
        kind = name
        if key == route:
            kind = "catch-all" if "(?P<url>" in route else "redirect"
        admin_status, staffless, anon = ADMIN_EXCEPTIONS.get(kind, (200, 302, 302))
        expected = expect(anon, *([staffless] * 5), admin_status)
        cases.setdefault(key, []).append(Case("GET", fill(route, values), expected))
    return cases


def test_every_url_is_in_the_matrix(world):
    covered = set(matrix(world)) | set(admin_cases(world))
    missing = sorted({url_key(route, name) for route, name in walk()} - covered)
    assert missing == [], f"add these URLs to the permission matrix: {missing}"


def _client_for(role: str, request):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    web, api = _web_client(user), APIClient()
    if user is not None:
        api.force_authenticate(user)
    return web, api


def _web_client(user):
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_the_matrix_holds_for(role, request, world):
    web, api = _client_for(role, request)
    mismatches = []
    everything = {**matrix(world), **admin_cases(world)}
    for key, cases in everything.items():
        for case in cases:
            client = api if case.api else web
            call = getattr(client, case.method.lower())
            cookies = copy.deepcopy(client.cookies)  # signing out must not sign out the next case
            with transaction.atomic():
                if case.api:
                    response = call(case.url, case.data, format=case.format)
                else:
                    response = call(case.url, case.data)
                transaction.set_rollback(True)
            client.cookies = cookies
            if response.status_code != case.expected[role]:
                mismatches.append(
                    f"{case.method} {case.url} [{key}]: {response.status_code}, "
                    f"expected {case.expected[role]}"
                )
    assert mismatches == [], "\n".join(mismatches)
