"""Who may read the OpenAPI schema and its docs pages (CLEANINBOX_API_DOCS).

``public``: anyone; ``authenticated``: a logged-in user or an API token (default);
``off``: the pages answer 404 as if they did not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from rest_framework.permissions import BasePermission


class DocsAccess(BasePermission):
    def has_permission(self, request, view) -> bool:
        mode = settings.CLEANINBOX_API_DOCS
        if mode == "off":
            raise Http404("API documentation is switched off")
        if mode == "public":
            return True
        return bool(request.user and request.user.is_authenticated)
