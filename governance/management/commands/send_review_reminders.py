"""``manage.py send_review_reminders``: today's review digests, once per owner and day."""

from django.core.management.base import BaseCommand

from governance.reminders import review_digests, send_review_reminders


class Command(BaseCommand):
    help = "E-mail each owner one digest of their maps due for review (idempotent per day)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List who would be reminded; send nothing."
        )

    def handle(self, *args, **options) -> None:
        if options["dry_run"]:
            for digest in review_digests():
                self.stdout.write(
                    f"{digest.owner.get_username()}: {len(digest.overdue)} overdue, "
                    f"{len(digest.due_soon)} due soon"
                )
            return
        sent = send_review_reminders()
        self.stdout.write(
            self.style.SUCCESS(f"Sent {sent} review digest{'s' if sent != 1 else ''}.")
        )
