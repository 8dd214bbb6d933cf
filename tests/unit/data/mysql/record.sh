#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Re-records the fixtures of tests/unit/test_proto_mysql.c (run as root on Debian with
# mariadb-server, mariadb-client, libmariadb-dev, openssl and python3 installed). It starts
# a throwaway MariaDB in a temporary directory on 127.0.0.1:13306 as the mysql user, puts
# proxy.py in front of it on 13307, drives one connection per fixture with the mariadb
# client or stmt_client.c, and writes <name>.txt here. The passwords are throwaway ones.
# The unit test asserts exact values from these files: re-recording means updating it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/kspan-mysql.XXXXXX)
chown mysql:mysql "$tmp"
trap 'kill "$(cat "$tmp/mysqld.pid" 2>/dev/null)" 2>/dev/null || true; sleep 2; rm -rf "$tmp" /tmp/kspan-mysql-notes.csv' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
	-days 2 -subj /CN=localhost 2>/dev/null
cat > "$tmp/my.cnf" <<CNF
[mysqld]
datadir=$tmp/data
socket=$tmp/mysqld.sock
pid-file=$tmp/mysqld.pid
port=13306
bind-address=127.0.0.1
skip-log-bin
local-infile=1
max_allowed_packet=64M
ssl-cert=$tmp/cert.pem
ssl-key=$tmp/key.pem
CNF
chown -R mysql:mysql "$tmp"
mariadb-install-db --user=mysql --datadir="$tmp/data" >/dev/null
su -s /bin/sh mysql -c "mariadbd --defaults-file=$tmp/my.cnf" >"$tmp/server.log" 2>&1 &
for _ in $(seq 50); do [ -S "$tmp/mysqld.sock" ] && break; sleep 0.2; done
root() { mariadb -S "$tmp/mysqld.sock" -uroot "$@"; }
root -e "INSTALL SONAME 'auth_ed25519';
	CREATE DATABASE shop; CREATE DATABASE other;
	CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'throwaway-pw';
	CREATE USER 'app'@'localhost' IDENTIFIED BY 'throwaway-pw';
	GRANT ALL ON shop.* TO 'app'@'127.0.0.1'; GRANT ALL ON other.* TO 'app'@'127.0.0.1';
	GRANT FILE ON *.* TO 'app'@'127.0.0.1';
	CREATE USER 'ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('throwaway-ed');
	CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(64), qty INT,
				  price DECIMAL(10,2));
	CREATE TABLE other.notes (id INT PRIMARY KEY, body TEXT);"
reset_db() {
	root -e "DROP PROCEDURE IF EXISTS shop.two_sets; DELETE FROM shop.orders;
		ALTER TABLE shop.orders AUTO_INCREMENT = 1; DELETE FROM other.notes;
		INSERT INTO shop.orders (item, qty, price) VALUES ('apple',3,1.50),('pear',1,0.75),
			('plum',12,0.20);"
}
notes=/tmp/kspan-mysql-notes.csv
printf '1,first note\n2,second note\n3,third note\n' > "$notes"
chmod 644 "$notes"
sed "s|@NOTES@|$notes|" "$here/cli_session.sql" > "$tmp/cli_session.sql"
gcc -O1 -Wall -o "$tmp/stmt_client" "$here/stmt_client.c" $(mariadb_config --cflags --libs)
version=$(mariadbd --version | sed 's/.*Ver \([^ ]*\).*/\1/')

# rec NAME CAPTURE DESCRIPTION CMD...: record one connection of CMD through the proxy.
rec() {
	local name=$1 capture=$2 desc=$3 pp
	shift 3
	reset_db
	python3 "$here/proxy.py" 13307 13306 "$here/$name.txt" "$capture" \
		"$name: $desc" \
		"Recorded by record.sh from MariaDB $version through proxy.py; throwaway passwords." \
		"One line per read: '>' client to server, '<' server to client, hex bytes ('XX*N':" \
		"byte XX N times); '+N': N more bytes of that read were not captured (the agent's" \
		"4096-byte capture)." \
		>/dev/null &
	pp=$!
	sleep 0.5
	"$@" >"$tmp/$name.out" 2>&1 || true
	wait $pp
	echo "recorded $name: $(grep -vc '^#' "$here/$name.txt") reads"
}
M="mariadb -h127.0.0.1 -P13307 -uapp -pthrowaway-pw --skip-ssl"
rec cli_session 0 "the mariadb client: SELECT, INSERT, UPDATE, a multi-statement query, errors, USE (COM_INIT_DB), LOAD DATA LOCAL INFILE, status (COM_STATISTICS), quit" \
	sh -c "$M -D shop --force --local-infile=1 --table < $tmp/cli_session.sql"
rec stmt_client 0 "stmt_client.c over libmariadb: prepared statements, cursor fetch, ping, field list, set option, multi-statement, CALL, COM_INIT_DB, COM_CHANGE_USER, COM_RESET_CONNECTION, errors" \
	"$tmp/stmt_client" 127.0.0.1 13307
rec stmt_compress 0 "stmt_client.c with MYSQL_OPT_COMPRESS (the zlib compressed protocol)" \
	"$tmp/stmt_client" 127.0.0.1 13307 compress
rec login_error 0 "the mariadb client with a wrong password (ERR 1045 during authentication)" \
	sh -c "mariadb -h127.0.0.1 -P13307 --skip-ssl -uapp -pwrong-pw -e 'SELECT 1'"
rec ed25519 0 "the mariadb client as a user of the ed25519 plugin (an auth switch)" \
	sh -c "mariadb -h127.0.0.1 -P13307 --skip-ssl -ued -pthrowaway-ed -e 'SELECT CURRENT_USER()'"
rec many_rows 0 "the mariadb client reading 1000 rows (12 KiB reads)" \
	sh -c "$M -D shop -e 'SELECT seq, seq * 2 FROM seq_1_to_1000'"
rec big_row 4096 "the mariadb client reading a 17 MB row (a multi-packet payload), as captured" \
	sh -c "$M --max-allowed-packet=64M -e \"SELECT LENGTH(REPEAT('x', 17000000)) AS n, REPEAT('y', 17000000) AS big\""
rec big_query 4096 "the mariadb client sending a 17 MB query (a multi-packet payload), as captured" \
	sh -c "python3 -c \"print('SELECT LENGTH(\\'' + 'q' * 17000000 + '\\') AS n;')\" | $M --max-allowed-packet=64M"
rec deprecate_eof 0 "deprecate_eof.py: CLIENT_DEPRECATE_EOF result sets, prepare, cursor fetch, USE" \
	python3 "$here/deprecate_eof.py" 13307 app throwaway-pw shop
rec tls 0 "the mariadb client with --ssl: an SSLRequest, then TLS" \
	sh -c "mariadb -h127.0.0.1 -P13307 -uapp -pthrowaway-pw -D shop --ssl --ssl-verify-server-cert=0 -e 'SELECT 1'"
