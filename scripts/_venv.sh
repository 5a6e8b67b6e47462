# Sourced by scripts/run and scripts/test: a virtual environment in .venv with the project
# installed, re-installed only when pyproject.toml, setup.py or the C scanner changed (the editable
# install compiles src/sprechzimmer/billing/domain/_kvdt.c next to its source).
set -euo pipefail
extras="${1:-}"
py="${PYTHON:-python3}"
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python ≥ 3.11 wird benötigt." >&2; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=".venv/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ] \
   || [ src/sprechzimmer/billing/domain/_kvdt.c -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
