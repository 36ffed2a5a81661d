#!/bin/sh
# Working-tree benchmark: stripe-scan against ripgrep's literal search for the same prefixes (the
# yardstick) and the peer scanners, in one hyperfine run, warm cache, then peak memory and recall.
#
#   bench/tree.sh [CORPUS] [RUNS]
#
# CORPUS defaults to /tmp/corpus/tree200, made by
#   python3 ../shared/bench/gen_tree.py --out /tmp/corpus/tree200 --size-mb 200 --git
# The binary is $STRIPE_SCAN, else target/release/stripe-scan (cargo build --release first).
# Peers come from ../shared/bench/install-peers.sh (PEERS_BIN, default /tmp/peers/bin); a missing
# peer is left out of the run. Set PEERS=0 to time only ripgrep and stripe-scan, RIPSECRETS=1 to
# include ripsecrets (slow).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$(cd "$here/../shared" && pwd)}
CORPUS=$(cd "${1:-/tmp/corpus/tree200}" && pwd)
RUNS=${2:-10}
MANIFEST=$CORPUS.manifest.json
BIN=${STRIPE_SCAN:-$here/target/release/stripe-scan}
PEERS_BIN=${PEERS_BIN:-/tmp/peers/bin}
OUT=${OUT:-$(mktemp -d)}
P='-e sk_live_ -e sk_test_ -e rk_live_ -e rk_test_ -e pk_live_ -e pk_test_ -e whsec_'
bytes=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['bytes_not_ignored'])" "$MANIFEST")

cd "$CORPUS"
echo "== warming the page cache"
find . -type f -not -path './.git/*' -exec cat {} + >/dev/null

set -- "rg -c -F --hidden -g !.git $P ." "$BIN scan . --format json -o $OUT/stripe-scan.json"
if [ "${PEERS:-1}" != 0 ]; then
  [ -x "$PEERS_BIN/kingfisher" ] && set -- "$@" \
    "$PEERS_BIN/kingfisher scan . --git-history none --no-validate --no-update-check -q -f json -o $OUT/kingfisher.json"
  [ -x "$PEERS_BIN/betterleaks" ] && set -- "$@" \
    "$PEERS_BIN/betterleaks fs . --no-banner -l error -o $OUT/betterleaks.json"
  # ripsecrets takes about a minute a run here (it prints whole 200 KB lines): timed only on request.
  [ "${RIPSECRETS:-0}" != 0 ] && command -v ripsecrets >/dev/null &&
    set -- "$@" "sh -c 'ripsecrets . > $OUT/ripsecrets.txt'"
fi
echo "== timing ($RUNS runs each)"
hyperfine -N -w 1 -r "$RUNS" -i --export-json "$OUT/tree.json" "$@" >/dev/null
python3 "$SHARED/bench/hf_medians.py" "$OUT/tree.json" --bytes "$bytes"

echo "== start-up (rules compiled, an empty directory scanned)"
empty=$(mktemp -d)
hyperfine -N -w 5 -r 50 "$BIN scan $empty" 2>/dev/null | grep -E 'Time|Range'
rmdir "$empty"

echo "== peak memory (median of 3)"
for _ in 1 2 3; do
  /usr/bin/time -v "$BIN" scan . --format json -o "$OUT/rss.json" 2>&1 >/dev/null |
    awk '/Maximum resident set size/ {print $NF}'
done | sort -n | sed -n 2p | awk '{printf "stripe-scan peak RSS: %.1f MB\n", $1/1024}'

echo "== recall and noise"
for f in "$OUT"/stripe-scan.json "$OUT"/kingfisher.json "$OUT"/betterleaks.json "$OUT"/ripsecrets.txt; do
  [ -f "$f" ] || continue
  echo "-- $(basename "$f")"
  python3 "$SHARED/bench/score.py" "$MANIFEST" "$f" | tail -n 3
done
echo "reports in $OUT"
