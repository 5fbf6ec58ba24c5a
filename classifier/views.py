"""The email page's "Why this intent" panel: fetched by htmx when the agent opens it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from classifier import explanations
from inbox.models import Email

HIGHLIGHTS = 5  # words marked as weighing for the label, most first


@login_required
@require_GET
def explanation(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel's body (an htmx fragment): highlighted words, neighbours, the flag form."""
    email = get_object_or_404(Email, pk=pk)
    result = explanations.explanation_for(email)
    return render(request, "inbox/_explanation_body.html", panel_context(email, result))


@login_required
@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent says the explanation misleads; htmx swaps in a thank-you, else redirect."""
    email = get_object_or_404(Email, pk=pk)
    version = request.POST.get("model_version", "").strip()
    if not version:
        return HttpResponse("Which model version's explanation?", status=400)
    explanations.flag(email, request.user, version, request.POST.get("reason", "").strip())
    if request.htmx:
        return render(request, "inbox/_explanation_flagged.html", {"email": email})
    messages.success(request, "Thanks: the explanation is flagged for review.")
    return redirect(reverse("inbox:email", args=[email.pk]))


def panel_context(email: Email, result: explanations.Result) -> dict:
    payload = result.payload
    pieces = payload.get("pieces") or []
    strongest = max((abs(p["weight"]) for p in pieces if p.get("weight") is not None), default=0)
    base = payload.get("probability")
    marked = [
        {**piece, "style": _style(piece, strongest), "title": _without(base, piece.get("without")),
         "top": (piece.get("rank") or 99) <= HIGHLIGHTS and (piece.get("weight") or 0) > 0}
        for piece in pieces
    ]  # fmt: skip
    top_words = [
        {**w, "title": _without(base, w.get("without")),
         "share": round(100 * w["weight"] / strongest) if strongest else 0}
        for w in payload.get("top_words") or []
    ]  # fmt: skip
    return {
        "email": email,
        "result": result,
        "pieces": marked,
        "top_words": top_words,
        "unread_from": payload.get("unread_from"),
        "disagrees": bool(payload) and payload.get("label") != email.predicted_intent,
        "other_version": result.model_version and result.model_version != email.model_version,
    }


def _without(base: float | None, without: float | None) -> str:
    """What leaving the word out does to the label's probability, for a tooltip."""
    if base is None or without is None:
        return ""
    return f"without it: {base:.1%} → {without:.1%}"


def _style(piece: dict, strongest: float) -> str:
    """Background strength in proportion to the word's weight: blue for, orange against."""
    weight = piece.get("weight")
    if weight is None or strongest <= 0 or abs(weight) < 0.005:
        return ""
    alpha = min(1.0, abs(weight) / strongest) * 0.55 + 0.08
    colour = "31, 95, 191" if weight > 0 else "214, 110, 0"
    return f"background: rgba({colour}, {alpha:.2f})"
