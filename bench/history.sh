#!/bin/sh
# Times `stripe-scan history` against the history yardstick (every object inflated by git, searched by
# rg) and the peers, on a copy of the 5000-commit benchmark history; scores what each found; measures
# peak memory. Run it from anywhere, after `cargo build --release`:
#
#   bench/history.sh                       # the defaults below
#   CORPUS=/tmp/corpus/hist5k RUNS=10 bench/history.sh
#
# Env: STRIPE_SCAN (binary), CORPUS (a gen_history.py repository, never modified: it is copied),
# MANIFEST (its manifest), SHARED (the shared/ folder with bench/), PEERS (folder with betterleaks and
# kingfisher; either may be missing), OUT (where reports go), RUNS.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
STRIPE_SCAN=${STRIPE_SCAN:-$root/target/release/stripe-scan}
CORPUS=${CORPUS:-/tmp/corpus/hist5k}
MANIFEST=${MANIFEST:-$CORPUS.manifest.json}
if [ -z "${SHARED:-}" ]; then
	for s in "$root/../shared" /work/shared; do
		[ -d "$s/bench" ] && SHARED=$(cd "$s" && pwd) && break
	done
fi
PEERS=${PEERS:-/tmp/peers/bin}
OUT=${OUT:-$(mktemp -d)}
RUNS=${RUNS:-5}
BYTES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["blob_bytes"])' "$MANIFEST")

[ -x "$STRIPE_SCAN" ] || { echo "no binary at $STRIPE_SCAN: cargo build --release" >&2; exit 2; }
[ -n "${SHARED:-}" ] || { echo "set SHARED to the shared/ folder holding bench/" >&2; exit 2; }
mkdir -p "$OUT"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$CORPUS" "$work/repo"
cd "$work/repo"
git cat-file --batch-all-objects --batch >/dev/null # warm the page cache

P='-e sk_live_ -e sk_test_ -e rk_live_ -e rk_test_ -e pk_live_ -e pk_test_ -e whsec_'
set -- "sh -c 'git cat-file --batch-all-objects --batch | rg -c -F $P'" \
	"$STRIPE_SCAN history --format json -o $OUT/stripe-scan.json"
names="yardstick stripe-scan"
if [ -x "$PEERS/betterleaks" ]; then
	set -- "$@" "$PEERS/betterleaks git . --no-banner --no-color -l error -o $OUT/betterleaks.json"
	names="$names betterleaks"
fi
if [ -x "$PEERS/kingfisher" ]; then
	set -- "$@" "$PEERS/kingfisher scan . --no-validate --no-update-check -q -f json -o $OUT/kingfisher.json"
	names="$names kingfisher"
fi

echo "== wall time ($RUNS runs, warm cache, yardstick first): $names"
hyperfine -N -w 1 -r "$RUNS" -i --export-json "$OUT/history-hyperfine.json" "$@" >"$OUT/hyperfine.txt" 2>&1 ||
	{ cat "$OUT/hyperfine.txt" >&2; exit 2; }
python3 "$SHARED/bench/hf_medians.py" "$OUT/history-hyperfine.json" --bytes "$BYTES"

echo
echo "== keys found (score.py)"
for name in $names; do
	[ "$name" = yardstick ] && continue
	echo "-- $name"
	python3 "$SHARED/bench/score.py" "$MANIFEST" "$OUT/$name.json" --missed | sed 's/^/   /'
done

echo
echo "== peak RSS (median of 3, /usr/bin/time -v)"
i=0
for cmd in "$@"; do
	i=$((i + 1))
	name=$(echo "$names" | cut -d' ' -f$i)
	kb=$(for _ in 1 2 3; do
		/usr/bin/time -v sh -c "$cmd" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'
	done | sort -n | sed -n 2p)
	echo "   $name: $((kb / 1024)) MiB"
done
echo
echo "reports in $OUT"
