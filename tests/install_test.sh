#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/install_test.sh: `make install` into a scratch DESTDIR, then build a small
# program against the installed libotel with pkg-config, once against libotel.so and
# once against libotel.a, and run both. Also checks libotel.so exports only otel_*.
# Called by tests/run.sh; needs a finished build.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
prefix=/usr

DEPS_DONE=1 $MAKE --no-print-directory BUILD="$BUILD" install DESTDIR="$root" PREFIX="$prefix"

for f in include/otel/version.h lib/libotel.a lib/libotel.so.0 lib/libotel.so \
	lib/pkgconfig/otel.pc; do
	[ -e "$root$prefix/$f" ] || { echo "not installed: $prefix/$f"; exit 1; }
done

# The .so must export otel_* and nothing else (visibility + version script).
extra=$(nm -D --defined-only "$root$prefix/lib/libotel.so.0" | awk '{ print $3 }' |
	grep -v -e '^otel_' -e '^OTEL_' || true)
if [ -n "$extra" ]; then
	echo "libotel.so exports symbols without the otel_ prefix:"
	echo "$extra"
	exit 1
fi

# pkg-config finds the .pc in the DESTDIR; the sysroot prefixes its -I/-L paths.
export PKG_CONFIG_PATH=$root$prefix/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
[ "$(pkg-config --modversion otel)" = "$(cat VERSION)" ] || {
	echo "otel.pc version $(pkg-config --modversion otel) != VERSION $(cat VERSION)"
	exit 1
}

cat >"$tmp/prog.c" <<'PROG'
#include <stdio.h>
#include <otel/version.h>

int main(void)
{
	printf("%s\n", otel_version_string());
	return 0;
}
PROG

# Shared: plain `pkg-config --cflags --libs`.
# shellcheck disable=SC2046
$CC -Wall -Werror -o "$tmp/prog_shared" "$tmp/prog.c" $(pkg-config --cflags --libs otel)
out=$(LD_LIBRARY_PATH=$root$prefix/lib "$tmp/prog_shared")
[ "$out" = "$(cat VERSION)" ] || { echo "shared: printed '$out', want $(cat VERSION)"; exit 1; }
LD_LIBRARY_PATH=$root$prefix/lib ldd "$tmp/prog_shared" | grep -q "$root$prefix/lib/libotel.so.0"

# Static libotel: -l:libotel.a picks the archive; its own dependencies stay shared (a fully
# static libcurl needs every one of curl's -dev packages). Depth 2 lists otel's Libs.private
# without expanding libcurl's own private libraries.
# shellcheck disable=SC2046
$CC -Wall -Werror -o "$tmp/prog_static" "$tmp/prog.c" $(pkg-config --cflags otel) \
	$(pkg-config --static --maximum-traverse-depth=2 --libs otel | sed 's/-lotel\b/-l:libotel.a/')
out=$("$tmp/prog_static")
[ "$out" = "$(cat VERSION)" ] || { echo "static: printed '$out', want $(cat VERSION)"; exit 1; }
if ldd "$tmp/prog_static" | grep -q libotel; then
	echo "static: prog_static still links libotel.so"
	exit 1
fi
echo "install test ok: $prefix in $root, version $out"
