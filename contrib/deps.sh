#!/bin/bash
# contrib/deps.sh — installs the Debian packages decoyproxy needs to build,
# test and run its demo, when they are missing. Sourced by check.sh/demo.sh.

# build
DP_BUILD_PKGS="build-essential autoconf automake pkg-config libev-dev libmnl-dev libnftnl-dev libpcre2-dev libcmocka-dev"
# tests and demo: namespaces, nft, real peers, traffic tools; clang-tools:
# scan-build, for contrib/scan.sh; strace, linux-perf: bench/connpath.sh;
# libclang-rt-14-dev: libFuzzer for tests/fuzz (only recommended by clang,
# so --no-install-recommends would leave the fuzz runs without it); groff:
# tests/test_manpage.sh checks the man pages for roff warnings
DP_TEST_PKGS="iproute2 nftables haproxy nginx-light libnginx-mod-stream tshark socat iperf3 procps psmisc util-linux jq python3 python3-jsonschema clang libclang-rt-14-dev clang-tools groff-base valgrind nmap iputils-ping curl openssh-client openssl tcpflow libndpi-bin prometheus chromium strace linux-perf dnsmasq-base bind9-dnsutils snmp snmpd sntp"

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
	# progress shows: on a terminal as apt draws it, in a log (not a
	# terminal) as apt's plain one-line-per-step output (-q)
	local q=()
	[ -t 1 ] || q=(-q)
	apt-get "${q[@]}" update && apt-get "${q[@]}" -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
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
