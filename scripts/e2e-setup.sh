#!/usr/bin/env bash
# Installs what `npm run test:e2e` needs from Debian, once: Django, the
# Reflex-shaped backend's python-socketio, uvicorn and websockets, and Chromium.
# Idempotent: does nothing when /usr/bin/python3 can already import them and
# /usr/bin/chromium runs. The suite always uses /usr/bin/python3 (a `python3`
# on PATH may be a pyenv or venv interpreter without these modules).
set -euo pipefail

packages=(python3 python3-django python3-socketio python3-engineio python3-uvicorn python3-websockets chromium)

have_python() {
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import django, socketio, engineio, uvicorn, websockets' >/dev/null 2>&1
}
have_chromium() {
  [ -x /usr/bin/chromium ] && /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1
}

if have_python && have_chromium; then
  echo "e2e-setup: Debian packages present ($(/usr/bin/python3 -c 'import django; print("Django", django.get_version())'), $(/usr/bin/chromium --version 2>/dev/null | head -1))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
echo "e2e-setup: installing ${packages[*]}"
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

if ! have_python; then
  echo "e2e-setup: /usr/bin/python3 still cannot import django, socketio, engineio, uvicorn, websockets" >&2
  exit 1
fi
if ! have_chromium; then
  echo "e2e-setup: /usr/bin/chromium does not run" >&2
  exit 1
fi
echo "e2e-setup: done"
