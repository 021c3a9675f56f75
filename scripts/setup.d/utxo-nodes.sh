# Regtest nodes for the UTXO end-to-end tests (internal/e2e/utxo and the btcd
# test of internal/broadcast): btcd and btcctl, bchd, litecoind. Sourced by
# scripts/test (set -euo pipefail, from the repository root, CGO_ENABLED=0,
# which the pure-Go btcd and bchd builds are fine with). Go-built nodes go to
# .tools/bin; a stamp file per node records the version built, so a warm run
# only checks files. Exports CUSTOS_BTCD, CUSTOS_BTCCTL, CUSTOS_BCHD and
# CUSTOS_LITECOIND, where the tests look for the nodes.

utxo_nodes_setup() {
	local tools bin
	tools="$PWD/.tools"
	bin="$tools/bin"
	mkdir -p "$bin"

	# The node builds must not pick up the project's module or its -mod=mod:
	# go install pkg@version refuses -mod.
	local btcd_version=v0.24.2
	if [ "$(cat "$bin/.btcd.version" 2>/dev/null)" != "$btcd_version" ] || [ ! -x "$bin/btcd" ] || [ ! -x "$bin/btcctl" ]; then
		echo "installing btcd and btcctl $btcd_version"
		(cd "$tools" && GOFLAGS=-buildvcs=false GOWORK=off GOBIN="$bin" \
			go install "github.com/btcsuite/btcd@$btcd_version" "github.com/btcsuite/btcd/cmd/btcctl@$btcd_version")
		echo "$btcd_version" >"$bin/.btcd.version"
	fi

	# go install github.com/gcash/bchd@… is refused, so bchd is built as the
	# dependency of a small module of its own.
	local bchd_version=v0.22.0 mod="$tools/bchd-build"
	if [ "$(cat "$bin/.bchd.version" 2>/dev/null)" != "$bchd_version" ] || [ ! -x "$bin/bchd" ]; then
		echo "building bchd $bchd_version"
		mkdir -p "$mod"
		printf 'module custos.tools/bchd\n\ngo 1.25.0\n\nrequire github.com/gcash/bchd %s\n' "$bchd_version" >"$mod/go.mod"
		rm -f "$mod/go.sum"
		(cd "$mod" && GOFLAGS="-buildvcs=false -mod=mod" GOWORK=off \
			go build -trimpath -o "$bin/bchd" github.com/gcash/bchd)
		echo "$bchd_version" >"$bin/.bchd.version"
	fi

	# litecoind comes from Debian (the only package source for it here).
	if ! command -v litecoind >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			echo "installing litecoind"
			DEBIAN_FRONTEND=noninteractive apt-get update -qq
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq litecoind >/dev/null
		else
			echo "litecoind is missing and cannot be installed here (needs root and apt-get): the LTC end-to-end test will not run" >&2
		fi
	fi

	export CUSTOS_BTCD="$bin/btcd" CUSTOS_BTCCTL="$bin/btcctl" CUSTOS_BCHD="$bin/bchd"
	if command -v litecoind >/dev/null 2>&1; then
		CUSTOS_LITECOIND="$(command -v litecoind)"
		export CUSTOS_LITECOIND
	fi
}

utxo_nodes_setup
unset -f utxo_nodes_setup
