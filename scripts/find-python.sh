#!/usr/bin/env bash
# Print the path of a python<VERSION> interpreter, or explain on stderr and fail.
# Looks on PATH, then in pyenv's versions (its shims refuse without PYENV_VERSION), then uv's.
set -euo pipefail
want=${1:?usage: find-python.sh 3.13}
works() { [[ -x "$1" ]] && "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; }
candidates=()
command -v "python$want" >/dev/null 2>&1 && candidates+=("$(command -v "python$want")")
root=${PYENV_ROOT:-$HOME/.pyenv}
for d in "$root"/versions/"$want"*/bin/python"$want" "$HOME"/.local/share/uv/python/cpython-"$want"*/bin/python"$want" /usr/local/bin/python"$want" /usr/bin/python"$want"; do
  candidates+=("$d")
done
for c in "${candidates[@]}"; do
  if works "$c"; then echo "$c"; exit 0; fi
done
echo "python$want not found (looked on PATH, in pyenv and uv): install Python $want, or run make PYTHON=/path/to/python$want" >&2
echo "false"
exit 1
