#!/usr/bin/env bash
# The README's main job: two limited, networked servers on the embedded
# default image, shown running; left for you to explore.
set -eu
cd "$(dirname "$0")"
V=${BUILD:-build}/vserver
[ "$(id -u)" = 0 ] || { echo "demo: run as root"; exit 1; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

for s in demo-web demo-client; do
	"$V" destroy --force "$s" >/dev/null 2>&1 || true
done
say "$V" image default
say "$V" create demo-web --memory 128M --swap 64M --cpus 0.5 --pids 128 --disk 64M \
	--publish 8080:80 --bandwidth 100mbit --restart on-failure \
	-- sh -c 'mkdir -p /www && echo "hello from $(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'
say "$V" create demo-client --memory 64M --cpus 0.25 --pids 64 \
	-- sh -c 'while :; do sleep 3600; done'
say "$V" start demo-web
say "$V" start demo-client
say "$V" list
say "$V" stats
web_ip=$("$V" info --format json demo-web | jq -r .ip)
say "$V" exec demo-client ping -c 3 "$web_ip"
say "$V" exec demo-client wget -qO- "http://$web_ip/"
cat <<TXT

Both servers keep running. Try:
  $V info demo-web          $V exec -t demo-client sh
  $V set demo-web --memory 256M   $V stats --watch   $V logs demo-web
Remove them with:
  $V destroy --force demo-web && $V destroy --force demo-client
TXT
