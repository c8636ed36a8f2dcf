#!/usr/bin/env bash
# One entry point for people and CI; every command does its own set-up first.
#   ./run.sh demo     set up, start the bundled sample site, patrol it, write the report
#   ./run.sh test     set up (also PostgreSQL and Redis for the tests that start them), run the tests
#   ./run.sh setup    only set up (.venv with patrol installed, Chromium for JS pages)
#   ./run.sh bench    set up, run the link-check benchmark against LinkChecker and linkinator
set -euo pipefail
cd "$(dirname "$0")"
VENV=${PATROL_VENV:-.venv}
PY=${PYTHON:-python3}

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.patrol-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    touch "$stamp"
  fi
  # An editable install leaves the source tree uncompiled, and where PYTHONDONTWRITEBYTECODE
  # is set every patrol process (and every crawl process) would compile it again at start.
  "$VENV/bin/python" -m compileall -q -j 0 patrol checks crawler reports >/dev/null || true
  ensure_chromium
}

# Chromium for pages that only JavaScript fills: Playwright's own build where it can be
# downloaded, otherwise the system's. On Debian the headless shell (`chromium-headless-shell`)
# is added beside `chromium`: the crawl renders with it at about half the browser's CPU.
# PATROL_NO_APT=1: never install system packages.
ensure_chromium() {
  if [ -n "${PATROL_CHROMIUM:-}" ] || command -v chromium-headless-shell >/dev/null 2>&1 \
     || ls -d "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium* >/dev/null 2>&1; then
    return 0
  fi
  local have="" name
  for name in chromium chromium-browser google-chrome google-chrome-stable chrome; do
    if command -v "$name" >/dev/null 2>&1; then have=yes; break; fi
  done
  local can_apt=""
  if [ -z "${PATROL_NO_APT:-}" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    can_apt=yes
  fi
  if [ -n "$have" ]; then
    # A browser is there: add the headless shell when this system's package lists have it
    # (no `apt-get update` for it).
    if [ -n "$can_apt" ] && apt-cache show chromium-headless-shell >/dev/null 2>&1; then
      echo "run.sh: adding chromium-headless-shell (PATROL_NO_APT=1 skips this)..." >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null 2>&1 \
        || echo "run.sh: could not install chromium-headless-shell; pages are rendered with the full browser." >&2
    fi
    return 0
  fi
  echo "run.sh: installing Chromium for JavaScript pages..." >&2
  if "$VENV/bin/python" -m playwright install chromium >/dev/null 2>&1; then
    return 0
  fi
  if [ -n "$can_apt" ]; then
    # fonts-wqy-zenhei: Chinese text in screenshots and PDF reports.
    (apt-get update -qq \
      && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell fonts-wqy-zenhei \
           || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei; }) \
      >/dev/null 2>&1 && return 0
  fi
  echo "run.sh: no Chromium available: run 'playwright install chromium' or install your" \
       "distribution's chromium (Debian: chromium chromium-headless-shell); JavaScript-only" \
       "pages will not be rendered." >&2
}

# Servers some tests start for themselves (throw-away, on loopback): PostgreSQL for the store on
# PostgreSQL, Redis for runs spread over workers.  Installed from the system's packages where
# missing and allowed (root, apt, no PATROL_NO_APT); without them those tests are skipped with
# the reason.  The packages' own services are not needed and are left as the system has them.
ensure_test_servers() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -n "${PATROL_NO_APT:-}" ] || ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "run.sh: ${missing[*]} not installed: the tests that need them will be skipped" >&2
    return 0
  fi
  echo "run.sh: installing ${missing[*]} for the tests (PATROL_NO_APT=1 skips this)..." >&2
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }; } \
    >/dev/null 2>&1 || echo "run.sh: could not install ${missing[*]}: the tests that need them will be skipped" >&2
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup ;;
  demo) setup; exec "$VENV/bin/patrol" demo "$@" ;;
  test) setup; ensure_test_servers; exec "$VENV/bin/python" -m pytest "$@" ;;
  bench) setup; exec "$VENV/bin/python" benchmarks/linkcheck_benchmark.py "$@" ;;
  *) echo "usage: ./run.sh demo|test|setup|bench [args]" >&2; exit 2 ;;
esac
