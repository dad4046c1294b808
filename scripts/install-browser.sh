#!/usr/bin/env bash
# The browser the dashboard's tests drive: Debian's chromium and chromium-driver (browsers cannot be
# downloaded by a test tool's own installer here). A no-op when both are present. Where they cannot
# be installed (no apt-get, no root), it says so and carries on: `make run` needs no browser, and the
# browser tests then fail naming what is missing.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
warn() { echo "install-browser: $*; the dashboard's browser tests (tests/dashboard) will fail until it is" >&2; exit 0; }
command -v apt-get >/dev/null 2>&1 || warn "no apt-get to install chromium and chromium-driver with"
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  sudo -n true 2>/dev/null || warn "installing chromium and chromium-driver needs root (sudo apt-get install chromium chromium-driver)"
  SUDO="sudo -n"
fi
echo "install-browser: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
install() { $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }
install 2>/dev/null || { $SUDO apt-get update -q >/dev/null && install; } || warn "apt-get could not install them"
