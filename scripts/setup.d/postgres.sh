# PostgreSQL for the tests of the PostgreSQL pending store, the API
# benchmarks on it and the replica fault test. Sourced by scripts/test from the
# repository root (under set -euo pipefail). Installs PostgreSQL from Debian's
# packages when it is missing (as root), starts a throwaway cluster on loopback
# on a free port in a temporary directory, creates a database, exports
# CUSTOS_TEST_POSTGRES, and stops the cluster and removes the directory when
# scripts/test exits — after whatever EXIT trap was already set. Without it the
# PostgreSQL tests skip locally and fail when CI=true.

custos_pg_setup() {
	local bindir dir port user="" tries=0 prev=""
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "PostgreSQL is missing and this is not root: the PostgreSQL tests will skip (apt-get install postgresql)" >&2
			return 0
		fi
		echo "installing PostgreSQL from Debian's packages"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
		bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	fi

	dir=$(mktemp -d "${TMPDIR:-/tmp}/custos-pg.XXXXXX")
	# initdb refuses to run as root: the cluster then belongs to the postgres
	# user that Debian's package creates.
	if [ "$(id -u)" -eq 0 ]; then
		user=postgres
		chown "$user" "$dir"
	fi
	as_db_user() {
		if [ -n "$user" ]; then
			runuser -u "$user" -- "$@"
		else
			"$@"
		fi
	}
	as_db_user "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	# A free port: try random ones until the server starts on one.
	while :; do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
			as_db_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
				"-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
				start >/dev/null; then
			break
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 5 ]; then
			tail -n 20 "$dir/server.log" >&2 || true
			echo "PostgreSQL did not start" >&2
			return 1
		fi
	done
	as_db_user "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE custos_test" >/dev/null
	unset -f as_db_user

	CUSTOS_PG_STOP="$bindir/pg_ctl -D $dir/data -m immediate stop"
	[ -n "$user" ] && CUSTOS_PG_STOP="runuser -u $user -- $CUSTOS_PG_STOP"
	CUSTOS_PG_DIR=$dir
	# Chain to the EXIT trap set before this script, if any.
	eval "set -- $(trap -p EXIT)"
	prev=${3:-}
	CUSTOS_PG_PREV_TRAP=$prev
	trap 'custos_pg_stop; eval "$CUSTOS_PG_PREV_TRAP"' EXIT
	export CUSTOS_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/custos_test?sslmode=disable"
	echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

custos_pg_stop() {
	$CUSTOS_PG_STOP >/dev/null 2>&1 || true
	rm -rf "$CUSTOS_PG_DIR"
}

custos_pg_setup
unset -f custos_pg_setup
