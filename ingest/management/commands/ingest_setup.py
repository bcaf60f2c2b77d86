"""Prepare a fresh installation: migrate, the folders, the default inbox and
its schedule, the engine's other schedules, an admin login.

``migrate`` creates no schedule: this command does, once; staff own them
afterwards.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ingest import conf, services, storage


class Command(BaseCommand):
    help = _(
        "Migrate; create the inbox folders, the default inbox with its scan "
        "schedule, the retention and preview-expiry schedules, and an admin user "
        "(from DJANGO_SUPERUSER_USERNAME/PASSWORD, or a generated password it "
        "prints). Safe to run again."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        for folder in (conf.inbox_dir(), conf.archive_dir(), conf.failed_dir()):
            folder.mkdir(parents=True, exist_ok=True)
        storage.processing_dir(conf.inbox_dir()).mkdir(exist_ok=True)
        inbox = services.inbox_default()
        if inbox.periodic_task_id is None:
            services.inbox_save(inbox=inbox)
            self.stdout.write(
                gettext(
                    "Created the default inbox %(name)s (%(path)s), scanned every "
                    "%(seconds)s s."
                )
                % {
                    "name": repr(inbox.name),
                    "path": inbox.path,
                    "seconds": conf.scan_interval(),
                }
            )
        if services.retention_schedule_ensure():
            self.stdout.write(
                gettext(
                    'Created the daily "Apply retention" schedule (03:30; deletes '
                    "nothing unless INGEST_ARCHIVE_KEEP_DAYS or "
                    "INGEST_LEDGER_KEEP_DAYS is set)."
                )
            )
        if services.previews_schedule_ensure():
            self.stdout.write(
                gettext(
                    'Created the hourly "Expire previews" schedule '
                    "(INGEST_PREVIEW_KEEP)."
                )
            )
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(
                gettext("Admin user %(name)s exists.") % {"name": repr(username)}
            )
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(
            12
        )
        users.create_superuser(username=username, email="", password=password)
        # An empty variable (docker-compose passes one through) means "generate".
        from_env = bool(os.environ.get("DJANGO_SUPERUSER_PASSWORD"))
        shown = gettext("(from env)") if from_env else password
        self.stdout.write(
            gettext("Created admin user %(name)s with password %(password)s")
            % {"name": repr(username), "password": shown}
        )
