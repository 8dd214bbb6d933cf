#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Recording TCP proxy for the MySQL fixtures: accepts ONE connection on 127.0.0.1:LPORT,
# relays it to 127.0.0.1:SPORT and writes every read, in order, as a fixture line:
# "> hex" (client to server) or "< hex" (server to client). With CAPTURE > 0, a read
# longer than CAPTURE keeps its first CAPTURE bytes and notes the rest as "+N", as the
# agent's kernel capture does. A run of 16 or more equal bytes is written "XX*N" (byte XX,
# N times), tokens separated by spaces.
#
#   proxy.py LPORT SPORT OUT [CAPTURE [HEADER-LINE...]]
import select
import socket
import sys

lport, sport, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
capture = int(sys.argv[4]) if len(sys.argv) > 4 else 0
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(1)
print("ready", flush=True)
c, _ = ls.accept()
s = socket.create_connection(("127.0.0.1", sport))
f = open(out, "w")
for h in sys.argv[5:]:
    f.write("# %s\n" % h)


def encode(d):
    toks, i, lit = [], 0, bytearray()
    while i < len(d):
        j = i
        while j < len(d) and d[j] == d[i]:
            j += 1
        if j - i >= 16:
            if lit:
                toks.append(lit.hex())
                lit = bytearray()
            toks.append("%02x*%d" % (d[i], j - i))
        else:
            lit += d[i:j]
        i = j
    if lit:
        toks.append(lit.hex())
    return " ".join(toks)


peer = {c: s, s: c}
mark = {c: ">", s: "<"}
live = {c, s}
while live:
    r, _, _ = select.select(list(live), [], [])
    for x in r:
        d = x.recv(65536)
        if not d:
            live.discard(x)
            try:
                peer[x].shutdown(socket.SHUT_WR)
            except OSError:
                pass
            continue
        if capture and len(d) > capture:
            f.write("%s %s +%d\n" % (mark[x], encode(d[:capture]), len(d) - capture))
        else:
            f.write("%s %s\n" % (mark[x], encode(d)))
        peer[x].sendall(d)
f.close()
