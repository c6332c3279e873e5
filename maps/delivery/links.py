"""Recognising a delivery link: which tool, which work item key.

A project's ``external_links`` are free texts (TheyDo's ``externalLinks`` are any string).
Links to the usual trackers are recognised from their URL shape; anything else stays a
plain link (named by its host) or a plain text. A bare key ("CX-142") is recognised too,
so a team that writes keys instead of URLs still sees their status."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

TOOLS = {
    "jira": "Jira",
    "linear": "Linear",
    "azure": "Azure DevOps",
    "github": "GitHub",
    "gitlab": "GitLab",
    "link": "Link",
    "text": "Note",
}

_ISSUE_KEY = r"[A-Za-z][A-Za-z0-9_]{0,19}-\d{1,9}"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # https://acme.atlassian.net/browse/CX-142, self-hosted https://jira.acme.com/browse/CX-142
    ("jira", re.compile(rf"^/(?:jira/)?browse/(?P<key>{_ISSUE_KEY})/?$")),
    # https://acme.atlassian.net/jira/software/projects/CX/boards/1?selectedIssue=CX-142
    ("jira", re.compile(r"^/jira/.*$")),
    # https://linear.app/acme/issue/ENG-123/some-title
    ("linear", re.compile(rf"^/[^/]+/issue/(?P<key>{_ISSUE_KEY})(?:/[^/]*)?/?$")),
    # https://dev.azure.com/org/project/_workitems/edit/4711
    ("azure", re.compile(r"^/(?:[^/]+/){1,2}_workitems/edit/(?P<key>\d{1,9})/?$")),
    # https://github.com/owner/repo/issues/42 or /pull/42
    ("github", re.compile(r"^/(?P<repo>[^/]+/[^/]+)/(?:issues|pull)/(?P<num>\d{1,9})/?$")),
    # https://gitlab.com/group/sub/project/-/issues/42 or /-/merge_requests/42
    (
        "gitlab",
        re.compile(r"^/(?P<repo>.+?)/-/(?P<kind>issues|merge_requests)/(?P<num>\d{1,9})/?$"),
    ),
)
_BARE_KEY = re.compile(rf"^(?P<key>{_ISSUE_KEY})$")


@dataclass(frozen=True)
class DeliveryLink:
    text: str  # as written on the project
    tool: str  # a key of TOOLS
    key: str  # the work item's key ("CX-142", "acme/app#42"), "" when none
    url: str  # "" for a text that is not a link

    @property
    def tool_label(self) -> str:
        return TOOLS[self.tool]

    @property
    def status_key(self) -> str:
        """What the delivery status import matches: the key, case-insensitively."""
        return normalise_key(self.key)


def normalise_key(key: str) -> str:
    return key.strip().upper()


def _host_tool(host: str) -> str | None:
    if host == "linear.app":
        return "linear"
    if host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        return "azure"
    if host == "github.com":
        return "github"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return "gitlab"
    if host.endswith(".atlassian.net") or host.startswith("jira."):
        return "jira"
    return None


def recognise(text: str) -> DeliveryLink:
    text = text.strip()
    bare = _BARE_KEY.match(text)
    if bare:
        return DeliveryLink(text, "jira", bare["key"].upper(), "")
    try:
        parts = urlsplit(text)
    except ValueError:
        return DeliveryLink(text, "text", "", "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return DeliveryLink(text, "text", "", "")
    host = parts.hostname.lower()
    host_tool = _host_tool(host)
    for tool, pattern in _PATTERNS:
        match = pattern.match(parts.path)
        if match is None:
            continue
        if tool != "jira" and host_tool != tool:
            continue
        if tool == "jira" and "key" not in match.groupdict():
            selected = re.search(rf"selectedIssue=({_ISSUE_KEY})", parts.query)
            if selected is None:
                continue
            return DeliveryLink(text, "jira", selected[1].upper(), text)
        if tool in ("github", "gitlab"):
            sign = "!" if match.groupdict().get("kind") == "merge_requests" else "#"
            return DeliveryLink(text, tool, f"{match['repo']}{sign}{match['num']}", text)
        key = match["key"]
        return DeliveryLink(text, tool, key.upper() if tool != "azure" else key, text)
    return DeliveryLink(text, host_tool or "link", "", text)


def recognise_all(texts: list[str]) -> list[DeliveryLink]:
    return [recognise(text) for text in texts]
