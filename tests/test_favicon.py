from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings


def test_favicon_ico_points_anyone_to_the_site_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]


def test_pages_name_the_icon_so_browsers_show_it_in_the_tab(client):
    page = client.get("/accounts/login/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_the_icon_is_a_well_formed_svg():
    root = ElementTree.parse(Path(settings.BASE_DIR) / "static" / "favicon.svg").getroot()

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
