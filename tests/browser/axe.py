"""Accessibility checks with axe-core in real Chromium: no serious or critical violation on a page.

axe-core comes from the npm registry and is kept beside the tests (``vendor/``), so the check
needs no network; it is injected into the page under test, never served by the application.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SERIOUS = {"serious", "critical"}


@functools.cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Any, *, impacts: set[str] = SERIOUS) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on ``page`` as it is now, of the given impacts."""
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
    # govern (a <script> tag would be refused by script-src 'self', as it should be).
    page.evaluate(_source())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_accessible(page: Any) -> None:
    """Fail with a readable list when axe finds a serious or critical violation."""
    found = violations(page)
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']} -- {', '.join(str(n['target']) for n in v['nodes'][:5])}"
        for v in found
    ]
    assert not found, f"axe-core violations on {page.url}:\n" + "\n".join(lines)
