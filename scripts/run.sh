#!/usr/bin/env bash
# `make run`: the control plane on this machine.
#  - with Azure Functions Core Tools (`func`) on PATH: Azurite on its standard ports + `func start`;
#  - without it (or MODE=sandbox): the offline sandbox (sandbox/serve.py), same routes, no Azure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${MODE:-auto}" != "sandbox" ]] && command -v func >/dev/null 2>&1; then
  [[ -f local.settings.json ]] || { cp local.settings.example.json local.settings.json; echo "created local.settings.json from local.settings.example.json"; }
  mkdir -p .azurite
  node_modules/.bin/azurite --location .azurite --disableTelemetry --skipApiVersionCheck --silent &
  azurite_pid=$!
  trap 'kill $azurite_pid 2>/dev/null; wait $azurite_pid 2>/dev/null' EXIT
  # shellcheck disable=SC1091
  source .venv/bin/activate
  # The registry's tables are made before the first request (on Azure, infra/ declares them).
  python - <<'PY'
import json, os
from controlplane.registry.create_tables import main
os.environ.update(json.load(open("local.settings.json"))["Values"] | dict(os.environ))
main()
PY
  echo "dashboard: http://127.0.0.1:7071/api/cp/dashboard (sign in with an operator key from local.settings.json's CP_AUTH)"
  func start
  exit $?
fi

if [[ "${MODE:-auto}" != "sandbox" ]]; then
  echo "Azure Functions Core Tools ('func') is not on PATH (install: https://learn.microsoft.com/azure/azure-functions/functions-run-local); starting the offline sandbox instead."
fi
exec .venv/bin/python -m sandbox.serve
