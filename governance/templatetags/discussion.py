"""Comments on the map page: the "Discussion" panel (``{% discussion_panel %}``, once per
page) and the comment link of a card (``{% comments_button comment_counts item %}``, with the
counts of ``governance.comments.comment_counts_for_map``, read once per page)."""

from __future__ import annotations

from django import template

from governance import comments

register = template.Library()

PANEL_THREADS = 8


@register.inclusion_tag("governance/comments_panel.html", takes_context=True)
def discussion_panel(context) -> dict:
    """The map's open threads, newest first (about five queries, whatever the map's
    size). Renders nothing for those who may not see the map (the share page's
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
