# A local AWS KMS emulator for the tests of the KMS signing backend
# (internal/remotekey/awskms). Sourced by scripts/test from the repository root
# (under set -euo pipefail). Builds local-kms from its Go module into
# .tools/bin (a stamp file records the version, so a warm run only checks
# files), starts it on a free port with its data in a temporary directory,
# exports CUSTOS_TEST_KMS_ENDPOINT (its loopback URL), and stops it and removes
# the directory when scripts/test exits, after whatever EXIT trap was already
# set. The emulator binds every interface (it takes a port only), so it holds
# throwaway keys alone. Without it the KMS tests skip locally and fail when
# CI=true.

custos_kms_setup() {
	local bin="$PWD/.tools/bin" version=v0.0.0-20260228092603-2a5e92d09ab6 dir port tries=0 prev=""
	mkdir -p "$bin"
	if [ "$(cat "$bin/.local-kms.version" 2>/dev/null)" != "$version" ] || [ ! -x "$bin/local-kms" ]; then
		echo "installing local-kms $version"
		# go install pkg@version refuses the project's -mod=mod.
		(cd "$PWD/.tools" && GOFLAGS=-buildvcs=false GOWORK=off GOBIN="$bin" \
			go install "github.com/nsmithuk/local-kms@$version")
		echo "$version" >"$bin/.local-kms.version"
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/custos-kms.XXXXXX")
	mkdir -p "$dir/data"
	: >"$dir/seed.yaml"
	while :; do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			PORT=$port KMS_DATA_PATH="$dir/data" KMS_SEED_PATH="$dir/seed.yaml" KMS_REGION=eu-west-2 \
				"$bin/local-kms" >"$dir/kms.log" 2>&1 &
			echo $! >"$dir/pid"
			local i
			for i in $(seq 50); do
				if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
					break 2
				fi
				sleep 0.1
			done
			kill "$(cat "$dir/pid")" 2>/dev/null || true
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 5 ]; then
			tail -n 20 "$dir/kms.log" >&2 || true
			echo "local-kms did not start" >&2
			return 1
		fi
	done
	CUSTOS_KMS_DIR=$dir
	eval "set -- $(trap -p EXIT)"
	prev=${3:-}
	CUSTOS_KMS_PREV_TRAP=$prev
	trap 'custos_kms_stop; eval "$CUSTOS_KMS_PREV_TRAP"' EXIT
	export CUSTOS_TEST_KMS_ENDPOINT="http://127.0.0.1:$port"
	echo "local-kms on 127.0.0.1:$port ($dir)"
}

custos_kms_stop() {
	kill "$(cat "$CUSTOS_KMS_DIR/pid" 2>/dev/null)" 2>/dev/null || true
	rm -rf "$CUSTOS_KMS_DIR"
}

custos_kms_setup
unset -f custos_kms_setup
