# A throwaway PostgreSQL server for integration tests (sourced by tests/integration/*.sh).
# pg_start DIR: initdb DIR, start it on 127.0.0.1 on a free port, create database veritee and set
# PG_URL. As root, the server runs as the postgres user (PostgreSQL refuses root). pg_stop stops
# it. Requires Debian's postgresql package (scripts/install-deps.sh).

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    PG_DIR=$1
    local bin
    bin=$(pg_bin) || { echo "pg.sh: PostgreSQL server binaries not found" >&2; return 1; }
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$PG_DIR"
    fi
    pg_as "$bin/initdb" -D "$PG_DIR/data" -U veritee --auth=trust >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; return 1; }
    PG_PORT=$(free_port)
    pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null ||
        { cat "$PG_DIR/server.log" >&2; return 1; }
    pg_as "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U veritee veritee ||
        { echo "pg.sh: createdb failed" >&2; return 1; }
    PG_URL="postgres://veritee@127.0.0.1:$PG_PORT/veritee"
    export PG_URL PG_PORT PG_DIR
}

pg_stop() {
    local bin
    bin=$(pg_bin) || return 0
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        pg_as "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}
