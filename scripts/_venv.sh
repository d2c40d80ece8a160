# shellcheck shell=bash
# Sourced by scripts/test, scripts/lint and scripts/run: makes sure .venv exists and has the
# project installed. Callers run from the repo root with `set -euo pipefail`.

# Pick an interpreter: $PYTHON if given, else the first python3.x on PATH that is 3.11 or newer.
# (Running each candidate, not just `command -v`, because pyenv shims exist for versions that
# are not installed.)
find_python() {
  local py
  for py in ${PYTHON:-} python3 python3.11 python3.12 python3.13; do
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed (python3 is $(python3 --version 2>&1 || echo missing));" \
    "set PYTHON=/path/to/python3.11" >&2
  return 1
}

# ensure_venv STAMP_PREFIX PIP_TARGET
#   ensure_venv .installed '.[dev]'     (tests, lint)
#   ensure_venv .installed-run '.'      (running the service)
# Installing is skipped while .venv/<STAMP_PREFIX>-<sha256 of pyproject.toml> exists, so the
# venv is refreshed exactly when the dependencies may have changed.
ensure_venv() {
  local prefix=$1 target=$2 py hash stamp
  if [[ ! -x .venv/bin/python ]]; then
    py=$(find_python)
    echo "Creating .venv with $py ($("$py" --version 2>&1))"
    "$py" -m venv .venv
  elif ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: .venv uses $(.venv/bin/python --version 2>&1); Python 3.11+ is needed." \
      "Delete .venv and run again." >&2
    return 1
  fi
  hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
  stamp=".venv/$prefix-$hash"
  if [[ ! -e $stamp ]]; then
    echo "Installing $target into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e "$target"
    # Forget stamps of older pyproject.toml versions (only this prefix's: hash right after it).
    local old
    for old in ".venv/$prefix-"*; do
      if [[ ${old#".venv/$prefix-"} =~ ^[0-9a-f]{64}$ ]]; then rm -f "$old"; fi
    done
    touch "$stamp"
  fi
}
