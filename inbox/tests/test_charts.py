"""The overview's SVG charts (pure Python)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from inbox import charts


def test_stacked_bars_scale_to_a_round_axis_and_stack_in_order():
    svg = charts.stacked_bars(
        ["Mon", "Tue"],
        [charts.Series("a", [3, 0], "#111"), charts.Series("b", [4, 1], "#222")],
        height=238,
    )
    ET.fromstring(svg)  # well-formed
    assert ">8</text>" in svg and ">4</text>" in svg  # 7 rounds up to 8, middle line at 4
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill', svg)]
    assert heights == [75.0, 100.0, 25.0]  # 200 px for 8 emails; zero segments left out


def test_empty_data_still_draws_an_axis():
    svg = charts.stacked_bars([], [])
    ET.fromstring(svg)
    assert "<rect" not in svg


def test_sparkline_draws_one_bar_per_value():
    svg = charts.sparkline([0, 2, 4], label="x")
    ET.fromstring(svg)
    assert svg.count("<rect") == 3
    assert "<title>4</title>" in svg


def test_labels_are_escaped():
    svg = charts.sparkline([1], label='"><script>')
    assert "<script>" not in svg
    ET.fromstring(svg)
