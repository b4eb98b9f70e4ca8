"""Reports of a result: the HTML page (:mod:`.page`) and the static plot (:mod:`.plots`)."""

from __future__ import annotations

from dnschaos.report.page import (
    describe_entry,
    fault_rows,
    focus_window,
    impact_lines,
    render_html,
    timeline_data,
    workload_png,
    worst,
)
from dnschaos.report.plots import timeline_png

__all__ = [
    "describe_entry",
    "fault_rows",
    "focus_window",
    "impact_lines",
    "render_html",
    "timeline_data",
    "timeline_png",
    "workload_png",
    "worst",
]
