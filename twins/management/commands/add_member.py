from django.core.management.base import BaseCommand, CommandError

from twins.errors import ServiceError
from twins.models import Factory, Role
from twins.services.factories import membership_set


class Command(BaseCommand):
    help = "Create the user if missing and give it ROLE in the factory FACTORY_SLUG."

    def add_arguments(self, parser):
        parser.add_argument("factory_slug")
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--password", default=None)

    def handle(self, *args, factory_slug, username, role, password, **options):
        factory = Factory.objects.filter(slug=factory_slug).first()
        if factory is None:
            raise CommandError(f"No factory with slug '{factory_slug}'. Known: {', '.join(Factory.objects.values_list('slug', flat=True)) or 'none'}.")
        try:
            membership = membership_set(factory=factory, username=username, role=role, by=None, password=password, create_user=True)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"{membership.user.username} is now {membership.role} in {factory.name}."))
