"""Screenshots of Trygg's main journeys for each role, size and language: ``make screens``.

Starts ``trygg serve`` on a fresh demo database of its own (a temporary directory), writes a little
content through the JSON API (a conversation, a classmate's message reported by emma.4a, a case the
school is acting on, a development talk), then drives Debian's Chromium through each role's pages at
390×844 and 1280×800 in nb, da and en. Each PNG is reduced to a 64-colour palette with Pillow, so
the folder stays small enough to commit; ``docs/screens/README.md`` indexes them.

    python tools/screens.py                       # everything, into docs/screens/
    python tools/screens.py --roles pupil --sizes phone --languages en --out /tmp/screens
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import free_port, wait_until_serving  # noqa: E402
from tests.e2e.api_calls import call  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
LANGUAGES = ("nb", "da", "en")
# A phone screenshot shows at most this many screens of a long page; a desktop one, the window.
PHONE_SCREENS = 2
COLOURS = 64
# The page's modules have run by "load"; this waits until their first render has been painted.
PAINTED = "() => new Promise((done) => requestAnimationFrame(() => done(true)))"


@dataclass
class World:
    """The ids of what the setup wrote, for the pages to open."""

    channel: int = 0
    direct: int = 0
    nasty: int = 0
    case: int = 0
    meeting: int = 0
    class_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# Each role: (demo account, [(file name, title, path)]). Paths may name the world's ids.
ROLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "pupil": ("emma.4a", [
        ("home", "Home", "/"),
        ("messages", "Messages", "/messages/"),
        ("class-channel", "The class channel", "/messages/{channel}/"),
        ("show-an-adult", "Show an adult (the report dialog)", "/cases/report/?message={nasty}"),
        ("my-case", "Her own case page", "/cases/{case}/"),
        ("guidelines", "The guidelines in short", "/guidelines/short/"),
        ("profile", "Profile", "/me/"),
    ]),
    "guardian": ("mor.emma", [
        ("home", "Home", "/"),
        ("conversation", "A conversation with the contact teacher", "/messages/{direct}/"),
        ("class-list-consent", "Choosing what the class list shows", "/classes/{class_id}/consent/"),
        ("meetings", "Meetings", "/meetings/"),
        ("child-case", "The child's case, as her guardian reads it", "/cases/{case}/"),
        ("guidelines", "The guidelines in short", "/guidelines/short/"),
        ("profile", "Profile", "/me/"),
    ]),
    "teacher": ("kari.4a", [
        ("home", "Home", "/"),
        ("messages", "Messages", "/messages/"),
        ("conversation", "A conversation with a guardian", "/messages/{direct}/"),
        ("class-list", "The class list", "/classes/{class_id}/"),
        ("new-meeting", "Calling a meeting", "/meetings/new"),
        ("meeting", "A development talk", "/meetings/{meeting}/"),
    ]),
    "leader": ("rektor", [
        ("home", "Home", "/"),
        ("open-cases", "Open cases", "/cases/handling/"),
        ("case", "A case file", "/cases/{case}/"),
        ("guidelines", "The rulebook", "/guidelines/"),
        ("profile", "Profile", "/me/"),
    ]),
}


@contextmanager
def live_server() -> Iterator[str]:
    """Run ``trygg serve`` on a fresh demo database; yield its address."""
    data_dir = Path(tempfile.mkdtemp(prefix="trygg-screens-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TRYGG_TEST_DB_NAME")}
    env.update({"TRYGG_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "trygg.settings",
                "TRYGG_RATE_LIMITS": "off"})
    subprocess.run([sys.executable, "-m", "trygg.cli", "seed"], env=env, cwd=REPO, check=True, capture_output=True)
    port = free_port()
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "trygg.cli", "serve", "--port", str(port)],
                               env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, data_dir / "serve.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def token_of(base: str, username: str, otp: str | None = None) -> str:
    body = {"username": username, "password": "demo", **({"otp": otp} if otp else {})}
    return call(base, "POST", "/api/v1/auth/token", body=body)["token"]


# The last TOTP time step each account used: a code is good once, so the next use takes the next
# step's code (the demo device tolerates one step ahead), or waits for a fresh step.
_STEPS_USED: dict[str, int] = {}


def next_code(username: str) -> str:
    """Return a demo account's authenticator code that has not been used yet."""
    import django

    django.setup()
    from trygg.signin.demo import demo_totp_key, totp_code

    while True:
        now_step = int(time.time() // 30)
        step = max(now_step, _STEPS_USED.get(username, -1) + 1)
        if step <= now_step + 1:
            _STEPS_USED[username] = step
            return totp_code(demo_totp_key(username), step_offset=step - now_step)
        time.sleep(1)


def set_up(base: str) -> World:
    """Write the content the pages show, as the people themselves would."""
    world = World()
    kari, mor, noah, emma = (token_of(base, u) for u in ("kari.4a", "mor.emma", "noah.4a", "emma.4a"))
    direct = call(base, "POST", "/api/v1/conversations", kari,
                  {"kind": "direct", "member_usernames": ["mor.emma"], "school_owned": True})
    world.direct = direct["id"]
    for who, text in ((kari, "Hei! Emma var flink i matematikk i dag."), (mor, "Så fint å høre, takk!"),
                      (kari, "Husk gymtøy på torsdag.")):
        call(base, "POST", f"/api/v1/conversations/{world.direct}/messages", who,
             {"body": text, "client_txn_id": f"screens-{hash(text)}"})
    channel = next(c for c in call(base, "GET", "/api/v1/conversations", kari)
                   if c["kind"] == "class" and "4A" in c["title"])
    world.channel = channel["id"]
    announcement = call(base, "POST", f"/api/v1/conversations/{world.channel}/messages", kari,
                        {"body": "Hva gjorde dere i helgen?", "client_txn_id": "screens-ann"})
    call(base, "POST", f"/api/v1/messages/{announcement['id']}/discussion", kari, {"open": True})
    nasty = call(base, "POST", f"/api/v1/conversations/{world.channel}/messages", noah,
                 {"body": "Emma får ikke være med oss", "client_txn_id": "screens-nasty",
                  "reply_to": announcement["id"]})
    world.nasty = nasty["id"]
    world.case = call(base, "POST", "/api/v1/reports", emma,
                      {"message_id": world.nasty, "category": "bullying", "description": "Han sa det i friminuttet"}
                      )["case_id"]
    rektor = token_of(base, "rektor", otp=next_code("rektor"))
    for status in ("assessed", "actions"):
        call(base, "POST", f"/api/v1/cases/{world.case}/transition", rektor, {"to": status})
    starts = (datetime.now().astimezone() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    world.meeting = call(base, "POST", "/api/v1/meetings", kari, {
        "kind": "development_talk", "student_username": "emma.4a", "starts_at": starts.isoformat(),
        "title": "Utviklingssamtale", "invitation_text": "Velkommen til utviklingssamtale på video.",
    })["id"]
    world.class_id = next(c["id"] for c in call(base, "GET", "/api/v1/classes", kari) if c["name"] == "4A")
    return world


def sign_in(page: Any, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    if username == "rektor":
        # The case file needs a recent second factor (R-STAFF-02).
        page.goto("/signin/step-up/?next=/")
        page.fill("#id_otp", next_code(username))
        page.click("[data-testid=otp-form] button")
        page.wait_for_url(lambda url: "/signin/step-up/" not in url)


def shrink(path: Path) -> None:
    """Reduce the screenshot to a palette of ``COLOURS`` colours (text stays sharp, files get small)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def shoot(page: Any, path: Path, size: str) -> None:
    width, height = SIZES[size]
    if size == "phone":
        full = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(path), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": min(full, height * PHONE_SCREENS)})
    else:
        page.screenshot(path=str(path))
    shrink(path)


def run(out: Path, roles: list[str], sizes: list[str], languages: list[str]) -> list[dict[str, Any]]:
    """Take every screenshot asked for; return one row per picture for the index."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with live_server() as base, sync_playwright() as p:
        world = set_up(base)
        ids = {"channel": world.channel, "direct": world.direct, "nasty": world.nasty, "case": world.case,
               "meeting": world.meeting, "class_id": world.class_id}
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for role in roles:
                username, pages = ROLES[role]
                # One browser per person, signed in once; size and language change between rounds.
                context = browser.new_context(base_url=base, locale="nb-NO", reduced_motion="reduce")
                context.set_default_timeout(20_000)
                page = context.new_page()
                sign_in(page, username)
                for size in sizes:
                    width, height = SIZES[size]
                    page.set_viewport_size({"width": width, "height": height})
                    for language in languages:
                        # The language switcher's cookie wins over the person's own language.
                        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                        for index, (name, title, template) in enumerate(pages, start=1):
                            answer = page.goto(template.format(**ids), wait_until="load")
                            if answer is None or answer.status != 200:
                                raise RuntimeError(f"{username} {template}: {answer.status if answer else 'no answer'}")
                            page.wait_for_function(PAINTED)
                            file = f"{role}-{size}-{language}-{index:02d}-{name}.png"
                            shoot(page, out / file, size)
                            rows.append({"role": role, "username": username, "size": size, "language": language,
                                         "index": index, "name": name, "title": title, "file": file})
                context.close()
        finally:
            browser.close()
    return rows


CHANGED = """## What changed most in issue 13

1. `pupil-*-my-case`: the child's own case page says what she chose in her own words, where the case is
   and what happens next in plain words, and who will talk with her; "is it over?" is asked only from
   follow-up (before: the legal category, "Status endret: assessed", and a closing button one minute
   after reporting).
2. `pupil-*-guidelines` and `guardian-*-guidelines`: a short page of cards with a picture each, for a
   9-year-old or a guardian, with the full rulebook one tap away (before: 44 rules on an 18,000-px page).
3. `guardian-*-child-case`: the guardian's view of the same case, with the contact teacher named.
4. `*-profile`: language, push devices, each signed-in browser (signed out from here), notices and the
   data download on one page.
5. `pupil-*-show-an-adult`: the simple report dialog that leads to the case page above.
"""


def write_index(out: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``README.md``: per role, a table of pages by size and language."""
    lines = ["# Trygg's screens", "",
             "Made by `make screens` (tools/screens.py): the demo school, each role's main pages at 390×844 (phone, "
             f"up to {PHONE_SCREENS} screens of a long page) and 1280×800 (desktop window), in nb, da and en. "
             f"Reduced to {COLOURS} colours so the folder stays small.", "", CHANGED]
    by_role: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_role.setdefault(row["role"], []).append(row)
    for role, items in by_role.items():
        combos = sorted({(r["size"], r["language"]) for r in items}, key=lambda c: (list(SIZES).index(c[0]),
                                                                                    LANGUAGES.index(c[1])))
        lines += [f"## {role} ({items[0]['username']})", "",
                  "| page | " + " | ".join(f"{s} {lang}" for s, lang in combos) + " |",
                  "|---|" + "---|" * len(combos)]
        for index in sorted({r["index"] for r in items}):
            first = next(r for r in items if r["index"] == index)
            cells = []
            for size, language in combos:
                match = [r for r in items if r["index"] == index and r["size"] == size and r["language"] == language]
                cells.append(f"[png]({match[0]['file']})" if match else "")
            lines.append(f"| {first['title']} | " + " | ".join(cells) + " |")
        lines.append("")
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", nargs="+", choices=list(ROLES), default=list(ROLES))
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--languages", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trygg.settings")
    # Only the demo's TOTP helper is imported here; the server runs on its own data directory.
    os.environ.setdefault("TRYGG_DATA_DIR", tempfile.mkdtemp(prefix="trygg-screens-tool-"))
    for old in args.out.glob("*.png"):
        old.unlink()
    rows = run(args.out, args.roles, args.sizes, args.languages)
    write_index(args.out, rows)
    total = sum(f.stat().st_size for f in args.out.glob("*.png"))
    print(f"{len(rows)} screenshots, {total / 1e6:.1f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
