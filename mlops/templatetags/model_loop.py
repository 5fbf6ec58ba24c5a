"""``{% model_loop_panel %}``: the loop's panel on the Overview, with its own context."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("inbox/_model_loop.html")
def model_loop_panel() -> dict:
    from mlops.loop_views import panel_context

    return panel_context()
