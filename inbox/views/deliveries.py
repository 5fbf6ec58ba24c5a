"""The delivery log (what was handed off where, and what failed), the email page's
hand-off and canned-reply panels, and the retry button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from inbox.handoff import canned, outbox
from inbox.handoff.models import Delivery
from inbox.models import Email

PAGE_SIZE = 50


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    """Every delivery, newest first, filtered by status and kind."""
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    rows = Delivery.objects.select_related("email", "endpoint", "team")
    if status in Delivery.Status.values:
        rows = rows.filter(status=status)
    if kind in Delivery.Kind.values:
        rows = rows.filter(kind=kind)
    counts = dict.fromkeys(Delivery.Status.values, 0)
    counts.update(
        Delivery.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inbox/deliveries.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": [(value, label, counts[value]) for value, label in Delivery.Status.choices],
            "kinds": Delivery.Kind.choices,
            "can_retry": request.user.is_staff,
        },
    )


@login_required
@require_POST
def retry_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed delivery again (staff only: it sends a customer's email out again)."""
    if not request.user.is_staff:
        return HttpResponseForbidden("Only staff may retry deliveries.")
    row = get_object_or_404(Delivery, pk=pk)
    if outbox.retry([row]):
        messages.success(request, f"Delivery to {row.destination} queued again.")
    else:
        messages.warning(request, "Only a failed delivery can be retried.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("inbox:deliveries")
    return redirect(back)


def email_context(email: Email, user) -> dict:
    """What the email page's hand-off and canned-reply panels show."""
    return {
        "deliveries": list(email.deliveries.select_related("endpoint").order_by("created_at")),
        "canned_replies": canned.suggestions(email),
        "can_retry": user.is_staff,
    }
