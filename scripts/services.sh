#!/usr/bin/env bash
# Makes sure the services the tests talk to are running on loopback:
# MariaDB on 127.0.0.1:3306 (root, no password), Redis on 127.0.0.1:6379 and
# moto_server (the AWS emulator: SQS, Secrets Manager) on 127.0.0.1:5000.
# Installs MariaDB and Redis from Debian's packages when missing (needs root),
# starts them when stopped, and waits until they answer. Tests never mock them.
set -euo pipefail

mysql_up() { (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
moto_up() { (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not come up" >&2; return 1
}

if ! mysql_up; then
  command -v mariadbd >/dev/null || command -v mysqld >/dev/null || apt_install mariadb-server
  echo "services: starting MariaDB"
  as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  if [ ! -d /var/lib/mysql/mysql ]; then as_root mariadb-install-db --user=mysql >/dev/null; fi
  as_root start-stop-daemon --start --oknodo --background --exec "$(command -v mariadbd || command -v mysqld)" -- --user=mysql --bind-address=127.0.0.1
  wait_for MariaDB mysql_up
  # A fresh Debian install authenticates root over the socket only; tests log in over TCP without a password.
  for _ in $(seq 1 20); do
    as_root mariadb -uroot -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5
  done
  if ! mariadb -h127.0.0.1 -uroot -e "SELECT 1" >/dev/null 2>&1; then
    as_root mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD(''); CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;" || true
  fi
fi

if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  echo "services: starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis_up
fi
if ! moto_up; then
  if ! command -v moto_server >/dev/null; then
    echo "services: moto_server (the AWS emulator the SQS and Secrets Manager tests use) is missing: pip install 'moto[server]'" >&2
    exit 1
  fi
  moto_log="${MOTO_LOG:-${TMPDIR:-/tmp}/moto_server-5000.log}"
  echo "services: starting moto_server (log: $moto_log)"
  # setsid: the emulator outlives this script and make; it keeps no state on disk.
  setsid nohup moto_server -H 127.0.0.1 -p 5000 >"$moto_log" 2>&1 < /dev/null &
  wait_for moto_server moto_up || { tail -n 20 "$moto_log" >&2; exit 1; }
fi
echo "services: MariaDB 127.0.0.1:3306, Redis 127.0.0.1:6379 and moto_server 127.0.0.1:5000 are up"
