# Tools for the EVM end-to-end tests (internal/e2e): ganache, the separate node
# process the flow also runs against, and solc-js, which recompiles the test
# ERC-20 to check its committed bytecode. Sourced by scripts/test from the
# repository root. Both are npm packages installed into the gitignored
# .tools/npm with npm's configured registry; a warm run only reads their
# versions. Exports CUSTOS_TEST_GANACHE and CUSTOS_TEST_SOLCJS, where the tests
# look for them (unset, the tests skip locally and fail when CI=true).

evm_tools_setup() {
	local prefix="$PWD/.tools/npm" ganache_version=7.9.2 solc_version=0.8.26
	local mods="$prefix/node_modules"
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "node and npm are missing: the ganache and solc-js tests of internal/e2e cannot run" >&2
		return 0
	fi
	version_of() { node -p "require('$mods/$1/package.json').version" 2>/dev/null || true; }
	if [ "$(version_of ganache)" != "$ganache_version" ] || [ "$(version_of solc)" != "$solc_version" ]; then
		echo "installing ganache@$ganache_version and solc@$solc_version"
		npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
			"ganache@$ganache_version" "solc@$solc_version" >/dev/null
	fi
	unset -f version_of
	export CUSTOS_TEST_GANACHE="$mods/.bin/ganache" CUSTOS_TEST_SOLCJS="$mods/.bin/solcjs"
}

evm_tools_setup
unset -f evm_tools_setup
