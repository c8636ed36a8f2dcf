#!/usr/bin/env bash
# Build patrol's wheel, install it into a fresh virtual environment and use it from outside the
# checkout: `patrol --version`, `patrol text` (the packaged word lists), `patrol check`, `run`,
# `probe`, `schedule`, `worker` (its missing-queue message) and `extract` on a page served on 127.0.0.1 (the packaged thresholds,
# scoring and report templates), then `patrol demo` (the demo subpackage) and, on the demo's store, `report`,
# `mail --dry-run`, `quota`, `triage`, `feedback --dry-run` and `serve` (its JSON API).
# Usage: tools/wheel_smoke.sh [PYTHON]   (run by .ci/run after the tests)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${1:-${PYTHON:-python3}}
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Built from a copy of the tracked files: setuptools writes build/ beside the sources it builds.
mkdir "$WORK/src"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 tar -cf - --) \
  | tar -xf - -C "$WORK/src"
"$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$WORK/dist" "$WORK/src" >/dev/null
WHEEL=$(ls "$WORK"/dist/patrol-*.whl)
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB)"
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL"

cd "$WORK"                                     # outside the checkout: nothing of it on sys.path
"$WORK/venv/bin/patrol" --version
out=$(printf '深入开展扫黑险恶专项斗争。\n' | "$WORK/venv/bin/patrol" text - --format jsonl)
echo "$out" | grep -q '"suggestion": "扫黑除恶"' || { echo "patrol text: no serious error found: $out" >&2; exit 1; }
# The trigram scan's data (patroldata/text/trigrams.bin) and numpy are in the wheel: a slip it lists.
out=$(printf '规范应激救助行为，提高应急救助能力。\n' | "$WORK/venv/bin/patrol" text - --format jsonl)
echo "$out" | grep -q '"suggestion": "应急"' || { echo "patrol text: trigram scan missing: $out" >&2; exit 1; }

mkdir -p site
cat > site/index.html <<'HTML'
<html><head><meta charset="utf-8"><title>测试区人民政府</title></head>
<body><h1>测试区人民政府</h1><a href="a.html">政务公开</a> <a href="missing.html">坏链接</a></body></html>
HTML
printf '<html><head><meta charset="utf-8"></head><body><p>发布日期：2026-11-01</p></body></html>' > site/a.html
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m http.server "$PORT" --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 50); do "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/')" 2>/dev/null && break; sleep 0.1; done
"$WORK/venv/bin/patrol" check "http://127.0.0.1:$PORT/" --render never --quiet --out "$WORK/out"
grep -q 'missing.html' "$WORK/out/findings.json" || { echo "patrol check: the broken link was not reported" >&2; exit 1; }
# `patrol run` with a configuration of its own (the monthly command), then probe and schedule.
cat > run.yaml <<YAML
inspector: {name: 测试区政务公开办公室, email: zwgk@example.test}
database: sqlite:///$WORK/run.db
output: $WORK/runs
departments: [{id: zfb, name: 区政府办公室, contacts: [{name: 张三, email: zfb@example.test}]}]
sites: [{name: 测试区人民政府, url: "http://127.0.0.1:$PORT/", department: zfb}]
YAML
"$WORK/venv/bin/patrol" run --config run.yaml --checks links --quiet >/dev/null
grep -q 'missing.html' "$WORK"/runs/run-*/findings.json || { echo "patrol run: the broken link was not reported" >&2; exit 1; }
"$WORK/venv/bin/patrol" probe --config run.yaml >/dev/null
# `patrol worker` is installed: without a queue in the configuration it says so (exit 2).
if "$WORK/venv/bin/patrol" worker --config run.yaml 2>"$WORK/worker.err"; then
  echo "patrol worker: started without a queue" >&2; exit 1
fi
grep -q "queue: missing" "$WORK/worker.err" || { echo "patrol worker: $(cat "$WORK/worker.err")" >&2; exit 1; }
"$WORK/venv/bin/patrol" schedule --config run.yaml | grep -q "patrol" \
  || { echo "patrol schedule: no schedule printed" >&2; exit 1; }
out=$("$WORK/venv/bin/patrol" extract site/a.html --format json)
echo "$out" | grep -q '"publish_date": "2026-11-01"' || { echo "patrol extract: the page's date was not read: $out" >&2; exit 1; }
# The sample site end to end from the wheel (the demo subpackage), then the commands that work
# from the store: report, mail (dry run), quota, probe.
"$WORK/venv/bin/patrol" demo --out "$WORK/demo" --quiet >/dev/null
"$WORK/venv/bin/patrol" report --config "$WORK/demo/patrol.yaml" --out "$WORK/report2" >/dev/null
test -s "$WORK/report2/report.html" || { echo "patrol report: no report.html" >&2; exit 1; }
"$WORK/venv/bin/patrol" mail --config "$WORK/demo/patrol.yaml" --dry-run --out "$WORK/eml" >/dev/null
"$WORK/venv/bin/patrol" quota --config "$WORK/demo/patrol.yaml" | grep -q "清溪" \
  || { echo "patrol quota: the sample area is missing" >&2; exit 1; }
# Triage, replies and the console over the demo's store.
FP=$("$WORK/venv/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['findings'][0]['fingerprint'])" \
     "$WORK/demo/report/findings.json")
"$WORK/venv/bin/patrol" triage --config "$WORK/demo/patrol.yaml" "$FP" --as false_alarm --note "smoke" --by ci >/dev/null
"$WORK/venv/bin/patrol" triage --config "$WORK/demo/patrol.yaml" --list | grep -q "$FP" \
  || { echo "patrol triage: the mark is not listed" >&2; exit 1; }
"$WORK/venv/bin/patrol" feedback --config "$WORK/demo/patrol.yaml" --dry-run "$WORK"/demo/rectification/*.xlsx >/dev/null
CPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$WORK/venv/bin/patrol" serve --config "$WORK/demo/patrol.yaml" --port "$CPORT" >/dev/null 2>&1 &
SERVER="$SERVER $!"
for _ in $(seq 100); do "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$CPORT/api/runs')" 2>/dev/null && break; sleep 0.1; done
"$PY" -c "import json, urllib.request; runs = json.load(urllib.request.urlopen('http://127.0.0.1:$CPORT/api/runs')); assert runs, runs" \
  || { echo "patrol serve: /api/runs gave no run" >&2; exit 1; }
echo "wheel smoke test: ok"
