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
