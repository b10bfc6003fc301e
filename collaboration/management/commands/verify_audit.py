"""`manage.py verify_audit [--factory SLUG ...]`: recompute every factory's audit chain; exit 1 if any is broken."""
from django.core.management.base import BaseCommand, CommandError

from collaboration.audit import audit_verify
from twins.models import Factory


class Command(BaseCommand):
    help = "Verify the hash chain of each factory's audit trail and report the first entry that does not match."

    def add_arguments(self, parser):
        parser.add_argument("--factory", action="append", metavar="SLUG", help="Only this factory (repeatable).")

    def handle(self, *args, **options):
        factories = Factory.objects.order_by("slug")
        if options["factory"]:
            factories = factories.filter(slug__in=options["factory"])
            missing = set(options["factory"]) - set(factories.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No factory with slug {', '.join(sorted(missing))}.")
        broken = 0
        for factory in factories:
            result = audit_verify(factory_id=factory.id)
            if result["ok"]:
                self.stdout.write(f"{factory.slug}: ok, {result['checked']} entries")
            else:
                broken += 1
                self.stdout.write(self.style.ERROR(f"{factory.slug}: BROKEN at seq {result['first_bad']} ({result['checked']} entries checked)"))
        if broken:
            # SystemExit rather than CommandError so that the report above stays the whole output.
            raise SystemExit(1)
