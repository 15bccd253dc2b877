"""Waiting in the page for things that raise no event, such as WebRTC statistics.

``RTCPeerConnection.getStats()`` is a promise and fires nothing when a frame is decoded, so the
page itself reads it on a short timer and records the first value that satisfies the test's
predicate; the test waits for that record with Playwright's own ``wait_for_function``. The Python
side never sleeps, and a slow machine only makes the wait longer, up to the timeout.
"""

from __future__ import annotations

import itertools
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

_probes = itertools.count()


def wait_for_probe(page: Any, probe: str, predicate: str, timeout_s: float = 40.0) -> Any:
    """Run ``probe`` (a JS function, may be async) in ``page`` until ``predicate`` (a JS function of
    its value) holds, and return that value; on timeout return the probe's last value, so the
    caller's assertion can show what was seen."""
    key = f"__tryggProbe{next(_probes)}"
    page.evaluate(
        f"""() => {{
  const probe = {probe};
  const satisfied = {predicate};
  window.{key} = {{ done: false, last: null }};
  const tick = async () => {{
    let value = null;
    try {{ value = await probe(); }} catch (error) {{ value = null; }}
    window.{key}.last = value;
    if (value !== null && satisfied(value)) {{ window.{key}.done = true; return; }}
    setTimeout(tick, 200);
  }};
  tick();
}}"""
    )
    try:
        page.wait_for_function(f"() => window.{key} && window.{key}.done", timeout=timeout_s * 1000)
    except PlaywrightTimeoutError:
        pass
    return page.evaluate(f"() => window.{key} ? window.{key}.last : null")
