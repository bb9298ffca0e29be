#!/usr/bin/env bats
# netns/: bridge, veth, addresses, NAT, published ports, bandwidth caps,
# isolation, teardown and errors, for real, but contained. Every test makes
# its own namespaces:
#   $H   plays the host: the module runs only in here (ip netns exec $H ...),
#        with its own bridge, its own nftables table and ip_forward
#   $O   plays the outside world: a veth to $H, 198.51.100.0/24 (TEST-NET-2)
#        and 2001:db8:1::/64 (documentation prefix), which exist only in these
#        two namespaces; no route to the servers
#   $S1 $S2   two servers
# No traffic leaves these namespaces; the real host's interfaces, routes and
# nftables are never touched.

load helpers

ROOT_DIR=$BATS_TEST_DIRNAME/..

setup_file() {
	local b=${BUILD:-build} objs o
	objs="$b/common/common.o"
	for o in "$ROOT_DIR"/netns/*.c; do objs="$objs $b/netns/$(basename "${o%.c}").o"; done
	make -s -C "$ROOT_DIR" $objs >&2
	DRIVER=$BATS_FILE_TMPDIR/netns-driver
	(cd "$ROOT_DIR" && cc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
		$(pkg-config --cflags libnl-3.0 libnl-route-3.0 libnftables) \
		-o "$DRIVER" tests/netns-driver.c $objs \
		$(pkg-config --libs libnl-3.0 libnl-route-3.0 libnftables))
	export DRIVER
}

setup() {
	local p=vsnt$$x${BATS_TEST_NUMBER}
	H=${p}h O=${p}o S1=${p}s1 S2=${p}s2
	STATE=$(mktemp -d /tmp/vsnet-test.XXXXXX)
	for ns in $H $O $S1 $S2; do ip netns add $ns; ip -n $ns link set lo up; done
	ip -n $H link add up0 type veth peer name eth0 netns $O
	ip -n $H addr add 198.51.100.1/24 dev up0
	ip -n $H addr add 2001:db8:1::1/64 dev up0 nodad
	ip -n $H link set up0 up
	ip -n $O addr add 198.51.100.2/24 dev eth0
	ip -n $O addr add 2001:db8:1::2/64 dev eth0 nodad
	ip -n $O link set eth0 up
}

teardown() {
	local ns pid
	for ns in $H $O $S1 $S2; do
		for pid in $(ip netns pids $ns 2>/dev/null); do kill $pid 2>/dev/null || true; done
		ip netns del $ns 2>/dev/null || true
	done
	rm -rf "$STATE"
}

# drv ARGS...: the module, run inside the "host"
drv() { ip netns exec $H "$DRIVER" -s "$STATE" "$@"; }
in_ns() { local ns=$1; shift; ip netns exec $ns "$@"; }
ping1() { in_ns $1 busybox ping -c1 -W1 "$2" >/dev/null; }
# serve NS PORT [N]: the driver accepts N connections in NS, peers into $STATE/seen
serve() {
	: >"$STATE/seen"
	in_ns $1 timeout 20 "$DRIVER" serve $2 ${3:-1} >"$STATE/seen" &
	for i in $(seq 50); do grep -q listening "$STATE/seen" && break; sleep 0.1; done
}
# connect NS IP PORT: prints what the server saw as the client's address
connect() { in_ns $1 "$DRIVER" connect $2 $3; }
# nft_rules: every rule of our table with its owner (handles left out)
nft_rules() { drv nft "list table inet vserver" | sed 's/ # handle [0-9]*//'; }

start_two() {
	drv net-create default "$@"
	drv start web1 -n default -N /run/netns/$S1
	drv start web2 -n default -N /run/netns/$S2
}

@test "net: servers get addresses, routes, a stable MAC, and reach each other" {
	start_two
	run drv alloc web1 -n default
	[[ $output == *"ip4=172.30.0.2/24 gw4=172.30.0.1"* ]]
	mac=$(sed -n 's/.*mac=\([^ ]*\).*/\1/p' <<<"$output")
	[ "$(in_ns $S1 cat /sys/class/net/eth0/address)" = "$mac" ]
	in_ns $S1 ip -4 route | grep -q "default via 172.30.0.1 dev eth0"
	in_ns $S1 ip -6 route | grep -q "default via fd.*::1 dev eth0"
	ping1 $S1 172.30.0.3
	ping1 $S2 172.30.0.2
	ip6=$(drv alloc web2 -n default | sed -n 's/.*ip6=\([^/]*\).*/\1/p')
	in_ns $S1 busybox ping6 -c1 -W1 "$ip6" >/dev/null
	[ "$(in_ns $H cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
}

@test "net: outbound traffic is masqueraded to the host's address" {
	start_two
	in_ns $O timeout 10 "$DRIVER" serve 9000 >"$STATE/seen" &
	for i in $(seq 50); do grep -q listening "$STATE/seen" && break; sleep 0.1; done
	run in_ns $S1 "$DRIVER" connect 198.51.100.2 9000
	[ "$status" -eq 0 ]
	[ "$output" = "peer=198.51.100.1" ]
	wait
	# and the outside has no route back to the servers themselves
	! ping1 $O 172.30.0.2
}

@test "net: a published port is reached from outside; a second publish is refused" {
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -P tcp:0.0.0.0:8080:80
	in_ns $S1 timeout 10 "$DRIVER" serve 80 >"$STATE/seen" &
	for i in $(seq 50); do grep -q listening "$STATE/seen" && break; sleep 0.1; done
	run in_ns $O "$DRIVER" connect 198.51.100.1 8080
	[ "$status" -eq 0 ]
	[ "$output" = "peer=198.51.100.2" ]
	wait
	run drv start web2 -n default -N /run/netns/$S2 -P tcp:198.51.100.1:8080:80
	[ "$status" -eq 1 ]
	[ "$output" = "netns: port tcp/8080: already published" ]
	# nothing of web2 was left
	! in_ns $H ip link show vs-web2 2>/dev/null
	! in_ns $S2 ip link show eth0 2>/dev/null
	! grep -q web2 "$STATE/default.net"
	! drv nft "list table inet vserver" | grep -q 'vs:web2'
	# udp and tcp of one port number are different ports
	drv start web2 -n default -N /run/netns/$S2 -P udp:0.0.0.0:8080:53
}

@test "net: IPv6 published ports land on the server's ULA address; IPv6 is masqueraded" {
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -P 'tcp:*:8080:80' \
		-P 'tcp:[2001:db8:1::1]:8443:80' -P tcp:0.0.0.0:8081:80 \
		-P tcp:198.51.100.1:8082:80 -P 'tcp:[2001:db8:1::1]:8082:80'
	ip6=$(drv alloc web1 -n default | sed -n 's/.*ip6=\([^/]*\).*/\1/p')
	serve $S1 80 5
	# no host address: both families
	[ "$(connect $O 2001:db8:1::1 8080)" = "peer=2001:db8:1::2" ]
	[ "$(connect $O 198.51.100.1 8080)" = "peer=198.51.100.2" ]
	# [v6]:8443 only on that address and family
	[ "$(connect $O 2001:db8:1::1 8443)" = "peer=2001:db8:1::2" ]
	# one port on one address of each family
	[ "$(connect $O 198.51.100.1 8082)" = "peer=198.51.100.2" ]
	[ "$(connect $O 2001:db8:1::1 8082)" = "peer=2001:db8:1::2" ]
	wait
	grep -qx "peer=2001:db8:1::2 local=$ip6" "$STATE/seen"
	grep -qx "peer=198.51.100.2 local=172.30.0.2" "$STATE/seen"
	! connect $O 198.51.100.1 8443 2>/dev/null
	# 0.0.0.0: IPv4 only
	! connect $O 2001:db8:1::1 8081 2>/dev/null
	# outbound IPv6 leaves with the host's address
	serve $O 9000
	[ "$(connect $S1 2001:db8:1::2 9000)" = "peer=2001:db8:1::1" ]
	wait
	[ "$(in_ns $H cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ]
	# and stop takes the IPv6 rules too
	drv stop web1 -n default
	run nft_rules
	[[ $output != *vs:web1* && $output != *"tcp . 80"* ]]
}

@test "net: UDP published ports, IPv4 and IPv6" {
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -P 'udp:*:5353:53' -P tcp:0.0.0.0:5354:53
	ip6=$(drv alloc web1 -n default | sed -n 's/.*ip6=\([^/]*\).*/\1/p')
	# DST CLIENT LANDED-ON: the client's own address comes back; the datagram
	# lands on the server's address of the client's family
	for case in "198.51.100.1 198.51.100.2 172.30.0.2" "2001:db8:1::1 2001:db8:1::2 $ip6"; do
		set -- $case
		: >"$STATE/useen"
		in_ns $S1 timeout 10 "$DRIVER" udp-serve 53 >"$STATE/useen" &
		for i in $(seq 50); do grep -q listening "$STATE/useen" && break; sleep 0.1; done
		run in_ns $O "$DRIVER" udp-send $1 5353
		wait
		[ "$status" -eq 0 ] && [ "$output" = "peer=$2" ]
		grep -qx "peer=$2 local=$3" "$STATE/useen"
	done
	# the tcp port of that number is not udp
	in_ns $S1 timeout 4 "$DRIVER" udp-serve 53 >/dev/null &
	! in_ns $O "$DRIVER" udp-send 198.51.100.1 5354 2>/dev/null
	kill %1 2>/dev/null || true
	wait || true
}

# hairpin_round: the connections of the hairpin test, into $S1's port 80
hairpin_round() {
	serve $S1 80 7
	# its own published port, through the host's outside address
	[ "$(connect $S1 198.51.100.1 8080)" = "peer=172.30.0.1" ]
	[ "$(connect $S1 198.51.100.1 8081)" = "peer=172.30.0.1" ]
	# another server's, through the outside address and the gateway's
	[ "$(connect $S2 198.51.100.1 8080)" = "peer=172.30.0.1" ]
	[ "$(connect $S2 172.30.0.1 8080)" = "peer=172.30.0.1" ]
	# IPv6 the same way
	[ "$(connect $S1 2001:db8:1::1 8080)" = "peer=$gw6" ]
	[ "$(connect $S2 2001:db8:1::1 8080)" = "peer=$gw6" ]
	# a client from outside still shows its own address
	[ "$(connect $O 198.51.100.1 8080)" = "peer=198.51.100.2" ]
	wait
	[ "$(grep -c local=172.30.0.2 "$STATE/seen")" = 5 ]
}

@test "net: hairpin: servers reach published ports through the host's addresses" {
	start_two
	drv stop web1 -n default
	drv start web1 -n default -N /run/netns/$S1 -P 'tcp:*:8080:80' \
		-P tcp:198.51.100.1:8081:80
	gw6=$(drv alloc web1 -n default | sed -n 's/.*gw6=\([^ ]*\).*/\1/p')
	in_ns $H bridge -d link show dev vs-web1 | grep -q "hairpin on"
	# with br_netfilter (the bridge runs the NAT hooks: the port needs hairpin)
	# and without it (the host routes the packet): both paths must work
	local f=/proc/sys/net/bridge/bridge-nf-call-iptables
	if in_ns $H test -e $f; then
		in_ns $H sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
			net.bridge.bridge-nf-call-ip6tables=1
		hairpin_round
		in_ns $H sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0
	else
		echo "# no br_netfilter in this kernel: only the routed path is tested" >&3
	fi
	hairpin_round
}

# in_host CMD...: a command in the "host" namespace, network only (nsenter,
# so nothing of the real host's mounts or /sys is remade for it)
in_host() { nsenter --net=/run/netns/$H "$@"; }

@test "net: the host itself reaches a published port (127.0.0.1, its own addresses)" {
	local lnet=/proc/sys/net/ipv4/conf/all/route_localnet before
	before=$(in_host cat $lnet)
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -P 'tcp:*:8080:80'
	gw6=$(drv alloc web1 -n default | sed -n 's/.*gw6=\([^ ]*\).*/\1/p')
	# route_localnet only on the bridge, never "all"
	[ "$(in_host cat /proc/sys/net/ipv4/conf/vsbr0/route_localnet)" = 1 ]
	[ "$(in_host cat $lnet)" = "$before" ]
	serve $S1 80 4
	# loopback: masqueraded to the gateway's address (a server cannot answer 127.0.0.1)
	[ "$(in_host "$DRIVER" connect 127.0.0.1 8080)" = "peer=172.30.0.1" ]
	# the host's own addresses: the outside one and the gateway's, v4 and v6
	[ "$(in_host "$DRIVER" connect 198.51.100.1 8080)" = "peer=198.51.100.1" ]
	[ "$(in_host "$DRIVER" connect 172.30.0.1 8080)" = "peer=172.30.0.1" ]
	[ "$(in_host "$DRIVER" connect 2001:db8:1::1 8080)" = "peer=2001:db8:1::1" ]
	wait
	[ "$(grep -c local=172.30.0.2 "$STATE/seen")" = 3 ]
	grep -q "local=fd5f:df16:b872::2" "$STATE/seen"
	# [::1] cannot be routed to the bridge: refused at once, not DNATed into a drop
	run in_host "$DRIVER" connect ::1 8080
	[ "$status" -ne 0 ] && [[ $output == *"refused"* ]]
	# route_localnet on the bridge must not open the host's loopback services
	# to the servers (the CVE-2020-8558 class): packets from the bridge to
	# 127.0.0.0/8 are dropped at raw priority. (A server routing 127.0.0.1 to
	# the gateway did not get through in these namespaces even without the
	# rule, so the rule itself is what is checked.)
	in_host nft list chain inet vserver localnet | grep -q 'iifname "vsbr0" ip daddr 127.0.0.0/8 drop'
	drv release web1 -n default
	drv net-remove default
	# nothing left: no table, no rule, the sysctl as it was, no bridge
	! in_host nft list table inet vserver 2>/dev/null
	[ "$(in_host cat $lnet)" = "$before" ]
	! in_host test -e /proc/sys/net/ipv4/conf/vsbr0
}

# iperf3 for ~2 s through the cap; prints kbit/s: the bytes the receiver got
# over the seconds iperf3 says it received them in
measure() { # measure SERVER_NS [-R]
	in_ns $O timeout 30 iperf3 -s -1 -B 198.51.100.2 >/dev/null 2>&1 &
	for i in $(seq 50); do in_ns $O ss -Hltn 'sport = :5201' | grep -q . && break; sleep 0.1; done
	in_ns $1 timeout 20 iperf3 -c 198.51.100.2 -t 2 -J $2 |
		jq '.end.sum_received | .bytes * 8 / .seconds / 1e3 | floor'
	wait
}

@test "net: bandwidth caps hold in both directions and change live" {
	command -v iperf3 >/dev/null || skip "iperf3 is not installed"
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -I 10000000 -O 10000000
	up=$(measure $S1)
	down=$(measure $S1 -R)
	echo "# cap 10 Mbit/s: server upload $up kbit/s, download $down kbit/s" >&3
	[ "$up" -ge 7000 ] && [ "$up" -le 13000 ]
	[ "$down" -ge 7000 ] && [ "$down" -le 13000 ]
	drv rate web1 20000000 0
	in_ns $H tc qdisc show dev vs-web1 | grep -q "tbf.*rate 20Mbit"
	! in_ns $H ip link show vsi-web1 2>/dev/null
	down=$(measure $S1 -R)
	echo "# cap changed live to 20 Mbit/s: download $down kbit/s" >&3
	[ "$down" -ge 14000 ] && [ "$down" -le 26000 ]
	up=$(measure $S1)
	echo "# upload cap removed: upload $up kbit/s" >&3
	[ "$up" -ge 40000 ]
}

# isolated_round: on an isolated network, servers reach the gateway and each
# other's published ports through the host's addresses, and nothing directly
isolated_round() {
	ping1 $S1 172.30.0.1
	! ping1 $S1 172.30.0.3
	! ping1 $S2 172.30.0.2
	! in_ns $S1 busybox ping -c1 -W1 fd5f:df16:b872::3 >/dev/null
	# direct TCP to the other server's real port: dropped (times out, 3 s)
	serve $S2 80 1
	! connect $S1 172.30.0.3 80
	# published ports through the host: the other's and its own, v4 and v6
	[ "$(connect $S1 198.51.100.1 8082)" = "peer=172.30.0.1" ]
	wait
	serve $S1 80 5
	# an outside client still shows its own address
	[ "$(connect $O 198.51.100.1 8080)" = "peer=198.51.100.2" ]
	[ "$(connect $S2 198.51.100.1 8080)" = "peer=172.30.0.1" ]
	[ "$(connect $S2 172.30.0.1 8080)" = "peer=172.30.0.1" ]
	[ "$(connect $S1 198.51.100.1 8080)" = "peer=172.30.0.1" ]
	[ "$(connect $S2 2001:db8:1::1 8080)" = "peer=fd5f:df16:b872::1" ]
	wait
}

@test "net: isolated servers reach only the gateway and published ports, br_netfilter on and off" {
	drv net-create default -i
	drv start web1 -n default -N /run/netns/$S1 -P 'tcp:*:8080:80'
	drv start web2 -n default -N /run/netns/$S2 -P 'tcp:*:8082:80'
	local f=/proc/sys/net/bridge/bridge-nf-call-iptables
	if in_host test -e $f; then
		in_host sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
			net.bridge.bridge-nf-call-ip6tables=1
		isolated_round
		in_host sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0
	else
		echo "# no br_netfilter in this kernel: only the routed path is tested" >&3
	fi
	isolated_round
	# stop and remove: no isolation rule, no bridge table left
	drv release web1 -n default
	! in_host nft list table bridge vserver | grep -q vs:web1
	drv release web2 -n default
	drv net-remove default
	! in_host nft list table bridge vserver 2>/dev/null
	! in_host nft list table inet vserver 2>/dev/null
}

@test "net: destroy leaves no veth, ifb, address, route, rule, qdisc or record" {
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -I 10000000 -O 5000000 \
		-P tcp:0.0.0.0:8080:80 -P udp:198.51.100.1:5353:53
	drv release web1 -n default
	run in_ns $H ip -o link show
	[[ $output != *vs-web1* && $output != *vsi-web1* ]]
	! in_ns $S1 ip link show eth0 2>/dev/null
	[ -z "$(in_ns $S1 ip -4 addr show scope global)" ]
	[ -z "$(in_ns $S1 ip route)" ]
	! in_ns $H tc qdisc show | grep -Eq "tbf|ingress"
	run drv nft "list table inet vserver"
	[[ $output != *vs:web1* && $output != *"tcp . 8080"* && $output != *"udp . 5353"* ]]
	! grep -Eq "^(server|port) web1" "$STATE/default.net"
	# the network goes too
	drv net-remove default
	! in_ns $H ip link show vsbr0 2>/dev/null
	! drv nft "list table inet vserver" | grep -q vsnet:default
	[ -z "$(ls "$STATE")" ]
}

@test "net: bad input gives one clear line and leaves nothing" {
	drv net-create default
	drv start web1 -n default -N /run/netns/$S1 -P 'tcp:[2001:db8:1::1]:8080:80' \
		-P tcp:198.51.100.1:5353:53
	before=$(cat "$STATE/default.net")
	links=$(in_ns $H ip -o link show | wc -l)
	rules=$(nft_rules)
	# a port published on one family is taken on the other (tcp/udp are apart)
	run drv start web2 -n default -N /run/netns/$S2 -P tcp:198.51.100.1:8080:80
	[ "$status" -eq 1 ] && [ "$output" = "netns: port tcp/8080: already published" ]
	run drv start web2 -n default -N /run/netns/$S2 -P 'tcp:[2001:db8:1::9]:5353:53'
	[ "$output" = "netns: port tcp/5353: already published" ]
	run drv start web2 -n default -N /run/netns/$S2 -P udp:0.0.0.0:9000:90 -P 'tcp:*:8080:80'
	[ "$output" = "netns: port tcp/8080: already published" ]
	run drv start web2 -n default -N /run/netns/$S2 -P tcp:0.0.0.0:9000:90 -P 'tcp:*:9000:91'
	[ "$output" = "netns: port tcp/9000: given twice" ]
	run drv start web2 -n default -N /run/netns/$S2 -P 'tcp:[2001:db8:1::1]:9000:90' \
		-P 'tcp:[2001:db8:1:0::1]:9000:91'
	[ "$output" = "netns: port tcp/9000: given twice" ]
	run drv start web2 -n default -N /run/netns/$S2 -P tcp:web.example:9000:90
	[ "$output" = 'netns: port tcp/9000: host address "web.example": not an IPv4 or IPv6 address' ]
	[ "$(nft_rules)" = "$rules" ]
	! in_ns $H ip link show vsi-web2 2>/dev/null
	run drv start web2 -n default -N /run/netns/$S2 -a 172.30.9.9
	[ "$output" = "netns: address 172.30.9.9: not in 172.30.0.0/24" ]
	run drv start web2 -n default -N /run/netns/$S2 -a 172.30.0.300
	[ "$output" = "netns: address 172.30.0.300: not in 172.30.0.0/24" ]
	run drv start web2 -n default -N /run/netns/$S2 -a 172.30.0.2
	[ "$output" = "netns: address 172.30.0.2: taken by server web1" ]
	run drv start web2 -n nosuch -N /run/netns/$S2
	[ "$output" = "netns: network nosuch: unknown network" ]
	run drv start web1 -n default -N /run/netns/$S2
	[ "$output" = "netns: veth vs-web1: add: EEXIST (File exists)" ]
	run drv net-create other -b up0 -4 10.9.0.0/24
	[ "$output" = "netns: bridge up0: add: EEXIST (File exists)" ]
	run drv net-create other -b vsbr0 -4 10.9.0.0/24
	[ "$output" = "netns: bridge vsbr0: add: EEXIST (File exists)" ]
	run drv net-remove default
	[ "$output" = "netns: network default: 1 server(s) still have addresses" ]
	[ "$(cat "$STATE/default.net")" = "$before" ]
	[ "$(in_ns $H ip -o link show | wc -l)" = "$links" ]
	[ "$(nft_rules)" = "$rules" ]
	! in_ns $S2 ip link show eth0 2>/dev/null
	[ ! -e "$STATE/other.net" ] && [ ! -e "$STATE/other.lock" ] && [ ! -e "$STATE/nosuch.lock" ]
	ping1 $S1 172.30.0.1   # web1 untouched by the failed start with its name
	# an IPv6 host address on a network without IPv6
	drv net-create v4only -b vsbr1 -4 10.9.0.0/24 -6 none
	rules=$(nft_rules)
	run drv start web2 -n v4only -N /run/netns/$S2 -P 'tcp:[2001:db8:1::1]:7000:80'
	[ "$output" = "netns: port tcp/7000: host address 2001:db8:1::1: network v4only has no IPv6" ]
	! grep -q web2 "$STATE/v4only.net"
	[ "$(nft_rules)" = "$rules" ]
	! in_ns $S2 ip link show eth0 2>/dev/null
}

@test "net: 20 concurrent allocations get 20 distinct addresses" {
	drv net-create default
	for i in $(seq 20); do drv alloc s$i -n default >/dev/null & done
	wait
	[ "$(grep -c '^server ' "$STATE/default.net")" = 20 ]
	[ "$(grep '^server ' "$STATE/default.net" | awk '{print $3}' | sort -u | wc -l)" = 20 ]
	off=$(awk '$2 == "s7" {print $3}' "$STATE/default.net")
	drv release s7 -n default
	run drv alloc late -n default
	[[ $output == *"ip4=172.30.0.$off/24"* ]]   # the lowest free: s7's freed one
}

@test "net: resolv.conf, hosts and hostname for a server" {
	drv net-create default
	drv files web1 -n default "$STATE" web1.example
	grep -qx "nameserver 192.0.2.53" "$STATE/resolv.conf"
	grep -q "^172.30.0.2	web1.example$" "$STATE/hosts"
	[ "$(cat "$STATE/hostname")" = web1.example ]
}
