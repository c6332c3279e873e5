"""Comments on the map page: the "Discussion" panel (``{% discussion_panel %}``, once per
page) and the comment link of a card (``{% comments_button comment_counts item %}``, with the
counts of ``governance.comments.comment_counts_for_map``, read once per page)."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

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
    threads = comments.threads_of_map(journey_map, open_only=True, limit=PANEL_THREADS)
    return {
        "show": True,
        "map": journey_map,
        "threads": threads,
        "open_count": comments.open_thread_count(journey_map)
        if len(threads) == PANEL_THREADS
        else len(threads),
        # the map page loads htmx itself for editors and for maps with evidence
        "load_htmx": not (
            context.get("can_edit") or getattr(context.get("grid"), "has_evidence", False)
        ),
    }


@register.simple_tag
def comments_button(counts: comments.CommentCounts | None, item) -> str:
    """A card's link to its item's threads with how many comments it has (the kind is
    the item's model's); nothing where the page has no counts (the public share page,
    print). The dialog of ``{% discussion_panel %}`` shows the threads."""
    kind = comments.KIND_OF_MODEL.get(type(item))
    if counts is None or kind is None:
        return ""
    n = counts.get((kind, item.pk), 0)
    url = counts.url(kind, item.pk)
    return format_html(
        '<a class="comment-count{}" href="{}" hx-get="{}" hx-target="#comment-dialog-body" '
        'hx-swap="innerHTML">💬 {}<span class="visually-hidden"> comment{} on {}</span></a>',
        "" if n else " comment-count-none", url, url, n, pluralize(n), item,
    )  # fmt: skip
