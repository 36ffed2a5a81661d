#!/bin/sh
# Installs stripe-scan for action.yml without compiling it, when the action's source is a release's.
#
# The release workflow commits dist/checksums.txt into the action's source at release time: the release's
# version, download URL, the hash of the sources its binaries were built from, and the SHA-256 of every
# file it published. When this action's own sources hash the same, the archive for this runner is
# downloaded and checked against that list, which comes from the action's source, never from the download:
# nothing unverified is ever installed or run. Anything else (`uses: ./`, a branch, a fork, a runner with
# no release binary, a download that fails) builds from source, as before.
#
#   sh action-install.sh                        install into $ROOT/bin (the action's step)
#   sh action-install.sh source-hash            print the hash of the sources the binary is built from
#   sh action-install.sh manifest VERSION URL SUMS
#                                               print dist/checksums.txt for a release whose files' SHA-256
#                                               are in SUMS, in `sha256sum` format (the release workflow)
#
# Env: ROOT, RUNNER_OS, RUNNER_ARCH, GITHUB_OUTPUT. STRIPE_SCAN_RELEASE_URL replaces the release's URL, for
# tests only: it is refused unless it is http://127.0.0.1:PORT[/path]. The checksums still apply.
# Outputs: `key`, the cache key of a source build (always), and `installed`, true or false.
# Exit: 0 installed, or not installed and the action builds from source (why, in one notice);
#       2 a download that does not match its checksum, or a verified binary that cannot be installed:
#         one line, and nothing is installed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
manifest=$src/dist/checksums.txt
out=${GITHUB_OUTPUT:-/dev/null}

# What the binary is built from: a change to any of these is a different binary (include_str! reads the
# rules and hook scripts). tests/it/install.rs checks this list against the sources.
inputs='Cargo.toml Cargo.lock build.rs src rules hooks/pre-commit hooks/pre-push'

# Workflow commands, so the reason shows on the run's page and not only deep in its log.
notice() { printf '::notice title=stripe-scan::%s\n' "$*"; }
fail() {
	printf '::error title=stripe-scan::%s\n' "$*"
	exit 2
}

# The hash of the build inputs under $1, as git would name them: file names and contents, line endings
# as they are on disk.
source_hash() (
	cd "$1" || exit 1
	list=$(mktemp) || exit 1
	# shellcheck disable=SC2086 # a fixed list of plain names
	for p in $inputs; do
		[ ! -e "$p" ] || find "$p" -type f
	done | LC_ALL=C sort >"$list"
	hash=$({ cat "$list" && git hash-object --no-filters --stdin-paths <"$list"; } | git hash-object --stdin)
	rc=$?
	rm -f "$list"
	[ $rc -eq 0 ] && [ -n "$hash" ] || exit 1
	printf '%s\n' "$hash"
)

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		set -- "$(sha256sum "$1")"
	elif command -v shasum >/dev/null 2>&1; then
		set -- "$(shasum -a 256 "$1")"
	else
		return 1
	fi
	set -- "${1%% *}"
	printf '%s\n' "${1#\\}"
}

is_sha256() {
	case $1 in *[!0-9a-f]*) return 1 ;; esac
	[ ${#1} -eq 64 ]
}

is_plain_name() {
	case $1 in '' | .* | *[!A-Za-z0-9._+-]*) return 1 ;; esac
}

write_manifest() {
	[ $# -eq 3 ] || fail "usage: action-install.sh manifest VERSION URL SHA256SUMS"
	version=$1 url=${2%/} sums=$3
	is_plain_name "$version" || fail "bad version '$version'"
	case $url in https://*) ;; *) fail "the release URL must be https://, not '$url'" ;; esac
	case $url in *[!A-Za-z0-9._~/:-]*) fail "bad release URL '$url'" ;; esac
	hash=$(source_hash "$src") || fail "cannot hash the sources in $src"
	[ -s "$sums" ] || fail "$sums is missing or empty"
	while IFS= read -r line || [ -n "$line" ]; do
		sum=${line%%  *} name=${line#*  }
		if ! is_sha256 "$sum" || ! is_plain_name "$name" || [ "$sum  $name" != "$line" ]; then
			fail "$sums: not a 'sha256  name' line: $line"
		fi
	done <"$sums"
	printf '# stripe-scan %s: the SHA-256 of every file of its GitHub release, written by the release workflow.\n' "$version"
	printf '# The Action installs only a file listed here, from this url, and only when its own source hash is this one.\n'
	printf 'version %s\nurl %s\nsource %s\n' "$version" "$url" "$hash"
	cat "$sums"
}

# field NAME: the value of a `NAME value` line of the manifest.
field() { awk -v k="$1" '$1 == k && NF == 2 { print $2; exit }' "$manifest"; }

install() {
	hash=$(source_hash "$src") || fail "cannot hash the action's source in $src"
	printf 'key=stripe-scan-%s-%s-%s\n' "${RUNNER_OS:-unknown}" "${RUNNER_ARCH:-unknown}" "$hash" >>"$out" ||
		fail "cannot write the step outputs to $out"
	[ -n "${ROOT:-}" ] || fail "ROOT is not set"

	# build WHY: the action compiles stripe-scan from its own source instead.
	build() {
		notice "$1; building stripe-scan from the action's source"
		printf 'installed=false\n' >>"$out"
		exit 0
	}

	base=
	case ${STRIPE_SCAN_RELEASE_URL:-} in
	'') ;;
	http://127.0.0.1:*)
		rest=${STRIPE_SCAN_RELEASE_URL#http://127.0.0.1:}
		port=${rest%%/*}
		case $port in '' | *[!0-9]*) fail "STRIPE_SCAN_RELEASE_URL is for tests and must be http://127.0.0.1:PORT[/path]" ;; esac
		case $rest in *[!A-Za-z0-9._~/-]*) fail "STRIPE_SCAN_RELEASE_URL is for tests and must be http://127.0.0.1:PORT[/path]" ;; esac
		base=${STRIPE_SCAN_RELEASE_URL%/}
		;;
	*) fail "STRIPE_SCAN_RELEASE_URL is for tests and must be http://127.0.0.1:PORT[/path]" ;;
	esac

	[ -f "$manifest" ] || build "this action version is not a stripe-scan release (it has no dist/checksums.txt)"
	version=$(field version)
	url=$(field url)
	released=$(field source)
	is_plain_name "$version" || fail "dist/checksums.txt has no valid version line"
	case $released in '' | *[!0-9a-f]*) fail "dist/checksums.txt has no valid source line" ;; esac
	case $url in https://*) ;; *) fail "dist/checksums.txt: the release URL must be https://, not '$url'" ;; esac
	[ "$released" = "$hash" ] || build "this action's source is not stripe-scan $version's as released"

	case ${RUNNER_OS:-}/${RUNNER_ARCH:-} in
	Linux/X64) target=x86_64-unknown-linux-musl ext=tar.gz exe=stripe-scan ;;
	Linux/ARM64) target=aarch64-unknown-linux-musl ext=tar.gz exe=stripe-scan ;;
	macOS/X64) target=x86_64-apple-darwin ext=tar.gz exe=stripe-scan ;;
	macOS/ARM64) target=aarch64-apple-darwin ext=tar.gz exe=stripe-scan ;;
	Windows/X64) target=x86_64-pc-windows-msvc ext=zip exe=stripe-scan.exe ;;
	*) build "stripe-scan $version has no release binary for ${RUNNER_OS:-this OS} ${RUNNER_ARCH:-}" ;;
	esac
	name=stripe-scan-$version-$target.$ext
	want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$manifest")
	is_sha256 "$want" || build "dist/checksums.txt lists no $name"
	[ -n "$base" ] || base=$url

	tmp=$(mktemp -d) || fail "mktemp failed"
	trap 'rm -rf "$tmp"' EXIT
	proto='=https'
	[ -z "${STRIPE_SCAN_RELEASE_URL:-}" ] || proto='=http'
	command -v curl >/dev/null 2>&1 || build "curl is not on this runner"
	curl --fail --silent --show-error --location --proto "$proto" --proto-redir "$proto" \
		--connect-timeout 10 --max-time 300 --retry 2 -o "$tmp/$name" "$base/$name" ||
		build "could not download $base/$name"
	got=$(sha256 "$tmp/$name") || build "this runner has neither sha256sum nor shasum to verify the download"
	[ "$got" = "$want" ] ||
		fail "$name downloaded from $base does not match the SHA-256 in the action's dist/checksums.txt (expected $want, got $got); refusing to install it"

	mkdir "$tmp/x" || fail "mktemp failed"
	if [ "$ext" = zip ]; then
		if command -v unzip >/dev/null 2>&1; then unzip -q "$tmp/$name" -d "$tmp/x"; else tar -xf "$tmp/$name" -C "$tmp/x"; fi
	else
		tar -xzf "$tmp/$name" -C "$tmp/x"
	fi || build "could not unpack $name"
	[ -f "$tmp/x/$exe" ] && [ ! -L "$tmp/x/$exe" ] || build "$name holds no $exe"
	chmod +x "$tmp/x/$exe"
	said=$("$tmp/x/$exe" --version 2>&1) || build "$exe from $name does not run on this runner ($said)"
	# `--version` may go on with the commit and the rules version: `stripe-scan 0.1.0 (commit …, rules …)`.
	case $said in
	"stripe-scan $version" | "stripe-scan $version ("*) ;;
	*) build "$exe from $name says '$said', not 'stripe-scan $version'" ;;
	esac
	{ mkdir -p "$ROOT/bin" && mv -f "$tmp/x/$exe" "$ROOT/bin/$exe"; } || fail "cannot install stripe-scan into $ROOT/bin"
	printf 'installed=true\n' >>"$out"
	notice "installed stripe-scan $version from $base/$name, SHA-256 verified"
}

case ${1:-} in
'') install ;;
source-hash)
	source_hash "$src" || fail "cannot hash the sources in $src"
	;;
manifest)
	shift
	write_manifest "$@"
	;;
*) fail "usage: action-install.sh [source-hash | manifest VERSION URL SHA256SUMS]" ;;
esac
