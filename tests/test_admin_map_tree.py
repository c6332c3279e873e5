import html
import json
import re


def test_the_admin_map_tree_opens_expanded(client, admin_user, team_map):
    client.force_login(admin_user)

    page = client.get("/admin/maps/journeymap/").content.decode()

    # django-mptt hands its tree settings to its script in a data attribute
    context = re.search(r'<script[^>]*draggable-admin.js"[^>]*data-context="([^"]*)"', page)
    assert context, "the tree's settings are on the page"
    assert json.loads(html.unescape(context.group(1)))["expandTreeByDefault"] is True


def test_the_admin_names_map_grants_in_plain_english(client, admin_user):
    client.force_login(admin_user)

    index = client.get("/admin/").content.decode()

    assert "Map grants to users" in index
    assert "Map grants to groups" in index
    assert "grant to a users" not in index
