"""Comments on the map page: the "Discussion" panel (``{% discussion_panel %}``, once per
page) and the comment link of a card (``{% comments_button comment_counts item %}``, with the
counts of ``governance.comments.comment_counts_for_map``, read once per page)."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from governance import comments
from maps.fixed_urls import slug_url, static_url

register = template.Library()

PANEL_THREADS = 8
PANEL_TEMPLATE = "governance/comments_panel.html"


@register.simple_tag(takes_context=True)
def discussion_panel(context) -> SafeString:
    """``PANEL_TEMPLATE`` with ``panel_context``; a map with no open thread (most maps)
    gets the same bytes built here, without a template render (#16: ~0.4 ms of every
    map page; tests/test_map_page_head.py compares both)."""
    values = panel_context(context)
    if values["show"] and not values["threads"]:
        return _empty_panel(values)
    # as {% include %} with only these values (and the CSRF token), as inclusion tags do
    panel = context.new(values)
    csrf_token = context.get("csrf_token")
    if csrf_token is not None:
        panel["csrf_token"] = csrf_token
    return context.template.engine.get_template(PANEL_TEMPLATE).render(panel)


def _empty_panel(values: dict) -> SafeString:
    """``PANEL_TEMPLATE``'s bytes for a panel without threads."""
    e = conditional_escape
    # the URLs reversed and looked up once per process (maps.fixed_urls)
    threads = e(slug_url("comments:list", values["map"].slug))
    htmx = static_url("vendor/htmx/htmx.min.js")
    return mark_safe(
        f'\n<link rel="stylesheet" href="{e(static_url("css/comments.css"))}">\n'
        '<section class="card comment-panel" aria-labelledby="discussion-title">\n'
        '  <h2 id="discussion-title">Discussion <span class="count">'
        f"{e(values['open_count'])} open</span></h2>\n"
        '  <p class="muted">No open threads.</p>\n'
        f'  <p><a class="button button-small" href="{threads}" hx-get="{threads}" '
        'hx-target="#comment-dialog-body" hx-swap="innerHTML">Comment on the map</a>\n'
        f'     <a class="small" href="{threads}">Every thread, resolved ones too</a></p>\n'
        "</section>\n"
        '<dialog id="comment-dialog" class="comment-dialog" '
        'aria-labelledby="comment-dialog-title">\n'
        '  <div class="comment-dialog-bar"><span id="comment-dialog-title" '
        'class="visually-hidden">Discussion</span><button type="button" '
        'class="button button-small" data-close-dialog>Close</button></div>\n'
        '  <div id="comment-dialog-body" aria-live="polite"></div>\n'
        "</dialog>\n"
        + (f'<script src="{e(htmx)}" defer></script>' if values["load_htmx"] else "")
        + f'\n<script src="{e(static_url("js/comments.js"))}" defer></script>\n\n'
    )


def panel_context(context) -> dict:
    """The map's open threads, newest first (about five queries, whatever the map's
    size). ``show`` is False for those who may not see the map (the share page's
    visitors have no user)."""
    journey_map = context.get("map")
    request = context.get("request")
    user = getattr(request, "user", None)
    if journey_map is None or not comments.may_comment(user, journey_map):
        return {"show": False}
    # the page's comment counts (read once for the grid's cards) say how many threads
    # are open: none (most maps) reads no thread at all
    counts = context.get("comment_counts")
    open_count = getattr(counts, "open_threads", None)
    if open_count == 0:
        threads = []
    else:
        threads = comments.threads_of_map(journey_map, open_only=True, limit=PANEL_THREADS)
        if open_count is None:
            open_count = (
                comments.open_thread_count(journey_map)
                if len(threads) == PANEL_THREADS
                else len(threads)
            )
    return {
        "show": True,
        "map": journey_map,
        "threads": threads,
        "open_count": open_count,
        # the map page loads htmx itself for editors and for maps with evidence
        "load_htmx": not (
            context.get("can_edit") or getattr(context.get("grid"), "has_evidence", False)
        ),
    }


@register.simple_tag
def comments_button(counts: comments.CommentCounts | None, item) -> str:
    """A card's link to its item's threads with how many comments it has; nothing where
    the page has no counts (the public share page, print). The dialog of
    ``{% discussion_panel %}`` shows the threads."""
    return counts.link(item) if counts is not None else ""
