from django.core.management.base import BaseCommand

from twins.demo import demo_logins, seed_demo


class Command(BaseCommand):
    help = "Create the demo plant, its catalogue, the demo users and a scenario under review (idempotent)."

    def handle(self, *args, **options):
        result = seed_demo()
        factory = result["factory"]
        verb = "Created" if result["created"] else "Already present:"
        self.stdout.write(self.style.SUCCESS(f"{verb} {factory.name} ({factory.slug}), baseline layout {factory.baseline_layout_id}"))
        if result["scenario"] is not None:
            scenario = result["scenario"]
            self.stdout.write(f"Scenario in review: {scenario.name} (layout {scenario.id}); a run of it and of the baseline is "
                              "queued for the Celery worker, so the review compares both.")
        self.stdout.write("Demo logins (username / password / role):")
        for username, password, role in demo_logins():
            self.stdout.write(f"  {username:8} / {password:8}  {role}")
