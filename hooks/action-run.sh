#!/bin/sh
# The scan step of action.yml: one `stripe-scan history` run over the commits action-range.sh chose.
# Env, set by action.yml from the inputs: STRIPE_SCAN (the binary), FAIL_ON, BASELINE, ARGS (split on
# whitespace, never evaluated), SARIF_FILE, FULL_HISTORY, VERIFY (`true` adds --verify); and the runner's
# GITHUB_* variables.
# Writes the step outputs `findings` and `sarif-file`. Exit: 0 clean, 1 findings at or above FAIL_ON,
# 2 anything else. It fails closed: a scan that did not finish never passes, and its SARIF is not offered
# for upload, since code scanning would read a partial report as "these alerts are fixed".

set -u

here=$(cd "$(dirname "$0")" && pwd)
sarif=${SARIF_FILE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/stripe-scan.sarif}
out=${GITHUB_OUTPUT:-/dev/null}

# An annotation, so the reason shows on the run's page and not only deep in its log.
fail() {
	printf '::error title=stripe-scan::%s\n' "$(printf '%s' "$1" | tr '\n' ' ' | sed 's/%/%25/g')"
	exit 2
}

for py in python3 python; do
	command -v "$py" >/dev/null 2>&1 && break
	py=
done

rm -f "$sarif"
notes=$(mktemp) || fail "mktemp failed"
trap 'rm -f "$notes"' EXIT
revs=$(sh "$here/action-range.sh" 2>"$notes") || fail "$(cat "$notes")"
cat "$notes" >&2

if [ -z "$revs" ]; then
	# Upload still runs on this path, so it needs a file that is valid SARIF.
	# shellcheck disable=SC2016 # $schema is a JSON key, not a variable
	printf '%s\n' '{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":{"name":"stripe-scan","rules":[]}},"results":[]}]}' >"$sarif" ||
		fail "cannot write $sarif"
	[ -z "${GITHUB_STEP_SUMMARY:-}" ] || cat "$notes" >>"$GITHUB_STEP_SUMMARY"
	printf 'findings=0\nsarif-file=%s\n' "$sarif" >>"$out"
	exit 0
fi

# POSIX sh has no arrays: build the command line in "$@", from the revisions backwards.
set -f
[ "$revs" = ALL ] && revs=
IFS='
'
# shellcheck disable=SC2086 # one revision per line, split on newlines only
set -- $revs
unset IFS
# shellcheck disable=SC2086 # ARGS is a whitespace-separated list by design
set -- ${ARGS:-} "$@"
[ -z "${BASELINE:-}" ] || set -- --baseline "$BASELINE" "$@"
[ -z "${FAIL_ON:-}" ] || set -- --fail-on "$FAIL_ON" "$@"
case ${VERIFY:-false} in
true) set -- --verify "$@" ;;
false) ;;
*) fail "the verify input must be true or false, not '$VERIFY'" ;;
esac
set +f

"${STRIPE_SCAN:-stripe-scan}" history --format github --sarif-output "$sarif" "$@"
rc=$?
case $rc in
0 | 1) ;;
*) fail "stripe-scan failed (exit status $rc), so this scan proves nothing; see its message above" ;;
esac
[ -s "$sarif" ] || fail "stripe-scan wrote no SARIF report to $sarif"
[ -n "$py" ] || fail "python3 is needed to count the findings"
n=$("$py" -c '
import json, sys
print(sum(len(r.get("results") or []) for r in json.load(open(sys.argv[1])).get("runs") or []))
' "$sarif") || fail "the SARIF report in $sarif is not valid JSON"
printf 'findings=%s\nsarif-file=%s\n' "$n" "$sarif" >>"$out"
exit $rc
