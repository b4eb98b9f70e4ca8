"""The report page in a real browser: Debian's Chromium, headless, driven by Playwright.

The page is opened from a file with networking off; the test checks what an engineer
sees first (the impact, the story, the timeline zoomed on the first violation), that
the timeline zooms out to the whole run, and that the page is whole: every in-page
link lands on an element, nothing is fetched, nothing is logged as an error.

Needs /usr/bin/chromium (``.ci/install-chromium``, run by ``make test``) and the
``playwright`` package (the dev extra). Without them the test is skipped on a
developer machine and fails under CI=true. Set DNSCHAOS_REPORT_SCREENSHOT=PATH to
keep a 1200x800 screenshot of the page's top (the README's docs/report.png).
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from dnschaos.cli import main

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"browser missing under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} not found (bash .ci/install-chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def legacy_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, dict[str, Any]]:
    d = tmp_path_factory.mktemp("report")
    result, history, page = d / "legacy.json", d / "legacy.jsonl", d / "legacy.html"
    run = ["run", "incident-2025", "--variant", "legacy", "--seed", "7", "-q"]
    assert main([*run, "--json", str(result), "--history", str(history)]) == 1
    assert main(["report", str(result), "--history", str(history), "-o", str(page)]) == 0
    return page, json.loads(result.read_text())


def _view(page: Any) -> tuple[float, float]:
    got = page.evaluate(
        "() => { const s = document.getElementById('timeline');"
        " return [+s.getAttribute('data-view-start'), +s.getAttribute('data-view-end')]; }"
    )
    return float(got[0]), float(got[1])


def _labels_overlap(page: Any) -> list[str]:
    return list(
        page.evaluate(
            """() => {
              const boxes = [...document.querySelectorAll('#timeline .vlabel')]
                .map(t => [t.textContent, t.getBoundingClientRect()]);
              const out = [];
              for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const [a, p] = boxes[i], [b, q] = boxes[j];
                if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom)
                  out.push(a + ' / ' + b);
              }
              return out;
            }"""
        )
    )


def test_the_legacy_report_shows_the_failure_first(
    browser: Any, legacy_page: tuple[pathlib.Path, dict[str, Any]]
) -> None:
    path, result = legacy_page
    first = min(result["violations"], key=lambda v: v["t"])
    run_length = result["virtual_seconds"]
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(path.as_uri())

    # What clients (here: Route 53) served comes first, above the fold.
    impact = page.locator("#impact")
    assert impact.is_visible() and impact.bounding_box()["y"] < 300
    assert "served plan 1, older than plan 7" in impact.inner_text()
    story = page.locator("#story li")
    assert story.count() >= 3 and "flipped the root to plan 1" in page.inner_text("#story")

    # The timeline opens on the first violation's window, widened back to the first entry
    # its story names (the cause), and ends soon after the violation.
    start, end = _view(page)
    assert 0 < start <= first["t"] <= end
    assert end - first["t"] < run_length / 4
    line = page.locator("#timeline .vline.first").bounding_box()
    svg = page.locator("#timeline").bounding_box()
    assert line is not None and svg is not None
    assert svg["x"] + 200 < line["x"] < svg["x"] + svg["width"]

    # A lane per actor, with its calls and the locks it believed it held.
    lanes = page.eval_on_selector_all(
        "#timeline .lane-actor", "ts => ts.map(t => t.getAttribute('data-lane'))"
    )
    assert {"enactor-a", "enactor-b", "enactor-c", "planner"} <= set(lanes)
    assert page.locator("#timeline rect.call").count() > 10
    assert page.locator("#timeline rect.lock").count() >= 1
    assert page.locator("#timeline rect.fault").count() == 1  # enactor-c-slow-route53
    assert _labels_overlap(page) == []

    # Zooming out shows the whole run; the first-violation button comes back.
    page.click("[data-zoom=all]")
    start, end = _view(page)
    assert start <= 0.0 and end >= run_length
    assert _labels_overlap(page) == []
    box = page.locator("#timeline").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + 60)
    page.mouse.wheel(0, -400)  # wheel up: zoom in around the cursor
    page.wait_for_function(
        f"+document.getElementById('timeline').getAttribute('data-view-end') - "
        f"+document.getElementById('timeline').getAttribute('data-view-start') < {end - start}"
    )
    page.click("[data-zoom=story]")  # from the story's first line to the violation
    start, end = _view(page)
    told = [
        float(t)
        for t in page.eval_on_selector_all(
            "#story [data-jump]", "as => as.map(a => a.getAttribute('data-jump'))"
        )
    ]
    assert start <= min(told) and max(told) <= end
    page.click("[data-zoom=focus]")
    start, end = _view(page)
    assert 0 < start <= first["t"] <= end and end - first["t"] < run_length / 4

    # Every in-page link, in the HTML and inside the SVG, lands on an element.
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('a[href]')]
             .map(a => a.getAttribute('href'))
             .filter(h => !h.startsWith('#') || !document.getElementById(h.slice(1)))"""
    )
    assert dangling == []
    assert page.locator(f"#violations a[href='#seq-{first['seq']}']").count() == 1
    assert page.locator(f"#seq-{first['seq']}").count() == 1

    reproduce = page.inner_text("#reproduce")
    assert reproduce.strip() == result["reproduce"]
    assert "--seed 7" in reproduce
    assert "dnspython" in page.inner_text("table.versions")

    assert errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in fetched), fetched

    shot = os.environ.get("DNSCHAOS_REPORT_SCREENSHOT")
    page.click("[data-zoom=focus]")
    page.screenshot(path=shot or str(path.with_suffix(".png")))
    page.close()
