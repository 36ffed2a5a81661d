#!/usr/bin/env bash
# Smoke test of one stripe-scan binary as it ships: each release archive's binary and each wheel's
# entry point on its own runner (.github/workflows/release.yml), and the debug build here (.ci/run).
# It must report Cargo.toml's version, find a live key planted at run time (by file, line, column and
# type, the key itself only redacted), and pass a clean tree. Bash, which Git for Windows provides.
#
#   bash .ci/smoke-test.sh PATH/TO/stripe-scan
set -euo pipefail

bin=$1
case $bin in /* | [A-Za-z]:*) ;; *) bin=$PWD/$bin ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
	echo "smoke test of $bin: $*" >&2
	exit 1
}

want=$(sed -n 's/^version = "\(.*\)"$/stripe-scan \1/p' "$root/Cargo.toml" | head -n 1)
got=$("$bin" --version) || fail "--version failed"
# `--version` goes on with the commit and the rules version: `stripe-scan 0.1.0 (commit …, rules …)`.
case $got in "$want" | "$want ("*) ;; *) fail "--version says '$got', expected '$want'" ;; esac

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
# A key is never written into this repository: CI scans it with stripe-scan.
body=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9' | cut -c 1-28)
[ ${#body} -eq 28 ] || fail "could not make a random key"
key=sk_live_Q7w$body
printf 'import stripe\nstripe.api_key = "%s"\n' "$key" >charge.py

rc=0
out=$("$bin" scan --quiet . 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc on a planted key, expected 1: $out"
case $out in *"charge.py:2:19: live secret key sk_live_"*) ;; *) fail "the planted key was not reported: $out" ;; esac
case $out in *"$key"*) fail "the key was printed in full" ;; esac

printf 'import os, stripe\nstripe.api_key = os.environ["STRIPE_SECRET_KEY"]\n' >charge.py
out=$("$bin" scan --quiet . 2>&1) || fail "a clean tree failed: $out"

echo "smoke test passed: $got finds a planted live key, redacts it, and passes a clean tree"
