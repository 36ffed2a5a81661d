#!/bin/sh
# Chooses the commits the GitHub Action scans for one event. Run it inside the checked-out repository with
# the runner's GITHUB_EVENT_NAME and GITHUB_EVENT_PATH; FULL_HISTORY=true scans everything whatever the event.
#
# What it prints is the contract with action-run.sh (tests/it/action.rs pins every case):
#   exit 0, one revision argument per line  pass them to `stripe-scan history`
#   exit 0, the single line ALL             scan every ref: run `stripe-scan history` with no revision
#   exit 0, nothing                         nothing to scan (branch deleted, no new commit); why on stderr
#   exit 2, one line on stderr              the commits to scan cannot be known; the scan must fail
# Revisions are full commit ids, resolved here, so the scan covers exactly what this script checked.
#
#   push                       before..after. A new ref (all-zero before) or a force push whose before is
#                              gone scans what the default branch lacks: after ^<default>, or the whole
#                              history of after when the ref is the default branch or there is none.
#   pull_request(_target)      base.sha..head.sha: every commit of the pull request.
#   merge_group                base_sha..head_sha.
#   schedule, workflow_dispatch, any other event: ALL.
# A shallow clone passes only when the range stops short of its cut: otherwise the scan would miss commits.

set -u

say() { printf 'stripe-scan: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 2
}
shallow_msg="the checkout is shallow and lacks commits this scan needs; set 'fetch-depth: 0' on actions/checkout"

shallow=$(git rev-parse --is-shallow-repository 2>/dev/null) ||
	die "git cannot open a repository here ($(git rev-parse --git-dir 2>&1 | head -n 1)); run actions/checkout before this action"

for py in python3 python; do
	command -v "$py" >/dev/null 2>&1 && break
	py=
done

# field a.b.c: that value of the event payload, empty when absent or null; booleans as true/false.
# It runs in $(...), where die ends only the subshell: callers add `|| exit 2`.
field() {
	[ -n "$py" ] || die "python3 is needed to read the event payload"
	"$py" -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else json.dumps(v) if isinstance(v, bool) else v)
' "${GITHUB_EVENT_PATH:-}" "$1" || die "cannot read the event payload at '${GITHUB_EVENT_PATH:-}'"
}

# Anything else in the payload could smuggle an option into the scanner's arguments.
is_sha() {
	case $1 in '' | *[!0-9a-f]*) return 1 ;; esac
	[ ${#1} -eq 40 ] || [ ${#1} -eq 64 ]
}
is_zero() { is_sha "$1" && case $1 in *[!0]*) false ;; esac; }

# Peels tags too: a pushed annotated tag names a tag object, not a commit.
commit() { git rev-parse --verify --quiet "$1^{commit}" 2>/dev/null; }

missing() {
	[ "$shallow" = false ] || die "$shallow_msg"
	die "commit $1 named by the $GITHUB_EVENT_NAME event is not in this checkout; check out that commit with 'fetch-depth: 0'"
}

# emit WHY REV...: prints the revisions once they are known to be complete, then exits.
emit() {
	why=$1
	shift
	if [ "$shallow" = true ] &&
		git rev-list "$@" 2>/dev/null | grep -qxF -f "$(git rev-parse --git-path shallow)"; then
		die "$shallow_msg"
	fi
	n=$(git rev-list --count "$@" 2>/dev/null) || die "git cannot list the commits of $*"
	if [ "$n" -eq 0 ]; then
		say "$why: no commit to scan"
		exit 0
	fi
	say "$why: scanning $n commit(s)"
	printf '%s\n' "$@"
	exit 0
}

emit_all() {
	[ "$shallow" = false ] || die "$shallow_msg"
	say "$1: scanning the whole history of every ref"
	echo ALL
	exit 0
}

# The commits of `after` that the default branch lacks; all of them when there is no other branch to trust.
not_on_default() {
	why=$1
	name=$(field repository.default_branch) || exit 2
	if [ -z "$name" ]; then
		name=$(git symbolic-ref --quiet --short refs/remotes/origin/HEAD 2>/dev/null) && name=${name#origin/}
	fi
	[ -n "$name" ] || emit "$why; no default branch known, so its whole history" "$after"
	[ "$ref" != "refs/heads/$name" ] || emit "$why; it is the default branch, so its whole history" "$after"
	base=$(commit "refs/remotes/origin/$name") || base=$(commit "refs/heads/$name") ||
		emit "$why; default branch $name is not in the checkout, so its whole history" "$after"
	emit "$why; the commits $name lacks" "$after" "^$base"
}

push() {
	before=$(field before) && after=$(field after) && ref=$(field ref) && deleted=$(field deleted) || exit 2
	if [ "$deleted" = true ] || is_zero "$after"; then
		say "$ref was deleted: nothing to scan"
		exit 0
	fi
	is_sha "$after" || die "the push event has no valid 'after' commit id"
	after=$(commit "$after") || missing "$after"
	if is_zero "$before"; then
		not_on_default "new ref $ref"
	fi
	is_sha "$before" || die "the push event has no valid 'before' commit id"
	if b=$(commit "$before"); then
		emit "push to $ref" "$b..$after"
	fi
	[ "$shallow" = false ] || die "$shallow_msg"
	not_on_default "push to $ref: before ($before) is gone, a force push"
}

# pair BASE HEAD: the event's two commit ids, as base..head.
pair() {
	base=$(field "$1") && head=$(field "$2") || exit 2
	if ! is_sha "$base" || ! is_sha "$head"; then
		die "the $GITHUB_EVENT_NAME event has no valid $1 and $2"
	fi
	b=$(commit "$base") || missing "$base"
	h=$(commit "$head") || missing "$head"
	emit "$GITHUB_EVENT_NAME" "$b..$h"
}

case ${FULL_HISTORY:-} in
[Tt][Rr][Uu][Ee] | 1) emit_all "full-history" ;;
esac
case ${GITHUB_EVENT_NAME:-} in
'') die "GITHUB_EVENT_NAME is not set; this script runs inside a GitHub Actions job" ;;
push) push ;;
pull_request | pull_request_target) pair pull_request.base.sha pull_request.head.sha ;;
merge_group) pair merge_group.base_sha merge_group.head_sha ;;
*) emit_all "$GITHUB_EVENT_NAME" ;;
esac
