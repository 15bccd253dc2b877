"""``make screens`` (tools/screens.py): one role, one size, one language, as a quick check that it runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parent.parent


def test_the_screens_script_writes_small_palette_pngs_and_an_index(tmp_path: Path) -> None:
    """The pupil's pages at 390×844 in English: one PNG each, reduced to a palette and small, each
    named in README.md; the index says which pages changed most."""
    from PIL import Image

    out = tmp_path / "screens"
    done = subprocess.run([sys.executable, str(REPO / "tools" / "screens.py"), "--roles", "pupil", "--sizes", "phone",
                           "--languages", "en", "--out", str(out)], capture_output=True, text=True, timeout=300,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs][:2] == ["pupil-phone-en-01-home.png", "pupil-phone-en-02-messages.png"]
    assert any(p.name.endswith("-my-case.png") for p in pngs) and any("guidelines" in p.name for p in pngs)
    for png in pngs:
        with Image.open(png) as image:
            assert image.mode == "P" and image.width == 390 and image.height <= 844 * 2
        assert png.stat().st_size < 150_000, png.name
    index = (out / "README.md").read_text()
    assert set(re.findall(r"\(([^)]+\.png)\)", index)) == {p.name for p in pngs}
    assert "What changed most" in index
