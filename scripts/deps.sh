#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/deps.sh: installs the Debian packages the build and the tests need.
# Owns the list of system packages, grouped: "base" (always) plus any groups
# named as arguments (e.g. `scripts/deps.sh bench`). Idempotent and quiet: it
# asks dpkg which packages are missing and only then runs apt-get (one update,
# one install). Every Makefile entry point runs it through the `deps` target.
set -euo pipefail

# Package groups. Add a group here, then pass its name as an argument.
group_packages() {
	case "$1" in
	base)
		echo build-essential clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
			pkg-config protobuf-c-compiler libprotobuf-c-dev libcurl4-openssl-dev \
			libcmocka-dev libclang-rt-14-dev curl nginx systemtap-sdt-dev
		;;
	bench)
		# Benchmark peers and load generators go here.
		echo wrk
		;;
	*)
		echo "deps.sh: unknown package group '$1' (known: base bench)" >&2
		return 1
		;;
	esac
}

wanted=()
for group in base "$@"; do
	list=$(group_packages "$group") || exit 1
	read -r -a pkgs <<<"$list"
	wanted+=("${pkgs[@]}")
done

# One dpkg-query for all: installed packages print "<name> install ok installed".
# Unknown packages print nothing on stdout (an error on stderr), so they count as missing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null |
	awk '$NF == "installed" { print $1 }' || true)
missing=()
for pkg in "${wanted[@]}"; do
	if ! grep -qxF -- "$pkg" <<<"$installed"; then
		missing+=("$pkg")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
	echo "deps.sh: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
