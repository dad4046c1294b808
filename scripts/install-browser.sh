#!/usr/bin/env bash
# The browser the dashboard's tests drive: Debian's chromium and chromium-driver (browsers cannot be
# downloaded by a test tool's own installer here). A no-op when both are present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: chromium and chromedriver are missing and there is no apt-get; install them by hand" >&2
  exit 1
fi
SUDO=""
[[ "$(id -u)" == 0 ]] || SUDO="sudo"
echo "install-browser: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }
command -v chromium >/dev/null && command -v chromedriver >/dev/null
