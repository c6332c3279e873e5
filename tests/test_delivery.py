"""Delivery links of CX projects: recognised with their key, their status imported from
the delivery tools' CSV exports, shown on the project."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from maps.delivery.links import recognise
from maps.delivery.progress import delivery_of
from maps.delivery.status_import import import_delivery_status, state_of
from maps.imports import ImportRefused
from maps.models import DeliveryStatus
from tests.factories import CXProjectFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "tool", "key"),
    [
        ("https://acme.atlassian.net/browse/CX-142", "jira", "CX-142"),
        ("https://jira.acme.com/browse/cx-7/", "jira", "CX-7"),
        (
            "https://acme.atlassian.net/jira/software/projects/CX/boards/1?selectedIssue=CX-9",
            "jira",
            "CX-9",
        ),
        ("https://linear.app/acme/issue/ENG-123/fix-the-form", "linear", "ENG-123"),
        ("https://dev.azure.com/acme/Onboarding/_workitems/edit/4711", "azure", "4711"),
        ("https://acme.visualstudio.com/Onboarding/_workitems/edit/12/", "azure", "12"),
        ("https://github.com/acme/app/issues/42", "github", "acme/app#42"),
        ("https://github.com/acme/app/pull/43", "github", "acme/app#43"),
        ("https://gitlab.com/acme/web/app/-/issues/5", "gitlab", "acme/web/app#5"),
        ("https://gitlab.com/acme/app/-/merge_requests/6", "gitlab", "acme/app!6"),
        ("CX-142", "jira", "CX-142"),
        ("https://docs.acme.com/plan", "link", ""),
        ("https://github.com/acme/app", "github", ""),
        ("javascript:alert(1)", "text", ""),
        ("see the Q3 plan", "text", ""),
    ],
)
def test_links_are_recognised_with_their_tool_and_key(text, tool, key):
    link = recognise(text)
    assert (link.tool, link.key) == (tool, key)
    assert link.url == (text if text.startswith("https://") else "")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Done", "done"),
        ("Closed", "done"),
        ("Shipped", "done"),
        ("In Progress", "doing"),
        ("In Review", "doing"),
        ("Selected for Development", "doing"),
        ("To Do", "todo"),
        ("Backlog", "todo"),
        ("Won't Do", "cancelled"),
        ("Canceled", "cancelled"),
        ("Parked", "unknown"),
    ],
)
def test_status_words_say_where_the_work_stands(status, state):
    assert state_of(status) == state


JIRA_EXPORT = (
    "Summary,Issue key,Issue id,Issue Type,Status,Assignee,Updated\n"
    "Shorter form,CX-142,10142,Story,In Progress,Tess Taylor,30/Nov/26 10:15 AM\n"
    "Save and resume,CX-143,10143,Story,Done,Olivia Owens,29/Nov/26 4:02 PM\n"
    "Old idea,CX-144,10144,Story,Won't Do,,01/Oct/26 9:00 AM\n"
)


def test_a_jira_export_is_read_by_its_own_headers_and_keys_not_ids(owner):
    project = CXProjectFactory(
        external_links=[
            "https://acme.atlassian.net/browse/CX-142",
            "CX-143",
            "https://acme.atlassian.net/browse/CX-144",
            "https://docs.acme.com/plan",
        ]
    )

    result = import_delivery_status(JIRA_EXPORT.encode(), by=owner)

    assert (result.created, result.updated, result.unchanged, result.on_projects) == (3, 0, 0, 3)
    status = DeliveryStatus.objects.get(key="CX-142")
    assert (status.status, status.state, status.title, status.assignee) == (
        "In Progress",
        "doing",
        "Shorter form",
        "Tess Taylor",
    )
    assert status.source_updated_at.isoformat().startswith("2026-11-30T10:15")
    delivery = delivery_of([project])[project.pk]
    # the cancelled item is not counted as work; the plan document has no key
    assert delivery.summary == "1 of 2 done, 1 in progress"
    assert [t.status.key if t.status else None for t in delivery.links] == [
        "CX-142",
        "CX-143",
        "CX-144",
        None,
    ]


def test_a_reimport_updates_what_changed_and_leaves_the_rest(owner):
    import_delivery_status(JIRA_EXPORT.encode(), by=owner)
    later = JIRA_EXPORT.replace(
        "Shorter form,CX-142,10142,Story,In Progress", "Shorter form,CX-142,10142,Story,Done"
    )

    result = import_delivery_status(later.encode(), by=owner)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert DeliveryStatus.objects.get(key="CX-142").state == "done"


def test_linear_and_azure_exports_are_read_too(owner):
    linear = (
        "ID,Team,Title,Status,Assignee,Updated\n"
        "ENG-1,Web,Fix it,In Review,,2026-11-30T10:00:00.000Z\n"
    )
    azure = "ID,Work Item Type,Title,Assigned To,State\n4711,Bug,Crash,Tess,Closed\n"

    import_delivery_status(linear.encode(), by=owner)
    import_delivery_status(azure.encode(), by=owner)

    assert DeliveryStatus.objects.get(key="ENG-1").state == "doing"
    assert DeliveryStatus.objects.get(key="4711").state == "done"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Summary,Status\nA,Done\n", "line 1: no key column"),
        ("key,status\nCX-1,Done\n,Done\n", "line 3, column 'key': the key is empty"),
        ("key,status\nCX-1,Done\ncx-1,Open\n", "line 3: cx-1 is also on line 2"),
        ("key,status\nCX-1,\n", "line 2, column 'status': no status"),
        ("key,status,updated\nCX-1,Done,yesterday\n", "line 2, column 'updated': 'yesterday'"),
        ("key,status\n", "The file has a header but no rows."),
        ("", "The file is empty"),
    ],
)
def test_a_bad_file_names_the_line_and_column_and_changes_nothing(owner, content, problem):
    DeliveryStatus.objects.create(key="CX-1", status="Open", state="todo")

    with pytest.raises(ImportRefused) as refused:
        import_delivery_status(content.encode(), by=owner)

    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
    assert list(DeliveryStatus.objects.values_list("key", "status")) == [("CX-1", "Open")]


def test_a_file_that_is_not_utf8_text_is_refused(owner):
    with pytest.raises(ImportRefused, match="not UTF-8"):
        import_delivery_status(b"key,status\nCX-1,\xff\n", by=owner)


def test_many_bad_rows_list_the_first_and_count_the_rest(owner):
    content = "key,status\n" + "".join(f"CX-{n},\n" for n in range(80))

    with pytest.raises(ImportRefused) as refused:
        import_delivery_status(content.encode(), by=owner)

    assert refused.value.problems[-1] == "… and 30 more problems"


class TestTheImportPage:
    url = "/projects/delivery-status/"

    def test_leadership_uploads_an_export_and_the_project_shows_each_status(
        self, client, leader, owner
    ):
        project = CXProjectFactory(
            owner=owner, external_links=["https://acme.atlassian.net/browse/CX-143"]
        )
        client.force_login(leader)
        upload = SimpleUploadedFile("jira.csv", JIRA_EXPORT.encode(), content_type="text/csv")

        response = client.post(self.url, {"file": upload}, follow=True)

        assert "Delivery status imported: 3 new, 0 updated, 0 unchanged; 1 of them" in response.text
        page = client.get(f"/projects/{project.pk}/").text
        assert "1 of 1 done" in page
        assert '<span class="tag delivery-tool">Jira</span>' in page
        assert ">CX-143</a>" in page
        assert 'class="delivery-state delivery-done"' in page

    def test_a_refused_file_lists_its_problems_with_a_400(self, client, leader):
        client.force_login(leader)
        upload = SimpleUploadedFile("bad.csv", b"Summary,Status\nA,Done\n")

        response = client.post(self.url, {"file": upload})

        assert response.status_code == 400
        assert "Nothing was imported" in response.text
        assert "no key column" in response.text
        assert DeliveryStatus.objects.count() == 0

    def test_owners_may_not_import_status(self, client, owner):
        client.force_login(owner)
        assert client.get(self.url).status_code == 403

    def test_a_link_without_an_imported_status_says_so(self, client, owner):
        project = CXProjectFactory(owner=owner, external_links=["CX-999", "javascript:alert(1)"])
        client.force_login(owner)

        page = client.get(f"/projects/{project.pk}/").text

        assert "no status imported" in page
        assert 'href="javascript' not in page


def test_the_command_imports_a_file_and_refuses_a_bad_one(tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(JIRA_EXPORT)
    bad.write_text("key,status\nCX-1,\n")

    call_command("import_delivery_status", str(good))
    assert "3 new" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_delivery_status", str(bad))
    assert "line 2" in capsys.readouterr().err
