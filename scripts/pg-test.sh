#!/usr/bin/env bash
# pg-test.sh starts and stops a throwaway PostgreSQL cluster for drover's
# store tests (internal/store runs its suite on PostgreSQL when
# DROVER_TEST_POSTGRES holds a DSN).
#
#   eval "$(scripts/pg-test.sh start)"   # prints export lines for the DSN and the cluster dir
#   go test ./internal/store/...
#   scripts/pg-test.sh stop              # stops the cluster in $DROVER_PG_DIR and removes it
#
# The cluster lives in a fresh temporary directory, listens only on a unix
# socket in that directory (no TCP; with --tcp also on 127.0.0.1 and a free
# port), trusts local connections and is owned by a non-root user: when run as
# root the server runs as the "postgres" user (created if missing) through
# runuser, because PostgreSQL refuses to run as root.
set -euo pipefail

usage() {
	echo "usage: $0 start [--tcp] | stop [DIR]" >&2
	exit 2
}

find_bindir() {
	local d
	if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

BINDIR=$(find_bindir) || {
	echo "pg-test.sh: PostgreSQL server binaries (initdb, pg_ctl) not found; install them with: apt-get install -y postgresql" >&2
	exit 1
}

# as_owner runs a command as the cluster owner.
RUNAS=()
if [ "$(id -u)" = 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin postgres
	fi
	RUNAS=(runuser -u postgres --)
fi
as_owner() { (cd / && "${RUNAS[@]}" "$@"); }

free_port() {
	local p
	for p in $(seq 54320 54420); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "pg-test.sh: no free port in 54320-54420" >&2
	return 1
}

start() {
	local tcp=0
	[ "${1:-}" = "--tcp" ] && tcp=1
	local dir port listen
	dir=$(mktemp -d /tmp/drover-pg.XXXXXX)
	chmod 0755 "$dir"
	[ ${#RUNAS[@]} -gt 0 ] && chown postgres: "$dir"
	if [ "$tcp" = 1 ]; then
		port=$(free_port)
		listen=127.0.0.1
	else
		port=5432 # only names the socket file: $dir/.s.PGSQL.5432
		listen=
	fi
	as_owner "$BINDIR/initdb" -D "$dir/data" -U drover --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	as_owner "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -p $port -c listen_addresses='$listen' -c max_connections=200 -c fsync=on" start >&2 || {
		cat "$dir/server.log" >&2
		exit 1
	}
	# A database of its own, so tests never touch "postgres".
	local psql="$BINDIR/psql"
	[ -x "$psql" ] || psql=$(command -v psql)
	as_owner "$psql" -q -h "$dir" -p "$port" -U drover -d postgres -c 'CREATE DATABASE drover' >&2
	if [ "$tcp" = 1 ]; then
		echo "export DROVER_TEST_POSTGRES='postgres://drover@127.0.0.1:$port/drover?sslmode=disable'"
	else
		echo "export DROVER_TEST_POSTGRES='postgres://drover@/drover?host=$dir&port=$port&sslmode=disable'"
	fi
	echo "export DROVER_PG_DIR='$dir'"
	echo "pg-test.sh: PostgreSQL running in $dir (pid $(head -1 "$dir/data/postmaster.pid"))" >&2
}

stop() {
	local dir=${1:-${DROVER_PG_DIR:-}}
	if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
		echo "pg-test.sh: no cluster directory (pass it or set DROVER_PG_DIR)" >&2
		exit 1
	fi
	case "$dir" in
	/tmp/drover-pg.*) ;;
	*)
		echo "pg-test.sh: refusing to remove $dir (not made by pg-test.sh)" >&2
		exit 1
		;;
	esac
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >&2
	fi
	rm -rf "$dir"
	echo "pg-test.sh: stopped and removed $dir" >&2
}

case "${1:-}" in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) usage ;;
esac
