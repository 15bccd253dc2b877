"""R-A11Y-01: the web interface meets WCAG 2.1 AA, checked in Chromium on every page a person reaches.

For each role (kari.4a, mor.emma, emma.4a, rektor) the test signs in, starts at the home page and
crawls: the home page's same-origin links (its navigation and content), plus /guidelines/ and
/messages/, and one level further from those pages (pages that differ only in an id are visited
once). It visits whatever exists, so pages other apps add later are checked without changing the
test. On each page it runs its own checks (no downloaded tools):

- the document's language is set (3.1.1); exactly one h1, and headings never skip a level (1.3.1);
- every form control has an accessible name (label, aria-label or aria-labelledby; 1.3.1, 4.1.2);
- images have alt text, buttons and links have a name (1.1.1, 2.4.4, 4.1.2);
- a main and a nav landmark (1.3.1, 2.4.1); no positive tabindex (2.4.3);
- each element reached with Tab shows a visible focus indicator (2.4.7);
- text contrast of at least 4.5:1, 3:1 for large text, from the computed colours (1.4.3);
- at 320 CSS pixels wide nothing scrolls sideways (1.4.10).

A first test runs the same checks on a page built with one violation of each kind, so a check that
silently stopped finding anything fails the suite.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

pytestmark = pytest.mark.e2e

ROLES = ("kari.4a", "mor.emma", "emma.4a", "rektor")
ALWAYS = ("/guidelines/", "/messages/")
# Links that are not pages to check: actions, downloads, the admin, the API, files.
SKIP = re.compile(
    r"^/(logout|i18n|admin|api|static|media|healthz)(/|$)|\.(ics|zip|pdf|csv|json|txt)$|/(export|download)(/|$)"
)
MAX_PAGES_PER_ROLE = 40
# Findings in files this test's author may not change (the shell, other apps' pages), reported to
# their owners with the fix: (path pattern, check, element, where and how to fix). They are tolerated
# while they occur, so the test guards everything else, and printed as a warning on every run.
# Delete an entry when its fix is in; the list should only shrink.
ELSEWHERE: tuple[tuple[str, str, str, str], ...] = ()
MAX_TABS = 40
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 640}

# The checks, run inside the page. Each finding is {check, element, detail}.
STATIC_CHECKS = r"""
() => {
  const findings = [];
  const describe = (el) => {
    if (!el || !el.tagName) return String(el);
    let d = el.tagName.toLowerCase();
    if (el.id) d += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) d += '.' + el.className.trim().split(/\s+/).join('.');
    for (const a of ['name', 'type', 'href', 'data-testid']) {
      if (el.getAttribute(a)) d += `[${a}="${el.getAttribute(a)}"]`;
    }
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim();
    if (text) d += ' "' + text.slice(0, 40) + '"';
    return d;
  };
  const add = (check, el, detail) => findings.push({check, element: describe(el), detail: detail || ''});
  const rendered = (el) => {
    if (!el.getClientRects().length) return false;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.visibility === 'hidden' || s.display === 'none') return false;
    }
    return true;
  };
  // Visually hidden (clipped to 1px) text is for screen readers: no contrast to check.
  const clipped = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      const r = n.getBoundingClientRect();
      if ((s.clip && s.clip !== 'auto') || (s.clipPath && s.clipPath !== 'none')) return true;
      if (s.position === 'absolute' && r.width <= 1 && r.height <= 1) return true;
      if (parseFloat(s.opacity) === 0) return true;
    }
    return false;
  };
  const textOf = (el) => (el ? (el.textContent || '').replace(/\s+/g, ' ').trim() : '');
  const byIds = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean);
  const nameOf = (el) => {
    const labelledby = el.getAttribute('aria-labelledby');
    if (labelledby && byIds(labelledby).map(textOf).join(' ').trim()) return 'aria-labelledby';
    if ((el.getAttribute('aria-label') || '').trim()) return 'aria-label';
    if (el.labels && [...el.labels].some((l) => textOf(l))) return 'label';
    if ((el.getAttribute('title') || '').trim()) return 'title';
    return '';
  };

  // 3.1.1 language of the page
  if (!(document.documentElement.getAttribute('lang') || '').trim()) {
    add('lang', document.documentElement, 'html has no lang');
  }

  // 1.3.1 one h1, headings in order
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading][aria-level]')]
    .filter(rendered);
  const h1s = headings.filter((h) => h.tagName === 'H1' || h.getAttribute('aria-level') === '1');
  if (h1s.length !== 1) add('one-h1', document.body, `${h1s.length} h1 elements`);
  let previous = 0;
  for (const h of headings) {
    const level = /^H\d$/.test(h.tagName) ? Number(h.tagName[1]) : Number(h.getAttribute('aria-level'));
    if (previous && level > previous + 1) add('heading-order', h, `h${previous} followed by h${level}`);
    if (!textOf(h)) add('heading-empty', h, 'heading without text');
    previous = level;
  }

  // 1.3.1 / 4.1.2 form controls have an accessible name
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (type === 'hidden') continue;
    if (['submit', 'reset', 'button'].includes(type)) {
      if (!(el.value || '').trim() && !nameOf(el)) add('control-name', el, `input type=${type} without a value`);
      continue;
    }
    if (type === 'image') {
      if (!(el.getAttribute('alt') || '').trim() && !nameOf(el)) add('control-name', el, 'image input without alt');
      continue;
    }
    if (!nameOf(el)) add('control-name', el, 'no label, aria-label or aria-labelledby');
  }

  // 1.1.1 images
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt') && !nameOf(img) && img.getAttribute('role') !== 'presentation') {
      add('img-alt', img, 'img without alt');
    }
  }
  for (const svg of document.querySelectorAll('svg[role=img]')) {
    if (!nameOf(svg) && !svg.querySelector('title')) add('img-alt', svg, 'svg role=img without a name');
  }

  // 2.4.4 / 4.1.2 buttons and links have a name
  const hasName = (el) => textOf(el) || nameOf(el) || [...el.querySelectorAll('img[alt]')].some((i) => i.alt.trim());
  for (const el of document.querySelectorAll('button, [role=button], a[href], [role=link]')) {
    const kind = el.tagName === 'A' || el.getAttribute('role') === 'link' ? 'link-name' : 'button-name';
    if (!hasName(el)) add(kind, el, 'no text or label');
  }

  // 1.3.1 / 2.4.1 landmarks
  const mains = document.querySelectorAll('main, [role=main]');
  if (mains.length !== 1) add('landmark-main', document.body, `${mains.length} main landmarks`);
  if (!document.querySelector('nav, [role=navigation]')) add('landmark-nav', document.body, 'no nav landmark');

  // 2.4.3 focus order: no positive tabindex
  for (const el of document.querySelectorAll('[tabindex]')) {
    if (Number(el.getAttribute('tabindex')) > 0) add('tabindex', el, `tabindex=${el.getAttribute('tabindex')}`);
  }

  // 1.4.3 contrast of text against what is behind it
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
  });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage && s.backgroundImage !== 'none') return null; // cannot compute; not judged
      const c = parse(s.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let result = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) result = over(layers[i], result);
    return result;
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue.trim()) continue;
    const el = node.parentElement;
    if (!el || seen.has(el)) continue;
    seen.add(el);
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION'].includes(el.tagName)) continue;
    if (!rendered(el) || clipped(el)) continue;
    if (el.closest(':disabled, [aria-disabled=true]')) continue; // inactive controls are exempt
    const s = getComputedStyle(el);
    const bg = background(el);
    const fg0 = parse(s.color);
    if (!bg || !fg0) continue;
    const fg = fg0.a < 1 ? over(fg0, bg) : fg0;
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    const behind = `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`;
    if (ratio + 1e-6 < needed) add('contrast', el, `${ratio.toFixed(2)}:1 < ${needed}:1 (${s.color} on ${behind})`);
  }
  return findings;
}
"""

# Record how every focusable element looks before it has focus, and give each an index.
FOCUS_BASELINE = r"""
() => {
  const props = ['outlineStyle', 'outlineWidth', 'outlineColor', 'boxShadow', 'borderTopColor', 'borderBottomColor',
                 'borderBottomWidth', 'backgroundColor', 'color', 'textDecorationLine'];
  // An autofocused control must not be measured while focused: that would make its focus style
  // the baseline, and the check would then see no change when Tab reaches it.
  document.activeElement && document.activeElement.blur && document.activeElement.blur();
  const all = document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]');
  window.__a11yBaseline = [];
  all.forEach((el, i) => {
    el.dataset.a11yIndex = String(i);
    const s = getComputedStyle(el);
    window.__a11yBaseline[i] = Object.fromEntries(props.map((p) => [p, s[p]]));
  });
  document.activeElement && document.activeElement.blur && document.activeElement.blur();
  return all.length;
}
"""

# After a Tab: is the focused element's indicator visible (an outline, or a changed shadow/border/colour)?
FOCUS_CHECK = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  let d = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
  for (const a of ['name', 'href', 'type']) if (el.getAttribute(a)) d += `[${a}="${el.getAttribute(a)}"]`;
  const text = (el.textContent || el.value || '').replace(/\s+/g, ' ').trim();
  if (text) d += ' "' + text.slice(0, 30) + '"';
  const before = (window.__a11yBaseline || [])[Number(el.dataset.a11yIndex)];
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1;
  let changed = false;
  if (before) {
    changed = s.boxShadow !== before.boxShadow || s.borderTopColor !== before.borderTopColor
      || s.borderBottomColor !== before.borderBottomColor || s.borderBottomWidth !== before.borderBottomWidth
      || s.backgroundColor !== before.backgroundColor || s.color !== before.color
      || s.textDecorationLine !== before.textDecorationLine
      || (outline && (s.outlineStyle !== before.outlineStyle || s.outlineWidth !== before.outlineWidth
          || s.outlineColor !== before.outlineColor));
  } else {
    changed = outline || (s.boxShadow && s.boxShadow !== 'none');
  }
  const r = el.getBoundingClientRect();
  const seen = r.width > 1 && r.height > 1;
  return {element: d, index: el.dataset.a11yIndex || '', visible: changed && seen,
          detail: `outline ${s.outlineStyle} ${s.outlineWidth}, box-shadow ${s.boxShadow}, `
            + `size ${Math.round(r.width)}x${Math.round(r.height)}`};
}
"""

# 1.4.10 reflow: nothing wider than the viewport at 320 CSS pixels.
REFLOW_CHECK = r"""
() => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  if (doc.scrollWidth <= width + 1) return [];
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && getComputedStyle(el).position !== 'fixed') {
      // Report the outermost offenders only.
      if (!wide.some((w) => w.contains(el))) wide.push(el);
    }
  }
  return wide.slice(0, 5).map((el) => ({
    check: 'reflow-320',
    element: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : ''),
    detail: `page is ${doc.scrollWidth}px wide at ${width}px; `
      + `element right edge ${Math.round(el.getBoundingClientRect().right)}px`,
  }));
}
"""


def check_page(page: Any) -> list[dict[str, str]]:
    """Return every finding on the page as loaded (desktop width, then 320 px wide)."""
    page.set_viewport_size(DESKTOP)
    findings: list[dict[str, str]] = list(page.evaluate(STATIC_CHECKS))
    findings += check_focus(page)
    page.set_viewport_size(NARROW)
    page.wait_for_function(f"() => window.innerWidth === {NARROW['width']}")
    findings += page.evaluate(REFLOW_CHECK)
    page.set_viewport_size(DESKTOP)
    return findings


def check_focus(page: Any) -> list[dict[str, str]]:
    """Tab through the page (up to ``MAX_TABS`` stops); each stop must show where focus is."""
    if not page.evaluate(FOCUS_BASELINE):
        return []
    findings = []
    seen: set[str] = set()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_CHECK)
        if stop is None:
            break
        key = stop["index"] or stop["element"]
        if key in seen:
            break  # wrapped round to the start
        seen.add(key)
        if not stop["visible"]:
            findings.append({"check": "focus-visible", "element": stop["element"], "detail": stop["detail"]})
    return findings


def pattern_of(path: str) -> str:
    """Return the path with ids replaced, so /messages/7/ and /messages/8/ count as one page."""
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def same_origin_links(page: Any, origin: str) -> list[str]:
    """Return the paths of the page's same-origin links that lead to pages (not actions or files)."""
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('a[href]')]"
        ".filter((a) => !a.hasAttribute('download') && (!a.target || a.target === '_self'))"
        ".map((a) => a.href)"
    )
    paths = []
    for href in hrefs:
        url, _fragment = urldefrag(href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return list(dict.fromkeys(paths))


def visit(page: Any, path: str) -> bool:
    """Open ``path``; return whether it is an HTML page that answered 200."""
    response = page.goto(path, wait_until="load")
    if response is None or response.status != 200:
        return False
    if "text/html" not in (response.headers.get("content-type") or ""):
        return False
    # The page's modules have run by "load"; wait until their first render has been painted.
    page.wait_for_function("() => new Promise((done) => requestAnimationFrame(() => done(true)))")
    return True


def crawl(page: Any, origin: str) -> dict[str, list[dict[str, str]]]:
    """Check the home page, the pages it links to plus /guidelines/ and /messages/, and one level more."""
    results: dict[str, list[dict[str, str]]] = {}
    patterns: set[str] = set()
    queue: list[tuple[str, int]] = [("/", 0)] + [(p, 1) for p in ALWAYS]
    while queue and len(results) < MAX_PAGES_PER_ROLE:
        path, depth = queue.pop(0)
        if pattern_of(path) in patterns:
            continue
        patterns.add(pattern_of(path))
        if not visit(page, path):
            continue
        if depth < 2:
            queue += [(link, depth + 1) for link in same_origin_links(page, origin)]
        results[path] = check_page(page)
    return results


def known_elsewhere(path: str, finding: dict[str, str]) -> str | None:
    """Return where a finding is to be fixed if it is a listed one in a file this test does not own."""
    for pattern, check, element, fix in ELSEWHERE:
        if finding["check"] == check and finding["element"].startswith(element) and re.search(
            pattern, pattern_of(path.split("?")[0])
        ):
            return fix
    return None


def report(role: str, results: dict[str, list[dict[str, str]]]) -> str:
    lines = [f"{role}: WCAG 2.1 AA findings on {sum(1 for f in results.values() if f)} of {len(results)} pages"]
    for path, findings in results.items():
        for f in findings:
            lines.append(f"  {path}  [{f['check']}]  {f['element']}  {f['detail']}")
    return "\n".join(lines)


def test_r_a11y_01_the_checks_find_each_kind_of_violation(page: Any) -> None:
    """On a page built with one violation of each kind, every check reports it (the checks are not vacuous);
    a clean page gives no findings."""
    page.set_content("""
      <html><head><style>
        body { background: #fff; color: #000; font-size: 16px; }
        .faint { color: #aaa; }
        .bare:focus { outline: none; }
        .wide { width: 900px; }
      </style></head><body>
        <h1>One</h1><h1>Two</h1><h2>Section</h2><h4>Skipped</h4>
        <input id="nameless" type="text">
        <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
        <button id="empty"></button>
        <a class="bare" href="/somewhere">bare link</a>
        <span tabindex="3">positive</span>
        <p class="faint">Low contrast text</p>
        <div class="wide">wide</div>
      </body></html>""")
    checks = {f["check"] for f in check_page(page)}
    expected = {"lang", "one-h1", "heading-order", "control-name", "img-alt", "button-name", "landmark-main",
                "landmark-nav", "tabindex", "focus-visible", "contrast", "reflow-320"}
    assert expected <= checks, f"not found: {sorted(expected - checks)}"
    page.set_content("""
      <html lang="en"><head><style>
        body { background: #fff; color: #1b1f24; }
        a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; }
      </style></head><body>
        <nav aria-label="Main"><a href="/">Home</a></nav>
        <main><h1>Title</h1><h2>Part</h2><label for="q">Search</label><input id="q">
        <button>Go</button><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""></main>
      </body></html>""")
    assert check_page(page) == []


@pytest.mark.parametrize("role", ROLES)
def test_r_a11y_01_every_page_reached_from_the_navigation_meets_wcag_2_1_aa(
    signed_in_page: Callable[[str], Any], live_server_url: str, role: str
) -> None:
    """Signed in as ``role``, every page reached from the home page (and /guidelines/, /messages/, and the
    pages they link to) passes the checks above; the failure lists page, check, element and detail."""
    page = signed_in_page(role)
    results = crawl(page, live_server_url)
    assert "/" in results and "/guidelines/" in results and "/messages/" in results, sorted(results)
    tolerated = {}
    for path, findings in results.items():
        results[path] = [f for f in findings if not known_elsewhere(path, f)]
        tolerated.update({known_elsewhere(path, f): path for f in findings if known_elsewhere(path, f)})
    for fix, path in tolerated.items():
        warnings.warn(f"R-A11Y-01 known finding (e.g. {path}), to fix in {fix}", stacklevel=1)
    assert not any(results.values()), report(role, results)
