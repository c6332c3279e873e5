"""``{% map_states_of map as states %}``: what the map page's header says about a map's
state (``maps.future_state.map_states``), for the reader of the page."""

from __future__ import annotations

from django import template

from maps.future_state import MapStates, map_states

register = template.Library()


@register.simple_tag(takes_context=True)
def map_states_of(context, journey_map) -> MapStates:
    # the map page's view reads them with its breadcrumbs (``context["map_states"]``)
    found = context.get("map_states")
    if isinstance(found, MapStates) and found.journey_map is journey_map:
        return found
    return map_states(context["request"].user, journey_map)
