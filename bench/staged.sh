#!/bin/sh
# Pre-commit latency: `stripe-scan staged` on a 3-file change in a 19,000-file repository, against
# the staged diff piped through ripgrep (the yardstick) and the peers' own pre-commit modes, in one
# hyperfine run. The targets: median ≤ 15 ms and ≤ 0.2× betterleaks `git --staged`.
#
#   bench/staged.sh [CORPUS] [RUNS]
#
# CORPUS (default /tmp/corpus/tree200, made by `gen_tree.py --size-mb 200 --git`) is copied with
# `cp -a` to a temp dir and never changed in place; ../shared/bench/stage_change.py stages the change.
# The binary is $STRIPE_SCAN, else target/release/stripe-scan (cargo build --release first). Peers
# come from PEERS_BIN (default /tmp/peers/bin) and PATH; a missing peer is left out. Nothing here
# touches the network: betterleaks runs without --validate.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
# ../shared beside the checkout (or beside the main checkout, from a worktree under wt/).
if [ -z "${SHARED:-}" ]; then
  for d in "$here/../shared" "$here/../../shared"; do
    [ -d "$d/bench" ] && SHARED=$(cd "$d" && pwd) && break
  done
fi
[ -n "${SHARED:-}" ] || { echo "set SHARED to the shared/ folder holding bench/" >&2; exit 2; }
CORPUS=$(cd "${1:-/tmp/corpus/tree200}" && pwd)
RUNS=${2:-20}
BIN=${STRIPE_SCAN:-$here/target/release/stripe-scan}
PEERS_BIN=${PEERS_BIN:-/tmp/peers/bin}
OUT=${OUT:-$(mktemp -d)}
P='-e sk_live_ -e sk_test_ -e rk_live_ -e rk_test_ -e pk_live_ -e pk_test_ -e whsec_'

echo "== copying $CORPUS"
cp -a "$CORPUS" "$OUT/repo"
cd "$OUT/repo"
staged=$(python3 "$SHARED/bench/stage_change.py" .)
echo "$staged"
files=$(git diff --cached --name-only | tr '\n' ' ')
git cat-file --batch-all-objects --batch >/dev/null
# shellcheck disable=SC2086 # generated names, no spaces: one word each
cat .git/index $files >/dev/null

set -- "sh -c 'git diff --cached -U0 | rg -c -F $P'" "$BIN staged --format json -o $OUT/stripe-scan.json"
set -- "$@" "env STRIPE_SCAN_INDEX_READER=git $BIN staged --format json -o $OUT/stripe-scan-git.json"
[ -x "$PEERS_BIN/betterleaks" ] && set -- "$@" \
  "$PEERS_BIN/betterleaks git --staged --no-banner -l error -o $OUT/betterleaks.json ."
# ripsecrets' pre-commit hook gets the staged file names and reads them from the working tree.
command -v ripsecrets >/dev/null && set -- "$@" "ripsecrets --strict-ignore $files"

echo "== timing ($RUNS runs each, warm)"
hyperfine -N -w 3 -r "$RUNS" -i --export-json "$OUT/staged.json" "$@" >/dev/null
python3 "$SHARED/bench/hf_medians.py" "$OUT/staged.json"
python3 - "$OUT/staged.json" <<'PY'
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in res}
ours = next(v for k, v in med.items() if " staged " in k and "READER" not in k)
print("stripe-scan staged median: %.1f ms (target <= 15 ms)" % ours)
for k, v in med.items():
    if "betterleaks" in k:
        print("ratio to betterleaks git --staged: %.3f (target <= 0.2; betterleaks %.1f ms)" % (ours / v, v))
PY

echo "== the planted key is found"
python3 - "$OUT/stripe-scan.json" "$staged" <<'PY'
import hashlib, json, sys
report = json.load(open(sys.argv[1]))
key = json.loads(sys.argv[2])["key"]
fp = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
hits = [f for f in report["findings"] if f["fingerprint"] == fp]
print("found at %s:%s" % (hits[0]["path"], hits[0]["line"]) if hits else "MISSED the planted key")
print("findings: %d, blobs scanned: %d" % (len(report["findings"]), report["summary"]["files"]))
sys.exit(0 if hits and len(report["findings"]) == 1 else 1)
PY
rm -rf "$OUT/repo"
echo "reports in $OUT"
