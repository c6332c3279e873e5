"""Take screenshots of the main pages from a running server (used for the README).

    .venv/bin/python docs/screenshots.py [BASE_URL] [OUT_DIR]

Signs in as olivia (demo data) in headless Debian Chromium via Playwright.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/img")
PAGES = {
    "login": "/accounts/login/",
    "repository": "/maps/",
    "map": "/maps/customer-lifecycle/",
    "submap": "/maps/open-an-account/",
    "share": "/maps/open-an-account/share/",
    "transfer": "/maps/open-an-account/transfer/",
    "api-docs": "/api/docs/",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(BASE + PAGES["login"])
        page.screenshot(path=OUT / "login.png")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", "journeyhub")
        page.click("button[type=submit]")
        for name, path in PAGES.items():
            if name == "login":
                continue
            page.goto(BASE + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"{name}.png", full_page=name == "repository")
        browser.close()


if __name__ == "__main__":
    main()
