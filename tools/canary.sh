#!/usr/bin/env bash
# Canary for new releases: a throw-away environment with the newest versions settings.ini's ranges allow (not the lock),
# then the test command and `esm2-ab-clip run --quick` in it. Prints which packages differ from requirements.lock and
# whether it passed, ending with one JSON line. Not part of CI (an upstream release must not block a landing): run it
# before moving the lock, or on a schedule; a failing canary is the signal to fix the code, then move the lock.
#
#   bash tools/canary.sh                 # report only
#   bash tools/canary.sh --write-lock    # and, when everything passed, rewrite requirements.lock from that environment
#   CANARY_DIR=/tmp/canary bash tools/canary.sh   # where the environment and the run go (default: a new temp folder)
#
# Needs the package registries (it installs from them) and, for the data cells and run --quick, the data directory
# ($ESM2_AB_CLIP_DATA, or ../shared/data beside the checkout).
set -uo pipefail
cd "$(dirname "$0")/.."
WRITE=0; [ "${1:-}" = "--write-lock" ] && WRITE=1
DIR=${CANARY_DIR:-$(mktemp -d -t esm2-ab-clip-canary.XXXXXX)}
mkdir -p "$DIR"
if [ -z "${ESM2_AB_CLIP_DATA:-}" ] && [ -d ../shared/data ]; then export ESM2_AB_CLIP_DATA="$(cd ../shared/data && pwd)"; fi
export ESM2_AB_CLIP_VENV="$DIR/venv" ESM2_AB_CLIP_UNLOCKED=1   # the test of the locked environment is skipped there
start=$(date +%s)
echo "canary: environment in $ESM2_AB_CLIP_VENV (newest allowed versions)"
bash setup.sh --latest > "$DIR/setup.log" 2>&1; setup_rc=$?
tail -1 "$DIR/setup.log"
echo "canary: packages that differ from requirements.lock (lock -> canary):"
"$ESM2_AB_CLIP_VENV/bin/python" tools/lock.py diff --python "$ESM2_AB_CLIP_VENV/bin/python" > "$DIR/diff.txt" 2>&1
grep -v '^{' "$DIR/diff.txt" || echo "  (none)"
tests_rc=99; run_rc=99
if [ "$setup_rc" = 0 ]; then
  bash test.sh > "$DIR/test.log" 2>&1; tests_rc=$?
  echo "canary: bash test.sh rc $tests_rc ($(grep -E '[0-9]+ passed' "$DIR/test.log" | tail -1))"
  "$ESM2_AB_CLIP_VENV/bin/esm2-ab-clip" run --quick --out "$DIR/run_quick" > "$DIR/run_quick.log" 2>&1; run_rc=$?
  echo "canary: esm2-ab-clip run --quick rc $run_rc ($(tail -1 "$DIR/run_quick.log"))"
fi
ok=false; [ "$setup_rc" = 0 ] && [ "$tests_rc" = 0 ] && [ "$run_rc" = 0 ] && ok=true
if [ "$ok" = true ] && [ "$WRITE" = 1 ]; then "$ESM2_AB_CLIP_VENV/bin/python" tools/lock.py write --python "$ESM2_AB_CLIP_VENV/bin/python"; fi
"$ESM2_AB_CLIP_VENV/bin/python" - "$DIR" "$ok" "$setup_rc" "$tests_rc" "$run_rc" "$(( $(date +%s) - start ))" <<'PY' 2>/dev/null || echo "{\"canary\": \"failed\", \"setup_rc\": $setup_rc}"
import json, sys
d, ok, s, t, r, secs = sys.argv[1:]
diff = json.loads(open(f"{d}/diff.txt").read().strip().splitlines()[-1])["differs_from_lock"]
print(json.dumps({"canary": "passed" if ok == "true" else "failed", "setup_rc": int(s), "tests_rc": int(t),
                  "run_quick_rc": int(r), "seconds": int(secs), "differs_from_lock": diff, "logs": d}))
PY
[ "$ok" = true ]
