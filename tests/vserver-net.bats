#!/usr/bin/env bats
# vserver networking, contained. Each test makes:
#   $VNS  plays the host: every vserver call runs in it (bridge vsbr0, NAT,
#         published ports live there only)
#   $O    "the outside": a veth to $VNS, 198.51.100.0/24 (TEST-NET-2), with no
#         route back to the servers' subnet, so replies need the masquerade
#   $C    a client: a veth to $VNS, 203.0.113.0/24 (TEST-NET-3) and
#         2001:db8:2::/64 (documentation prefix)
# No traffic leaves these namespaces.

load helpers

setup() {
	vs_setup
	W=${VSP}w
	LOOP='while true; do sleep 1; done'
	O=${VNS}o C=${VNS}c
	vs_add_ns "$O"
	vs_add_ns "$C"
	ip -n "$VNS" link add up0 type veth peer name eth0 netns "$O"
	ip -n "$VNS" addr add 198.51.100.1/24 dev up0
	ip -n "$VNS" link set up0 up
	ip -n "$O" addr add 198.51.100.2/24 dev eth0
	ip -n "$O" link set eth0 up
	ip -n "$VNS" link add cl0 type veth peer name eth0 netns "$C"
	ip -n "$VNS" addr add 203.0.113.1/24 dev cl0
	ip -n "$VNS" addr add 2001:db8:2::1/64 dev cl0 nodad
	ip -n "$VNS" link set cl0 up
	ip -n "$C" addr add 203.0.113.2/24 dev eth0
	ip -n "$C" addr add 2001:db8:2::2/64 dev eth0 nodad
	ip -n "$C" link set eth0 up
}

teardown() { vs_teardown; }

mk_idle() { vs create "$@" -- sh -c "$LOOP"; }
# in_server NAME CMD...: a host tool run in a server's network namespace
in_server() {
	local pid
	pid=$(vs info --format json "$1" | jq .pid)
	shift
	nsenter --net="/proc/$pid/ns/net" "$@"
}

@test "vserver net: two servers reach each other by address" {
	mk_idle "${W}1"
	mk_idle "${W}2"
	vs start "${W}1"
	vs start "${W}2"
	vs exec "${W}1" ping -c1 -W2 172.30.0.3 >/dev/null
	vs exec "${W}2" ping -c1 -W2 172.30.0.2 >/dev/null
	vs exec "${W}1" ping -c1 -W2 172.30.0.1 >/dev/null
	# each has its own eth0 and a default route via the bridge
	vs exec "${W}2" ip route | grep -q 'default via 172.30.0.1 dev eth0'
	# /etc/hosts names the server itself
	vs exec "${W}1" grep -q "172.30.0.2.*${W}1" /etc/hosts
}

@test "vserver net: outbound traffic is masqueraded to the host's address" {
	mk_idle "$W"
	vs start "$W"
	in_vns "$O" timeout 10 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 9000)); s.listen(1)
print("listening", flush=True)
c, a = s.accept(); print("peer", a[0], flush=True)' >"$VSTMP/seen" &
	wait_for grep -q listening "$VSTMP/seen"
	vs exec "$W" sh -c 'echo x | nc -w 2 198.51.100.2 9000' || true
	wait_for grep -q peer "$VSTMP/seen"
	grep -qx 'peer 198.51.100.1' "$VSTMP/seen"
	# the outside has no route to the servers' subnet
	! in_vns "$O" ip route get 172.30.0.2 2>/dev/null | grep -q via
}

@test "vserver net: --publish 8080:80 reaches httpd in the server from a client" {
	vs create "$W" --publish 8080:80 -- sh -c \
		"mkdir -p /www; echo served-by-\$HOSTNAME >/www/index.html; httpd -f -p 80 -h /www"
	vs start "$W"
	wait_for vs exec "$W" sh -c 'netstat -ltn | grep -q ":80 "'
	run in_vns "$C" curl -sf -m 3 http://203.0.113.1:8080/
	[ "$status" -eq 0 ]
	[ "$output" = "served-by-$W" ]
	# through the other side too, and the port is not open on 80
	[ "$(in_vns "$O" curl -sf -m 3 http://198.51.100.1:8080/)" = "served-by-$W" ]
	run in_vns "$C" curl -sf -m 2 http://203.0.113.1:80/
	[ "$status" -ne 0 ]
	# stopped: the rule goes with the server
	vs stop --timeout 1 "$W"
	run in_vns "$C" curl -sf -m 2 http://203.0.113.1:8080/
	[ "$status" -ne 0 ]
	# and comes back with it
	vs start "$W"
	wait_for vs exec "$W" sh -c 'netstat -ltn | grep -q ":80 "'
	[ "$(in_vns "$C" curl -sf -m 3 http://203.0.113.1:8080/)" = "served-by-$W" ]
}

@test "vserver net: --publish over IPv6, hairpin, and a port taken on the other family" {
	vs create "$W" --publish '[2001:db8:2::1]:8080:80' --publish 8081:80 -- sh -c \
		"mkdir -p /www; echo served-by-\$HOSTNAME >/www/index.html; httpd -f -p 80 -h /www"
	mk_idle "${W}2"
	vs start "$W"
	vs start "${W}2"
	wait_for vs exec "$W" sh -c 'netstat -ltn | grep -q ":80 "'
	# [v6]:8080 from the client, to the server's ULA address
	[ "$(in_vns "$C" curl -sf -m 3 'http://[2001:db8:2::1]:8080/')" = "served-by-$W" ]
	run in_vns "$C" curl -sf -m 2 http://203.0.113.1:8080/
	[ "$status" -ne 0 ]
	# 8081 without a host address: both families
	[ "$(in_vns "$C" curl -sf -m 3 'http://[2001:db8:2::1]:8081/')" = "served-by-$W" ]
	[ "$(in_vns "$C" curl -sf -m 3 http://203.0.113.1:8081/)" = "served-by-$W" ]
	# hairpin: the server itself and its neighbour, through the host's address
	# (the host's curl in the servers' network namespaces: busybox wget of
	# the default image dies of SIGSEGV here)
	[ "$(in_server "$W" curl -sf -m 3 http://203.0.113.1:8081/)" = "served-by-$W" ]
	[ "$(in_server "${W}2" curl -sf -m 3 http://203.0.113.1:8081/)" = "served-by-$W" ]
	[ "$(in_server "${W}2" curl -sf -m 3 'http://[2001:db8:2::1]:8080/')" = "served-by-$W" ]
	# tcp/8080 is taken on IPv6, so an IPv4 publish of it is refused, cleanly
	veths=$(vs_veths)
	vs create "${W}3" --publish 203.0.113.1:8080:80 -- sh -c "$LOOP"
	run vs start "${W}3"
	echo "$output"
	[ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
	[[ $output == vserver:*"netns: port tcp/8080: already published"* ]]
	[ "$(vs_status "${W}3")" = stopped ]
	[ -z "$(vs_leftovers "${W}3")" ]
	[ "$(vs_veths)" -eq "$veths" ]
	! grep -q "^port ${W}3 " "$VSTMP"/lib/net/*.net
	! in_vns "$VNS" nft list table inet vserver | grep -q "vs:${W}3"
	# and the first server still serves
	[ "$(in_vns "$C" curl -sf -m 3 'http://[2001:db8:2::1]:8080/')" = "served-by-$W" ]
}

mk_httpd() { # mk_httpd NAME ARGS...: a server answering "served-by-NAME" on port 80
	local n=$1
	shift
	vs create "$n" "$@" -- sh -c \
		"mkdir -p /www; echo served-by-\$HOSTNAME >/www/index.html; httpd -f -p 80 -h /www"
}

# isolated_round: what the isolated network's servers and the host reach
isolated_round() {
	# the host itself: 127.0.0.1, its own addresses (v4, v6), the gateway's
	[ "$(in_vns "$VNS" curl -sf -m 3 http://127.0.0.1:8081/)" = "served-by-${W}1" ]
	[ "$(in_vns "$VNS" curl -sf -m 3 http://203.0.113.1:8082/)" = "served-by-${W}2" ]
	[ "$(in_vns "$VNS" curl -sf -m 3 'http://[2001:db8:2::1]:8081/')" = "served-by-${W}1" ]
	[ "$(in_vns "$VNS" curl -sf -m 3 http://10.77.0.1:8082/)" = "served-by-${W}2" ]
	# each other's and their own published ports, through the host's address
	[ "$(in_server "${W}2" curl -sf -m 3 http://203.0.113.1:8081/)" = "served-by-${W}1" ]
	[ "$(in_server "${W}1" curl -sf -m 3 http://203.0.113.1:8082/)" = "served-by-${W}2" ]
	[ "$(in_server "${W}1" curl -sf -m 3 http://203.0.113.1:8081/)" = "served-by-${W}1" ]
	# but not each other directly
	run in_server "${W}2" curl -sf -m 2 http://10.77.0.2:80/
	[ "$status" -ne 0 ]
	vs exec "${W}1" ping -c1 -W2 10.77.0.1 >/dev/null
	run vs exec "${W}1" ping -c1 -W1 10.77.0.3
	[ "$status" -eq 1 ]
}

@test "vserver net: isolated servers reach published ports, not each other; the host reaches them on 127.0.0.1" {
	vs net create tenants --bridge vsbr9 --subnet 10.77.0.0/24 --isolate
	mk_httpd "${W}1" --net tenants --publish 8081:80
	mk_httpd "${W}2" --net tenants --publish 8082:80
	vs start "${W}1"
	vs start "${W}2"
	wait_for vs exec "${W}1" sh -c 'netstat -ltn | grep -q ":80 "'
	wait_for vs exec "${W}2" sh -c 'netstat -ltn | grep -q ":80 "'
	local f=/proc/sys/net/bridge/bridge-nf-call-iptables
	if in_vns "$VNS" test -e $f; then
		in_vns "$VNS" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
			net.bridge.bridge-nf-call-ip6tables=1
		isolated_round
		in_vns "$VNS" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0
	else
		echo "# no br_netfilter in this kernel: only the routed path is tested" >&3
	fi
	isolated_round
	vs destroy --force "${W}1"
	vs destroy --force "${W}2"
	vs net rm tenants
	[ -z "$(vs net ls)" ]
	! in_vns "$VNS" nft list table inet vserver >/dev/null 2>&1
	! in_vns "$VNS" nft list table bridge vserver >/dev/null 2>&1
}

@test "vserver net: --net none gives only lo" {
	mk_idle "$W" --net none
	run vs info --format json "$W"
	[ "$(echo "$output" | jq -r .net)" = none ]
	[ "$(echo "$output" | jq -r .ip)" = - ]
	vs start "$W"
	[ "$(vs exec "$W" ls /sys/class/net)" = lo ]
	[ "$(vs_veths)" -eq 0 ]
	run vs exec "$W" ping -c1 -W1 172.30.0.1
	[ "$status" -ne 0 ]
	# stats and set work without a network
	vs stats --format json "$W" | jq -e '.netRx == 0'
	vs set "$W" --bandwidth 10mbit
}

# rate_into W [-R]: kbit/s of ~2 s of iperf3 between the host and server W
# (towards it; -R: from it), from the bytes received and iperf3's seconds
rate_into() {
	in_server "$1" timeout 30 iperf3 -s -1 -B 172.30.0.2 >/dev/null 2>&1 &
	wait_for in_server "$1" sh -c "ss -Hltn 'sport = :5201' | grep -q ."
	in_vns "$VNS" timeout 20 iperf3 -c 172.30.0.2 -t 2 -J ${2:-} |
		jq '.end.sum_received | .bytes * 8 / .seconds / 1e3 | floor'
	wait
}

@test "vserver net: the bandwidth cap holds within 30% both ways (iperf3)" {
	command -v iperf3 >/dev/null || skip "iperf3 is not installed"
	mk_idle "$W" --bandwidth 8mbit
	vs start "$W"
	# towards the server (tbf on the host end of its veth)
	in=$(rate_into "$W")
	# from the server (iperf3 -R; tbf on the ifb)
	out=$(rate_into "$W" -R)
	echo "# cap 8 Mbit/s: in $in kbit/s, out $out kbit/s" >&3
	[ "$in" -ge 5600 ] && [ "$in" -le 10400 ]
	[ "$out" -ge 5600 ] && [ "$out" -le 10400 ]
	# lifted live: far above the cap
	vs set "$W" --bandwidth none
	in=$(rate_into "$W")
	echo "# uncapped: $in kbit/s" >&3
	[ "$in" -ge 40000 ]
}
