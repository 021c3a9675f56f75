# The Tatum SDK conformance harness (conformance/tatum): Tatum's JavaScript SDK
# v1 at the pinned versions of its package-lock.json, for the internal/e2e
# tests that sign with it. Sourced by scripts/test from the repository root.
# npm ci runs only when the lockfile changed since the last install (a stamp
# in node_modules records its hash), with npm's cache in the gitignored
# .tools/npm-cache; install scripts are not run (the SDK needs none of the
# native builds they try). Exports CUSTOS_TEST_TATUM_HARNESS, where the tests
# look for it (unset, they skip locally and fail when CI=true).

tatum_harness_setup() {
	local dir="$PWD/conformance/tatum" stamp sum
	stamp="$dir/node_modules/.custos-lock.sha256"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "node and npm are missing: the Tatum SDK conformance tests cannot run" >&2
		return 0
	fi
	sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
		echo "installing the Tatum SDK harness (npm ci in conformance/tatum)"
		(cd "$dir" && npm ci --ignore-scripts --prefer-offline --cache "$PWD/../../.tools/npm-cache" \
			--no-audit --no-fund --loglevel=error >/dev/null)
		echo "$sum" >"$stamp"
	fi
	export CUSTOS_TEST_TATUM_HARNESS="$dir"
}

tatum_harness_setup
unset -f tatum_harness_setup
