"""`manage.py verify_audit [--factory SLUG ...]`: recompute every factory's audit chain and hold its end against the
recorded heads; exit 1 if any is broken."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from collaboration.audit import audit_anchor_heads, audit_verify
from twins.models import Factory


class Command(BaseCommand):
    help = ("Verify the hash chain of each factory's audit trail, and that no entry was deleted from its end, "
            "and report the first entry that does not match.")

    def add_arguments(self, parser):
        parser.add_argument("--factory", action="append", metavar="SLUG", help="Only this factory (repeatable).")

    def handle(self, *args, **options):
        factories = Factory.objects.order_by("slug")
        if options["factory"]:
            factories = factories.filter(slug__in=options["factory"])
            missing = set(options["factory"]) - set(factories.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No factory with slug {', '.join(sorted(missing))}.")
        anchors = audit_anchor_heads()  # read the file once for all factories
        broken = 0
        for factory in factories:
            result = audit_verify(factory_id=factory.id, anchors=anchors)
            if result["ok"]:
                self.stdout.write(f"{factory.slug}: ok, {result['checked']} entries")
            else:
                broken += 1
                self.stdout.write(self.style.ERROR(
                    f"{factory.slug}: BROKEN at seq {result['first_bad']} ({result['checked']} entries checked): {result['message']}"))
        self.stdout.write(self._anchor_note(anchors))
        if broken:
            # SystemExit rather than CommandError so that the report above stays the whole output.
            raise SystemExit(1)

    @staticmethod
    def _anchor_note(anchors: dict) -> str:
        """Say what the end of each chain was held against, so that a missing anchor is not mistaken for a clean one."""
        path = settings.AUDIT_ANCHOR_FILE
        if not path:
            return ("Anchor file: off (AUDIT_ANCHOR_FILE is empty); a truncation that also rewrites the database's "
                    "audit heads goes unnoticed.")
        return f"Anchor file: {path} ({len(anchors)} factories anchored)"
