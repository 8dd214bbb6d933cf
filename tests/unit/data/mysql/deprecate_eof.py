#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# A minimal MySQL client for the deprecate_eof fixture (run by record.sh): Debian's
# clients do not negotiate CLIENT_DEPRECATE_EOF, so this one does, to record the server's
# real replies in that mode: result sets ended by an OK packet with header 0xfe, an empty
# one, a multi-statement query, a prepare reply without EOF packets, binary rows, a cursor
# with COM_STMT_FETCH, "USE" (session state tracking), and a quit. It reads whatever the
# server sends after each command until the line is quiet (it parses nothing).
#   deprecate_eof.py PORT USER PASSWORD DB
import hashlib
import socket
import struct
import sys

port, user, password, db = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(0.3)


def drain():
    got = b""
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return got
        if not d:
            return got
        got += d


def send(seq, payload):
    s.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload)


greeting = drain()
p = greeting[4:]
v_end = p.index(b"\0", 1)
scramble = p[v_end + 5:v_end + 13] + p[v_end + 32:v_end + 44]
h1 = hashlib.sha1(password.encode()).digest()
h2 = hashlib.sha1(h1).digest()
token = bytes(a ^ b for a, b in zip(h1, hashlib.sha1(scramble + h2).digest()))
caps = (0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 |
        0x800000 | 0x1000000)  # LONG_FLAG CONNECT_WITH_DB PROTOCOL_41 TRANSACTIONS
# SECURE_CONNECTION MULTI_STATEMENTS MULTI_RESULTS PS_MULTI_RESULTS PLUGIN_AUTH
# SESSION_TRACK DEPRECATE_EOF
send(1, struct.pack("<IIB", caps, 1 << 24, 33) + bytes(23) + user.encode() + b"\0" +
     bytes([len(token)]) + token + db.encode() + b"\0" + b"mysql_native_password\0")
drain()
for q in [b"SELECT id, item FROM orders ORDER BY id",
          b"SELECT item FROM orders WHERE id < 0",
          b"SELECT 1 AS a; SELECT 'b' AS b"]:
    send(0, b"\x03" + q)
    drain()
send(0, b"\x16SELECT item, qty FROM orders WHERE id >= ?")
prep = drain()
stmt = prep[5:9]
# COM_STMT_EXECUTE: no cursor, one LONG parameter (2), types sent
send(0, b"\x17" + stmt + b"\x00" + struct.pack("<I", 1) + b"\x00\x01\x03\x00" +
     struct.pack("<i", 2))
drain()
# the same with a read-only cursor, then fetch two rows, then the rest
send(0, b"\x17" + stmt + b"\x01" + struct.pack("<I", 1) + b"\x00\x01\x03\x00" +
     struct.pack("<i", 1))
drain()
send(0, b"\x1c" + stmt + struct.pack("<I", 2))
drain()
send(0, b"\x1c" + stmt + struct.pack("<I", 10))
drain()
send(0, b"\x19" + stmt)
send(0, b"\x03USE other")
drain()
send(0, b"\x01")
drain()
s.close()
