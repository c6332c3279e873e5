"""System checks for governance settings (``manage.py check --deploy``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@register(Tags.security, deploy=True)
def base_url_is_public(app_configs=None, **kwargs) -> list[CheckMessage]:
    """E-mails (transfers, reviews, mentions) and share links are absolute links on
    ``JOURNEYHUB_BASE_URL``; left at its development default they point at the reader's
    own computer."""
    url = settings.JOURNEYHUB_BASE_URL
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname not in LOOPBACK_HOSTS:
        return []
    return [
        Warning(
            f"JOURNEYHUB_BASE_URL is {url!r}: links in e-mails and share links would "
            "not open for anyone else.",
            hint="Set JOURNEYHUB_BASE_URL to the site's public address, "
            "e.g. https://journeyhub.example.com.",
            id="governance.W001",
        )
    ]


@register(Tags.database)
def derived_data_triggers_installed(
    app_configs=None, databases=None, **kwargs
) -> list[CheckMessage]:
    """The derived data kept by database triggers (``maps.derived``) goes stale without an
    error when a trigger is missing (a restore without them, a table rebuilt by hand).
    Database checks run with ``check --database default`` and before ``migrate``."""
    from maps import derived

    messages: list[CheckMessage] = []
    for alias in databases or ():
        problems = derived.differences(alias)
        if problems:
            messages.append(
                Warning(
                    f"Derived-data triggers of database {alias!r} differ from their "
                    f"declaration ({'; '.join(problems)}): KPI latest values, pain point "
                    "counts or stored health may be stale.",
                    hint="Run manage.py migrate, or manage.py rebuild_derived_data.",
                    id="governance.W002",
                )
            )
    return messages
