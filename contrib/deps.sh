#!/bin/bash
# contrib/deps.sh — installs the Debian packages decoyproxy needs to build,
# test and run its demo, when they are missing. Sourced by check.sh/demo.sh.

# build
DP_BUILD_PKGS="build-essential autoconf automake pkg-config libev-dev libmnl-dev libnftnl-dev libpcre2-dev libcmocka-dev"
# tests and demo: namespaces, nft, real peers, traffic tools; clang-tools:
# scan-build, for contrib/scan.sh; strace, linux-perf: bench/connpath.sh
DP_TEST_PKGS="iproute2 nftables haproxy nginx-light libnginx-mod-stream tshark socat iperf3 procps psmisc util-linux jq python3 python3-jsonschema clang clang-tools valgrind nmap iputils-ping curl openssh-client openssl tcpflow libndpi-bin prometheus chromium strace linux-perf dnsmasq-base bind9-dnsutils snmp snmpd sntp"

dp_install_deps() {
	local missing=() p
	for p in $DP_BUILD_PKGS $DP_TEST_PKGS "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages: ${missing[*]} (run as root, or install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# tshark asks whether non-root users may capture: answer no
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Generates configure and Makefile.in in the source tree when missing or stale.
dp_bootstrap() {
	local src=$1
	if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ] ||
	   [ "$src/Makefile.am" -nt "$src/Makefile.in" ]; then
		(cd "$src" && autoreconf -fi) || return 1
	fi
}

# Bootstraps and configures a build directory; builds.
dp_build() {
	local src=$1 build=$2; shift 2
	dp_bootstrap "$src" || return 1
	mkdir -p "$build"
	(cd "$build" && { [ -f Makefile ] || "$src/configure" "$@"; } && make -j"$(nproc)") || return 1
}
