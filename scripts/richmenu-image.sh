#!/usr/bin/env bash
# Draws the rich menu's image from its definition: DIR/richmenu.json and DIR/style.json in,
# DIR/richmenu.png out (DIR defaults to infra/richmenu). Installs Pillow into
# target/richmenu-venv on its first run. Needs Python 3 and a Japanese font (Debian/Ubuntu:
# `sudo apt-get install fonts-noto-cjk`; or RICHMENU_FONT=/path/to/font). Commit the PNG;
# `./scripts/test.sh` never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 is not installed" >&2
  exit 1
fi
venv=target/richmenu-venv
if ! "$venv/bin/python" -c 'import PIL' >/dev/null 2>&1; then
  echo "installing Pillow into $venv ..." >&2
  mkdir -p target
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'Pillow>=11,<12'
fi
exec "$venv/bin/python" scripts/richmenu_image.py "${1:-infra/richmenu}"
