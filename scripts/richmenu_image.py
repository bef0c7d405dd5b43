#!/usr/bin/env python3
"""Draws the rich menu's image from its definition, so the labels residents read are the
labels the menu's buttons carry.

    python3 scripts/richmenu_image.py [DIR]      (DIR defaults to infra/richmenu)

Reads DIR/richmenu.json (LINE's RichMenuRequest: the size and one area per button, each
with its label) and DIR/style.json (colours, and per button keyed by its postback data an
icon and a reading in hiragana for residents who read やさしい日本語), and writes
DIR/richmenu.png at exactly the menu's size. Each area becomes a card with its icon, its
label and the reading under it, wherever the area is: a 2×3 menu is a change of
richmenu.json only. The PNG carries the SHA-256 of richmenu.json followed by style.json
(text chunk `sukusuku-drawn-from-sha256`); `sukusuku richmenu check|install` refuses an
image drawn from other files.

Needs Pillow (scripts/richmenu-image.sh installs it into target/richmenu-venv) and a
Japanese font: Noto Sans CJK (Debian/Ubuntu: `apt-get install fonts-noto-cjk`), IPAex
Gothic (`fonts-ipaexfont-gothic`), Hiragino on macOS or Yu Gothic / Meiryo on Windows, or
any font file named by RICHMENU_FONT.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

DIGEST_KEY = "sukusuku-drawn-from-sha256"
# Drawn at this multiple of the final size, then scaled down: smooth edges on shapes that
# Pillow draws without anti-aliasing.
SUPERSAMPLE = 2

# (path, index in a .ttc collection). Bold weights first: labels are read at a glance.
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 0),  # fonts-noto-cjk, JP face
    ("/usr/share/fonts/opentype/noto/NotoSansCJKjp-Bold.otf", 0),
    ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", 0),  # fonts-ipaexfont-gothic
    ("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf", 0),
    ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", 0),  # fonts-ipafont-gothic
    ("/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc", 0),  # macOS
    ("C:/Windows/Fonts/YuGothB.ttc", 0),  # Windows
    ("C:/Windows/Fonts/meiryob.ttc", 0),
]

FONT_HELP = """no Japanese font found for the rich menu's labels.
Install one and run this again:
  Debian/Ubuntu:  sudo apt-get install fonts-noto-cjk     (or fonts-ipaexfont-gothic)
  or name a font file (.ttf, .otf, .ttc with Japanese glyphs):
                  RICHMENU_FONT=/path/to/font.ttc scripts/richmenu-image.sh"""


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from PIL import Image, ImageDraw, ImageFont, PngImagePlugin
except ImportError:
    fail("Pillow is not installed: run scripts/richmenu-image.sh, which installs it into target/richmenu-venv")


def find_font():
    named = os.environ.get("RICHMENU_FONT", "").strip()
    if named:
        if not Path(named).is_file():
            fail(f"RICHMENU_FONT={named} is not a file")
        return named, 0
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    fail(FONT_HELP)


def colour(style, name, value):
    v = value.strip() if isinstance(value, str) else ""
    if len(v) == 7 and v.startswith("#"):
        try:
            return tuple(int(v[i : i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            pass
    fail(f"style.json: {name} is `{value}`; write colours as #RRGGBB, e.g. #2E7D55")


# --- icons: white shapes in a circle of the accent colour, sized by the circle's radius r ---


def icon_calendar(draw, cx, cy, r, fg, bg, font_path):
    left, right, top, bottom = cx - 0.52 * r, cx + 0.52 * r, cy - 0.40 * r, cy + 0.50 * r
    draw.rounded_rectangle((left, top, right, bottom), radius=0.12 * r, fill=fg)
    # The header's edge, then a 3×2 grid of days.
    draw.rectangle((left, cy - 0.17 * r, right, cy - 0.11 * r), fill=bg)
    size, gap = 0.19 * r, 0.09 * r
    x0 = cx - 1.5 * size - gap
    for row in range(2):
        for col in range(3):
            x = x0 + col * (size + gap)
            y = cy - 0.02 * r + row * (size + gap)
            draw.rectangle((x, y, x + size, y + size), fill=bg)
    # Two binder rings above the top edge, cut out of the page.
    for sx in (-0.26, 0.26):
        x = cx + sx * r
        draw.rounded_rectangle((x - 0.09 * r, top - 0.16 * r, x + 0.09 * r, top + 0.12 * r), radius=0.05 * r, fill=bg)
        draw.rounded_rectangle((x - 0.045 * r, top - 0.13 * r, x + 0.045 * r, top + 0.09 * r), radius=0.03 * r, fill=fg)


def icon_bell(draw, cx, cy, r, fg, bg, font_path):
    import math

    # The right half of the bell's outline, top to bottom: a round dome, a slightly widening
    # body, a flared lip and the rim; mirrored for the left half.
    half = []
    for step in range(0, 19):
        a = math.radians(-90 + step * 5)
        half.append((0.32 * math.cos(a), -0.14 + 0.32 * math.sin(a)))
    for step in range(1, 11):
        t = step / 10
        half.append((0.32 + 0.05 * t * t, -0.14 + 0.34 * t))
    for step in range(1, 9):
        t = step / 8
        half.append((0.37 + 0.15 * math.sin(t * math.pi / 2), 0.20 + 0.10 * t))
    half.append((0.52, 0.35))
    right = [(cx + x * r, cy + y * r) for x, y in half]
    left = [(cx - x * r, cy + y * r) for x, y in reversed(half)]
    draw.polygon(right + left, fill=fg)
    draw.ellipse((cx - 0.07 * r, cy - 0.58 * r, cx + 0.07 * r, cy - 0.44 * r), fill=fg)
    draw.ellipse((cx - 0.11 * r, cy + 0.40 * r, cx + 0.11 * r, cy + 0.60 * r), fill=fg)


def icon_question(draw, cx, cy, r, fg, bg, font_path):
    path, index = font_path
    font = ImageFont.truetype(path, int(1.25 * r), index=index)
    draw.text((cx, cy + 0.02 * r), "?", font=font, fill=fg, anchor="mm")


def icon_search(draw, cx, cy, r, fg, bg, font_path):
    ox, oy, rr, w = cx - 0.10 * r, cy - 0.10 * r, 0.33 * r, 0.13 * r
    draw.ellipse((ox - rr, oy - rr, ox + rr, oy + rr), outline=fg, width=int(w))
    a, b = (cx + 0.16 * r, cy + 0.16 * r), (cx + 0.46 * r, cy + 0.46 * r)
    draw.line((a, b), fill=fg, width=int(0.16 * r))
    draw.ellipse((b[0] - 0.08 * r, b[1] - 0.08 * r, b[0] + 0.08 * r, b[1] + 0.08 * r), fill=fg)


def icon_chat(draw, cx, cy, r, fg, bg, font_path):
    draw.rounded_rectangle((cx - 0.54 * r, cy - 0.42 * r, cx + 0.54 * r, cy + 0.26 * r), radius=0.22 * r, fill=fg)
    draw.polygon([(cx - 0.30 * r, cy + 0.20 * r), (cx - 0.38 * r, cy + 0.52 * r), (cx + 0.02 * r, cy + 0.20 * r)], fill=fg)
    for dx in (-0.26, 0.0, 0.26):
        x, y, d = cx + dx * r, cy - 0.08 * r, 0.075 * r
        draw.ellipse((x - d, y - d, x + d, y + d), fill=bg)


def icon_clock(draw, cx, cy, r, fg, bg, font_path):
    rr, w = 0.48 * r, 0.12 * r
    draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), outline=fg, width=int(w))
    # An hour hand at three and a minute hand at twelve: a time to be somewhere.
    draw.line(((cx, cy), (cx, cy - 0.30 * r)), fill=fg, width=int(0.10 * r))
    draw.line(((cx, cy), (cx + 0.24 * r, cy)), fill=fg, width=int(0.10 * r))
    d = 0.07 * r
    draw.ellipse((cx - d, cy - d, cx + d, cy + d), fill=fg)


ICONS = {
    "calendar": icon_calendar,
    "clock": icon_clock,
    "bell": icon_bell,
    "question": icon_question,
    "search": icon_search,
    "chat": icon_chat,
}


def fitted_font(font_path, text, max_width, start_size):
    path, index = font_path
    size = start_size
    while True:
        font = ImageFont.truetype(path, size, index=index)
        left, _, right, _ = font.getbbox(text)
        if right - left <= max_width or size <= 24:
            return font
        size -= 4


def load_json(path):
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        fail(f"{path} is missing")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"{path} is not valid JSON: {e}")


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "infra/richmenu")
    definition_path = directory / "richmenu.json"
    definition_bytes = definition_path.read_bytes() if definition_path.is_file() else None
    if definition_bytes is None:
        fail(f"{definition_path} is missing")
    menu = load_json(definition_path)
    style_path = directory / "style.json"
    style_bytes = style_path.read_bytes() if style_path.is_file() else b""
    style = load_json(style_path)
    font_path = find_font()

    try:
        width, height = int(menu["size"]["width"]), int(menu["size"]["height"])
        areas = [(a["bounds"], a["action"]) for a in menu["areas"]]
    except (KeyError, TypeError, ValueError) as e:
        fail(f"{definition_path}: needs size.width, size.height and areas[].bounds/action ({e!r}); "
             "`sukusuku richmenu check` names the field")
    colors = style.get("colors", {})
    bg = colour(style, "colors.background", colors.get("background"))
    card = colour(style, "colors.card", colors.get("card"))
    accent = colour(style, "colors.accent", colors.get("accent"))
    icon_fg = colour(style, "colors.icon", colors.get("icon"))
    label_fg = colour(style, "colors.label", colors.get("label"))
    buttons = style.get("buttons", {})

    s = SUPERSAMPLE
    image = Image.new("RGB", (width * s, height * s), bg)
    draw = ImageDraw.Draw(image)
    for i, (bounds, action) in enumerate(areas):
        label = action.get("label", "")
        data = action.get("data", "")
        if not label:
            fail(f"{definition_path}: areas[{i}].action.label is empty; it is the text drawn on the button")
        x, y, w, h = (int(bounds[k]) * s for k in ("x", "y", "width", "height"))
        inset = 14 * s
        draw.rounded_rectangle((x + inset, y + inset, x + w - inset, y + h - inset), radius=44 * s, fill=card)

        button = buttons.get(data, {})
        icon_name = button.get("icon")
        tint = colour(style, f"buttons.{data}.color", button["color"]) if "color" in button else accent
        reading = button.get("reading", "")
        font = fitted_font(font_path, label, int(0.84 * (w - 2 * inset)), int(0.15 * min(h, 1.1 * w)))
        _, top, _, bottom = font.getbbox(label)
        label_h = bottom - top
        # The reading in hiragana, smaller, under the label (やさしい日本語 readers).
        small = fitted_font(font_path, reading, int(0.84 * (w - 2 * inset)), int(0.07 * min(h, 1.1 * w))) if reading else None
        reading_gap = int(0.035 * h) if reading else 0
        reading_h = (small.getbbox(reading)[3] - small.getbbox(reading)[1]) if reading else 0
        diameter = int(0.36 * min(w, h)) if icon_name else 0
        spacing = int(0.06 * h) if icon_name else 0
        block = diameter + spacing + label_h + reading_gap + reading_h
        top_y = y + (h - block) / 2
        cx = x + w / 2
        if icon_name:
            draw_icon = ICONS.get(icon_name)
            if draw_icon is None:
                fail(f"style.json: buttons.{data}.icon `{icon_name}` is not one of {', '.join(sorted(ICONS))}")
            r = diameter / 2
            cy = top_y + r
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tint)
            draw_icon(draw, cx, cy, r * 0.86, icon_fg, tint, font_path)
        elif data not in buttons:
            print(f"note: style.json has no entry for {data}; its button shows the label only", file=sys.stderr)
        draw.text((cx, top_y + diameter + spacing - top), label, font=font, fill=label_fg, anchor="ma")
        if reading:
            reading_top = small.getbbox(reading)[1]
            draw.text((cx, top_y + diameter + spacing + label_h + reading_gap - reading_top), reading,
                      font=small, fill=tint, anchor="ma")

    image = image.resize((width, height), Image.LANCZOS)
    info = PngImagePlugin.PngInfo()
    info.add_text(DIGEST_KEY, hashlib.sha256(definition_bytes + style_bytes).hexdigest())
    out = directory / "richmenu.png"
    image.save(out, "PNG", optimize=True, pnginfo=info)
    size = out.stat().st_size
    print(f"wrote {out}: {width}×{height}, {size:,} bytes, {len(areas)} buttons, font {font_path[0]}")
    if size > 1_000_000:
        fail(f"{out} is {size:,} bytes; LINE takes at most 1 MB: use fewer colours or a smaller size")


if __name__ == "__main__":
    main()
