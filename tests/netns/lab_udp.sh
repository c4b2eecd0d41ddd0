# lab_udp.sh — the lab of the UDP decoy tests (test_udp.sh, test_udp_mirror.sh),
# sourced after lib.sh and lab_init:
#
#   att (attacker 10.1.0.2, fd01::2) ── dp (decoyproxy; forwards, no
#   rp_filter) ── svc (decoy services 10.2.0.2, fd02::2; default route back
#   via dp)
#
# lab_udp_lab — creates the three namespaces, the veths, routes and sysctls;
# skips when nftables cannot be used in a namespace; waits (bounded) until
# IPv6 duplicate address detection is over, so that neighbour discovery works.
lab_udp_lab() {
	{ lab_ns att && lab_ns dp && lab_ns svc; } >/dev/null || lab_die "cannot create namespaces"
	lab_veth att eth0 10.1.0.2/24,fd01::2/64 dp a0 10.1.0.1/24,fd01::1/64 || lab_die "veth att-dp"
	lab_veth dp s0 10.2.0.1/24,fd02::1/64 svc eth0 10.2.0.2/24,fd02::2/64 || lab_die "veth dp-svc"
	lab_route att add default via 10.1.0.1
	lab_route att -6 add default via fd01::1
	lab_route svc add default via 10.2.0.1
	lab_route svc -6 add default via fd02::1
	lab_sysctl dp net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.a0.rp_filter=0 \
		net.ipv4.conf.s0.rp_filter=0 || lab_die "sysctls"
	lab_sysctl att net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 || lab_die "sysctls (att)"
	lab_exec dp nft list tables >/dev/null 2>&1 || lab_skip "nftables unusable in a namespace here"
	for _ in $(seq 40); do
		[ -z "$(for n in att dp svc; do lab_exec $n ip -6 addr show tentative; done)" ] && break
		sleep 0.1
	done
}

# lab_udp_dnsmasq [DNSMASQ-OPTION...] — dnsmasq in svc on 10.2.0.2 and
# fd02::2 port 53, answering decoy.test (198.51.100.1, fd0d::1) and
# nothing else; returns once it listens (at most 5 s).
lab_udp_dnsmasq() {
	lab_bg svc dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--user=root --group=root --pid-file="$LAB_TMP/dnsmasq.pid" --bind-interfaces \
		--listen-address=10.2.0.2 --listen-address=fd02::2 --except-interface=lo \
		--address=/decoy.test/198.51.100.1 --address=/decoy.test/fd0d::1 "$@"
	for _ in $(seq 50); do
		lab_exec svc ss -Hlun 'sport = :53' | grep -q 10.2.0.2 && break
		sleep 0.1
	done
}
