"""Comments and @mentions (#17): who may comment, edit, remove, resolve; mentions that
resolve only to people who may see the map, one e-mail each; escaping; the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance import comments
from governance.models import COMMENT_TARGETS, Comment, CommentMention
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    PainPointFactory,
    StepFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("owner", "team_member", "other_owner", "viewer", "leader", "admin_user")


@pytest.fixture
def people(owner, team_member, other_owner, viewer, leader, admin_user):
    return {
        "owner": owner,
        "team_member": team_member,
        "other_owner": other_owner,
        "viewer": viewer,
        "leader": leader,
        "admin_user": admin_user,
    }


@pytest.fixture
def pain(team_map):
    return PainPointFactory(map=team_map, title="Waiting for the ID check")


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run the on-commit e-mails of whatever the block does."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def test_the_model_constraint_lists_exactly_the_target_kinds():
    assert set(COMMENT_TARGETS) == set(Comment.Target.values)
    assert set(COMMENT_TARGETS) - {"map"} == set(comments.TARGET_MODELS)


# --- who may comment -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_who_sees_a_published_map_may_comment_on_it(people, role, team_map, pain):
    comment = comments.comment_create(
        journey_map=team_map,
        author=people[role],
        body="Is this still true?",
        target_kind="painpoint",
        target_id=pain.pk,
    )
    assert comment.map == team_map and comment.target_id == pain.pk


@pytest.mark.parametrize("role", ROLES)
def test_only_those_who_see_a_draft_may_comment_on_it(people, role, draft_map):
    # omar owns the draft; leadership and admins see every map
    sees = role in {"other_owner", "leader", "admin_user"}
    if sees:
        comments.comment_create(journey_map=draft_map, author=people[role], body="Draft note")
        assert Comment.objects.filter(map=draft_map).count() == 1
    else:
        with pytest.raises(PermissionDenied):
            comments.comment_create(journey_map=draft_map, author=people[role], body="Hi")
        assert not Comment.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_discussion_page_answers_404_to_those_who_may_not_see_the_map(
    client, people, role, draft_map
):
    client.force_login(people[role])
    url = reverse("comments:list", args=[draft_map.slug])
    sees = role in {"other_owner", "leader", "admin_user"}
    assert client.get(url).status_code == (200 if sees else 404)
    response = client.post(url, {"body": "Let me in"})
    assert response.status_code == (302 if sees else 404)
    assert Comment.objects.count() == (1 if sees else 0)


def test_a_signed_out_visitor_is_sent_to_sign_in(client, team_map):
    response = client.post(reverse("comments:list", args=[team_map.slug]), {"body": "Hi"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "kind,factory",
    [
        ("step", StepFactory),
        ("painpoint", PainPointFactory),
        ("laneitem", LaneItemFactory),
        ("kpi", KPIFactory),
    ],
)
def test_a_comment_on_an_item_of_another_map_is_refused_naming_the_field(
    viewer, team_map, kind, factory
):
    elsewhere = factory(map=JourneyMapFactory(owner=team_map.owner))
    with pytest.raises(ValidationError) as refused:
        comments.comment_create(
            journey_map=team_map, author=viewer, body="x", target_kind=kind, target_id=elsewhere.pk
        )
    assert "target_id" in refused.value.message_dict
    assert not Comment.objects.exists()


def test_a_project_is_commented_on_from_a_map_it_touches_only(viewer, team_map, owner):
    project = CXProjectFactory(owner=owner)
    with pytest.raises(ValidationError):
        comments.comment_create(
            journey_map=team_map, author=viewer, body="x", target_kind="project",
            target_id=project.pk,
        )  # fmt: skip
    project.maps.add(team_map)
    comment = comments.comment_create(
        journey_map=team_map, author=viewer, body="When?", target_kind="project",
        target_id=project.pk,
    )  # fmt: skip
    assert comment.target_kind == "project"


def test_an_unknown_kind_or_item_answers_404_on_the_page(client, viewer, team_map):
    client.force_login(viewer)
    assert client.get(f"/maps/{team_map.slug}/comments/on/user/1/").status_code == 404
    assert client.get(f"/maps/{team_map.slug}/comments/on/painpoint/999999/").status_code == 404
    assert client.get(f"/maps/{team_map.slug}/comments/on/map/1/").status_code == 404


@pytest.mark.parametrize(
    "body,message",
    [("   ", "empty"), ("x" * 5001, "at most 5000"), ("a\x00b", "Null characters")],
)
def test_a_bad_comment_gets_a_400_naming_the_field_and_changes_nothing(
    client, viewer, team_map, body, message
):
    client.force_login(viewer)
    response = client.post(reverse("comments:list", args=[team_map.slug]), {"body": body})
    assert response.status_code == 400
    assert "body" in response.context["form"].errors
    assert message in str(response.context["form"].errors["body"])
    assert not Comment.objects.exists()


# --- threads, replies, resolve ---------------------------------------------------------


def test_a_reply_joins_the_thread_and_its_item_even_when_replying_to_a_reply(
    viewer, owner, team_map, pain
):
    top = comments.comment_create(
        journey_map=team_map, author=viewer, body="Top", target_kind="painpoint", target_id=pain.pk
    )
    reply = comments.comment_create(journey_map=team_map, author=owner, body="R1", parent=top)
    nested = comments.comment_create(journey_map=team_map, author=viewer, body="R2", parent=reply)
    assert reply.parent == top and nested.parent == top
    assert (nested.target_kind, nested.target_id) == ("painpoint", pain.pk)


def test_a_reply_to_a_comment_of_another_map_is_refused(viewer, team_map, owner):
    other = JourneyMapFactory(owner=owner)
    top = comments.comment_create(journey_map=other, author=viewer, body="Top")
    with pytest.raises(ValidationError) as refused:
        comments.comment_create(journey_map=team_map, author=viewer, body="R", parent=top)
    assert "parent" in refused.value.message_dict


@pytest.mark.parametrize("role", ROLES)
def test_a_thread_is_resolved_and_reopened_by_whoever_opened_it_and_the_maps_managers(
    people, role, team_map
):
    thread = comments.comment_create(journey_map=team_map, author=people["viewer"], body="?")
    may = role in {"viewer", "owner", "leader", "admin_user"}
    if may:
        comments.thread_set_resolved(thread=thread, by=people[role], resolved=True)
        thread.refresh_from_db()
        assert thread.resolved_at is not None and thread.resolved_by == people[role]
        comments.thread_set_resolved(thread=thread, by=people[role], resolved=False)
        thread.refresh_from_db()
        assert thread.resolved_at is None
    else:
        with pytest.raises(PermissionDenied):
            comments.thread_set_resolved(thread=thread, by=people[role], resolved=True)
        thread.refresh_from_db()
        assert thread.resolved_at is None


def test_resolving_through_the_page_by_someone_who_may_not_answers_403(
    client, team_member, viewer, team_map
):
    thread = comments.comment_create(journey_map=team_map, author=viewer, body="?")
    client.force_login(team_member)  # edits the map, but neither opened it nor manages it
    response = client.post(reverse("comments:resolve", args=[team_map.slug, thread.pk]))
    assert response.status_code == 403
    thread.refresh_from_db()
    assert thread.resolved_at is None


# --- edit and remove -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_the_author_edits_a_comment(people, role, team_map):
    comment = comments.comment_create(journey_map=team_map, author=people["viewer"], body="Old")
    if role == "viewer":
        comments.comment_edit(comment=comment, by=people[role], body="New")
        comment.refresh_from_db()
        assert comment.body == "New" and comment.edited_at is not None
        return
    with pytest.raises(PermissionDenied):
        comments.comment_edit(comment=comment, by=people[role], body="Hijacked")
    comment.refresh_from_db()
    assert comment.body == "Old"


def test_an_edit_after_the_window_is_refused_with_a_clear_message(
    client, viewer, team_map, settings
):
    settings.JOURNEYHUB_COMMENT_EDIT_MINUTES = 15
    comment = comments.comment_create(journey_map=team_map, author=viewer, body="Old")
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=16)
    )
    client.force_login(viewer)
    url = reverse("comments:edit", args=[team_map.slug, comment.pk])
    response = client.post(url, {"body": "Too late"})
    assert response.status_code == 400
    errors = str(response.context["form"].errors["body"])
    assert "15 minutes" in errors and "Reply to the thread instead" in errors
    comment.refresh_from_db()
    assert comment.body == "Old"


def test_someone_elses_comment_cannot_be_edited_through_the_page(client, owner, viewer, team_map):
    comment = comments.comment_create(journey_map=team_map, author=viewer, body="Mine")
    client.force_login(owner)
    url = reverse("comments:edit", args=[team_map.slug, comment.pk])
    assert client.post(url, {"body": "Owner's words"}).status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Mine"


@pytest.mark.parametrize("role", ROLES)
def test_a_comment_is_removed_by_its_author_and_the_maps_managers_and_the_thread_stays(
    client, people, role, team_map
):
    top = comments.comment_create(journey_map=team_map, author=people["viewer"], body="Top")
    comments.comment_create(journey_map=team_map, author=people["owner"], body="R", parent=top)
    client.force_login(people[role])
    response = client.post(reverse("comments:remove", args=[team_map.slug, top.pk]))
    may = role in {"viewer", "owner", "leader", "admin_user"}
    assert response.status_code == (302 if may else 403)
    top.refresh_from_db()
    assert (top.removed_at is not None) == may
    assert top.replies.count() == 1
    if may:
        page = client.get(reverse("comments:thread", args=[team_map.slug, top.pk])).text
        assert "Comment removed." in page and "Top" not in page.split("Comment removed.")[0][-300:]
        assert top.history.filter(body="Top").exists()  # history keeps the words


def test_history_keeps_each_version_of_a_comment(viewer, team_map):
    comment = comments.comment_create(journey_map=team_map, author=viewer, body="First")
    comments.comment_edit(comment=comment, by=viewer, body="Second")
    versions = list(comment.history.order_by("history_date").values_list("body", "history_user"))
    assert versions == [("First", viewer.pk), ("Second", viewer.pk)]


# --- mentions ---------------------------------------------------------------------


def test_mention_names_are_found_in_text_but_not_in_email_addresses():
    text = "@tess and @omar.o, see mail@example.com; cc @vic. (@tess again)"
    assert comments.mentioned_names(text) == ["tess", "omar.o", "vic"]


def test_a_mention_notifies_once_by_email_with_who_where_and_an_absolute_link(
    send, owner, team_member, team_map, pain, settings
):
    settings.JOURNEYHUB_BASE_URL = "https://journeys.example.org"
    comment = send(
        comments.comment_create,
        journey_map=team_map,
        author=owner,
        body="@tess can you check this?\nIt hurts.",
        target_kind="painpoint",
        target_id=pain.pk,
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [team_member.email]
    assert "Olivia Owens mentioned you" in message.subject
    assert "pain point “Waiting for the ID check”" in message.body
    assert "@tess can you check this?" in message.body
    link = f"https://journeys.example.org/maps/{team_map.slug}/comments/{comment.pk}/"
    assert link in message.body
    html = message.alternatives[0][0]
    assert "https://journeys.example.org/maps/?owner=" in html and "<br>" in html
    assert CommentMention.objects.get(comment=comment).notified_at is not None


def test_editing_a_comment_notifies_only_the_names_it_adds(
    send, owner, team_member, viewer, team_map
):
    comment = send(comments.comment_create, journey_map=team_map, author=owner, body="@tess hi")
    assert [m.to for m in mail.outbox] == [[team_member.email]]
    send(comments.comment_edit, comment=comment, by=owner, body="@tess hi again")
    assert len(mail.outbox) == 1
    send(comments.comment_edit, comment=comment, by=owner, body="@tess and @vic")
    assert [m.to for m in mail.outbox] == [[team_member.email], [viewer.email]]
    assert set(comment.mentions.values_list("username", flat=True)) == {"tess", "vic"}


def test_a_mention_of_someone_who_cannot_see_the_map_neither_notifies_nor_links(
    send, client, other_owner, owner, draft_map
):
    # olivia may not see omar's draft; a leader comments there mentioning her
    omar = other_owner
    comment = send(
        comments.comment_create,
        journey_map=draft_map,
        author=omar,
        body="@olivia should not know, @nobody does not exist",
    )
    assert mail.outbox == []
    assert not CommentMention.objects.exists()
    client.force_login(omar)
    page = client.get(reverse("comments:thread", args=[draft_map.slug, comment.pk])).text
    assert "@olivia should not know" in page
    assert 'class="mention"' not in page
    client.force_login(owner)
    assert "draft" not in client.get("/").text.lower() or "Mentions" not in client.get("/").text


def test_an_inactive_user_is_not_mentioned(send, owner, team_map):
    UserFactory(username="gone", is_active=False)
    send(comments.comment_create, journey_map=team_map, author=owner, body="@gone hello")
    assert mail.outbox == [] and not CommentMention.objects.exists()


def test_a_mention_is_not_sent_if_the_person_lost_access_before_the_task_ran(
    owner, team_member, team_map, django_capture_on_commit_callbacks
):
    from governance.tasks import notify_mention

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comments.comment_create(journey_map=team_map, author=owner, body="@tess look")
    team_map.status = "draft"
    team_map.team = None
    team_map.save()
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    assert notify_mention(CommentMention.objects.get().pk) is False


def test_the_task_sends_once_even_when_run_twice(owner, team_member, team_map):
    from governance.tasks import notify_mention

    comments.comment_create(journey_map=team_map, author=owner, body="@tess look")
    mention = CommentMention.objects.get()
    assert notify_mention(mention.pk) is True
    assert notify_mention(mention.pk) is False
    assert len(mail.outbox) == 1


# --- escaping ----------------------------------------------------------------------


def test_script_is_shown_as_text_line_breaks_are_kept_and_mentions_are_links(
    client, owner, team_member, team_map
):
    comment = comments.comment_create(
        journey_map=team_map,
        author=owner,
        body='<script>alert("x")</script>\nsecond line @tess <b>',
    )
    client.force_login(team_member)
    page = client.get(reverse("comments:thread", args=[team_map.slug, comment.pk])).text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>second line" in page
    assert f'<a class="mention" href="/maps/?owner={team_member.pk}"' in page
    assert "&lt;b&gt;" in page


# --- pages ---------------------------------------------------------------------------


def test_the_map_page_shows_the_discussion_panel_with_open_threads(
    client, viewer, owner, team_map, pain
):
    pain.step = StepFactory(map=team_map, name="Verify")
    pain.save()
    comments.comment_create(
        journey_map=team_map, author=owner, body="Open one", target_kind="painpoint",
        target_id=pain.pk,
    )  # fmt: skip
    closed = comments.comment_create(journey_map=team_map, author=owner, body="Closed one")
    comments.thread_set_resolved(thread=closed, by=owner, resolved=True)
    client.force_login(viewer)
    page = client.get(team_map.get_absolute_url()).text
    assert "Open one" in page and "Closed one" not in page
    assert "1 open" in page


def test_an_items_threads_open_as_an_htmx_part(client, viewer, owner, team_map, pain):
    comments.comment_create(
        journey_map=team_map, author=owner, body="About the wait", target_kind="painpoint",
        target_id=pain.pk,
    )  # fmt: skip
    client.force_login(viewer)
    url = reverse("comments:item", args=[team_map.slug, "painpoint", pain.pk])
    part = client.get(url, headers={"HX-Request": "true"}).text
    assert "<html" not in part and "About the wait" in part
    assert "Discussion of pain point “Waiting for the ID check”" in part
    response = client.post(url, {"body": "Me too"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Me too" in response.text
    refused = client.post(url, {"body": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "field-error" in refused.text


def test_posting_on_the_page_redirects_to_the_thread(client, viewer, team_map):
    client.force_login(viewer)
    response = client.post(reverse("comments:list", args=[team_map.slug]), {"body": "Hello"})
    comment = Comment.objects.get()
    assert response["Location"] == (
        reverse("comments:thread", args=[team_map.slug, comment.pk]) + f"#comment-{comment.pk}"
    )
    reply = client.post(response["Location"].split("#")[0], {"body": "Reply"})
    assert reply.status_code == 302
    assert comment.replies.get().body == "Reply"


def test_the_home_page_lists_mentions_open_threads_first(client, owner, team_member, team_map):
    old = comments.comment_create(journey_map=team_map, author=owner, body="@tess open, older")
    done = comments.comment_create(journey_map=team_map, author=owner, body="@tess resolved")
    comments.thread_set_resolved(thread=done, by=owner, resolved=True)
    newer = comments.comment_create(journey_map=team_map, author=owner, body="@tess open, new")
    rows = comments.mentions_for_home(team_member)
    assert [m.comment for m in rows] == [newer, old, done]
    client.force_login(team_member)
    page = client.get("/").text
    assert page.index("open, new") < page.index("open, older") < page.index("resolved")


def test_the_home_mentions_are_one_query_whatever_their_number(owner, team_member, team_map):
    def fresh():  # the policy caches a user's groups on the object: start cold each time
        return type(team_member).objects.get(pk=team_member.pk)

    comments.comment_create(journey_map=team_map, author=owner, body="@tess one")
    tess = fresh()
    with CaptureQueriesContext(connection) as few:
        comments.mentions_for_home(tess)
    for n in range(9):
        comments.comment_create(journey_map=team_map, author=owner, body=f"@tess {n}")
    tess = fresh()
    with CaptureQueriesContext(connection) as many:
        rows = comments.mentions_for_home(tess)
    assert len(rows) == 10
    # the user's groups and leadership (one query, cached for the request), then the
    # mentions with their comments, maps and authors
    assert len(many.captured_queries) == len(few.captured_queries) == 2


def test_comment_counts_for_a_map_are_one_query_at_ten_times_the_data(
    owner, viewer, team_map, django_assert_num_queries
):
    def add(n):
        for i in range(n):
            pain = PainPointFactory(map=team_map)
            top = comments.comment_create(
                journey_map=team_map, author=viewer, body=f"{i}", target_kind="painpoint",
                target_id=pain.pk,
            )  # fmt: skip
            comments.comment_create(journey_map=team_map, author=owner, body="r", parent=top)

    add(2)
    with django_assert_num_queries(1):
        counts = comments.comment_counts_for_map(team_map)
    assert sorted(counts.values()) == [2, 2]
    add(18)
    with django_assert_num_queries(1):
        counts = comments.comment_counts_for_map(team_map)
    assert len(counts) == 20


def test_a_maps_threads_take_the_same_queries_at_ten_times_the_data(
    client, owner, viewer, team_map
):
    def add(n):
        for i in range(n):
            pain = PainPointFactory(map=team_map)
            step = StepFactory(map=team_map)
            for kind, target in (("painpoint", pain), ("step", step)):
                top = comments.comment_create(
                    journey_map=team_map, author=viewer, body=f"@olivia {i}",
                    target_kind=kind, target_id=target.pk,
                )  # fmt: skip
                comments.comment_create(journey_map=team_map, author=owner, body="r", parent=top)

    client.force_login(viewer)
    url = reverse("comments:list", args=[team_map.slug])
    add(1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add(9)
    with CaptureQueriesContext(connection) as big:
        page = client.get(url).text
    assert page.count('<section class="comment-thread') == 20
    assert len(big.captured_queries) == len(small.captured_queries)


def test_a_cards_comment_link_shows_its_count_and_opens_its_threads(owner, team_map, pain):
    from django.template import Context, Template

    comments.comment_create(
        journey_map=team_map, author=owner, body="<i>x</i>", target_kind="painpoint",
        target_id=pain.pk,
    )  # fmt: skip
    card = Template("{% load discussion %}{% comments_button counts item %}")
    counts = comments.comment_counts_for_map(team_map)
    html = card.render(Context({"counts": counts, "item": pain}))
    url = reverse("comments:item", args=[team_map.slug, "painpoint", pain.pk])
    assert f'href="{url}" data-comments>' in html
    assert "data-comments>1<" in html and '<span class="visually-hidden"> comment</span>' in html
    step = StepFactory(map=team_map)
    # an item without comments shows no "💬 0" (page weight); a step always has its link
    assert card.render(Context({"counts": counts, "item": step})) == ""
    assert 'data-comments aria-label="Comment"></a>' in counts.link(step, always=True)
    # pages without counts (the public share page, print) show no link
    assert card.render(Context({"counts": None, "item": pain})) == ""
    # the grid is a Jinja2 template (maps/map_page.py): the same link, not escaped twice
    import jinja2

    jinja_card = jinja2.Environment(autoescape=True).from_string("{{ counts.link(item) }}")
    assert jinja_card.render(counts=counts, item=pain) == html


def test_the_comment_pages_and_parts_need_nothing_the_content_policy_forbids(
    client, owner, team_map, pain, settings
):
    from tests.test_csp import assert_csp_ready

    settings.DEBUG = False
    thread = comments.comment_create(
        journey_map=team_map, author=owner, body="@olivia <script>x</script>",
        target_kind="painpoint", target_id=pain.pk,
    )  # fmt: skip
    client.force_login(owner)
    base = f"/maps/{team_map.slug}/comments"
    pages = [f"{base}/", f"{base}/on/painpoint/{pain.pk}/", f"{base}/{thread.pk}/"]
    for path in [*pages, f"{base}/{thread.pk}/edit/", "/"]:
        assert_csp_ready(client.get(path), path)
    for path in pages[:2]:
        assert_csp_ready(client.get(path, headers={"HX-Request": "true"}), path)


def test_the_discussion_panel_takes_the_same_queries_at_ten_times_the_data(
    rf, owner, viewer, team_map
):
    from django.template import Context, Template

    def add(n):
        for i in range(n):
            for kind, target in (
                ("painpoint", PainPointFactory(map=team_map)),
                ("step", StepFactory(map=team_map)),
                ("kpi", KPIFactory(map=team_map)),
            ):
                top = comments.comment_create(
                    journey_map=team_map, author=viewer, body=f"@olivia {i}",
                    target_kind=kind, target_id=target.pk,
                )  # fmt: skip
                comments.comment_create(journey_map=team_map, author=owner, body="r", parent=top)

    panel = Template("{% load discussion %}{% discussion_panel %}")

    def render() -> str:
        request = rf.get(team_map.get_absolute_url())
        request.user = type(viewer).objects.get(pk=viewer.pk)  # nothing cached on it
        return panel.render(Context({"map": team_map, "request": request, "can_edit": False}))

    add(1)
    with CaptureQueriesContext(connection) as small:
        assert "3 open" in render()
    add(9)
    with CaptureQueriesContext(connection) as big:
        html = render()
    assert "30 open" in html and html.count("<li>") == 8
    # the user's leadership and groups; threads, replies, their mentions (two), the
    # labels of the three kinds shown, and the open count once the panel is full (+1)
    assert len(big.captured_queries) <= len(small.captured_queries) + 1
    assert len(big.captured_queries) <= 11


def test_the_edit_page_says_when_the_time_to_edit_is_over(client, viewer, team_map):
    comment = comments.comment_create(journey_map=team_map, author=viewer, body="Old")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(viewer)
    page = client.get(reverse("comments:edit", args=[team_map.slug, comment.pk]))
    assert page.status_code == 200
    assert "The time to edit this comment is over; reply to the thread instead." in page.text
    thread = client.get(reverse("comments:thread", args=[team_map.slug, comment.pk])).text
    assert ">Edit<" not in thread  # the button is gone; Remove stays
    assert ">Remove<" in thread


def test_an_htmx_reply_redraws_the_discussion_it_was_made_in(client, viewer, owner, team_map, pain):
    on_pain = comments.comment_create(
        journey_map=team_map, author=owner, body="About the pain", target_kind="painpoint",
        target_id=pain.pk,
    )  # fmt: skip
    comments.comment_create(journey_map=team_map, author=owner, body="About the map")
    client.force_login(viewer)
    url = reverse("comments:thread", args=[team_map.slug, on_pain.pk])
    htmx = {"HX-Request": "true"}
    # from the map-wide list: the list again, every thread in it
    whole = client.post(url, {"body": "Reply", "shown": "map"}, headers=htmx).text
    assert "Discussion of the map" in whole and "About the map" in whole
    # from the item's dialog, or with a made-up "shown": the item's threads
    for shown in (f"painpoint:{pain.pk}", "painpoint:999999", "user:1", ""):
        part = client.post(url, {"body": "Again", "shown": shown}, headers=htmx).text
        assert "Discussion of pain point" in part and "About the map" not in part


def test_the_map_page_shows_each_commented_cards_count_and_a_comment_link_per_step(
    client, viewer, owner, team_map, pain, settings
):
    pain.step = StepFactory(map=team_map, name="Verify")
    pain.save()
    comments.comment_create(
        journey_map=team_map, author=owner, body="Still true?", target_kind="painpoint",
        target_id=pain.pk,
    )  # fmt: skip
    client.force_login(viewer)

    page = client.get(team_map.get_absolute_url()).text

    # relative to the map page, opened in the dialog by comments.js
    assert f'href="comments/on/painpoint/{pain.pk}/" data-comments>1<' in page
    # a step without comments gets its link from comments.js (no bytes on the page)
    assert f'href="comments/on/step/{pain.step_id}/"' not in page
    assert "th.step-head[data-id]" in (settings.BASE_DIR / "static/js/comments.js").read_text()
