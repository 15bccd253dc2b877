"""axe-core in the browser tests: the npm package's own script, injected into the page under test.

``make axe`` installs it from ``tests/e2e/axe/package-lock.json``. Injected through the DevTools
protocol (Playwright's evaluate), so the page's Content-Security-Policy, which allows only
Trygg's own scripts, stays as it is.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"

RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


@cache
def _source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"axe-core is missing at {AXE}: run `make axe`")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Return axe-core's violations (default rule set, every impact) on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source() + "\n;true")
    return page.evaluate(RUN)
