"""Draw the app's icons (home screen, maskable, notification badge) with Pillow.

The PNGs are committed under ``web/static/web/icons/``; run ``python -m trygg.web.icons`` after
changing the drawing. Pillow is needed only here, not by the running server.
"""

from __future__ import annotations

from pathlib import Path

ACCENT = (11, 92, 173, 255)  # --accent of trygg.css, also the manifest's theme colour
WHITE = (255, 255, 255, 255)
ICON_DIR = Path(__file__).resolve().parent / "static" / "web" / "icons"
# (file name, size, maskable): a maskable icon keeps its drawing inside the central 80 % circle,
# because launchers crop it to any shape; a plain icon may use the whole square.
ICONS = (
    ("icon-192.png", 192, False),
    ("icon-512.png", 512, False),
    ("maskable-192.png", 192, True),
    ("maskable-512.png", 512, True),
    ("badge-96.png", 96, None),
)


def draw_icon(size: int, maskable: bool | None) -> object:
    """Return a PIL image: a house-shaped shield on the accent colour (None: monochrome badge)."""
    from PIL import Image, ImageDraw

    scale = 4  # draw large and shrink, for smooth edges without an antialiasing library
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable is None:
        ink = WHITE
        inset = 0.08
    elif maskable:
        draw.rectangle((0, 0, big, big), fill=ACCENT)
        ink, inset = WHITE, 0.26
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=ACCENT)
        ink, inset = WHITE, 0.18
    lo, hi = big * inset, big * (1 - inset)
    mid, span = big / 2, hi - lo
    roof = lo + span * 0.42
    # A house: the roof and the walls, with a door cut out.
    draw.polygon([(mid, lo), (hi, roof), (hi, hi), (lo, hi), (lo, roof)], fill=ink)
    door_w, door_h = span * 0.2, span * 0.34
    hole = (0, 0, 0, 0) if maskable is None else ACCENT
    draw.rounded_rectangle((mid - door_w / 2, hi - door_h, mid + door_w / 2, hi), radius=door_w / 3, fill=hole)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in ICONS:
        draw_icon(size, maskable).save(ICON_DIR / name, optimize=True)
        print(ICON_DIR / name)


if __name__ == "__main__":
    main()
