"""`manage.py ensure_admin`: a first admin account for a fresh install, created once."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user from CLEANINBOX_ADMIN_USER/CLEANINBOX_ADMIN_PASSWORD if no superuser exists."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already.")
            return
        username = os.environ.get("CLEANINBOX_ADMIN_USER", "admin")
        password = os.environ.get("CLEANINBOX_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username, f"{username}@localhost", password)
        shown = (
            "(from CLEANINBOX_ADMIN_PASSWORD)"
            if os.environ.get("CLEANINBOX_ADMIN_PASSWORD")
            else password
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created admin user {username!r} with password {shown}")
        )
