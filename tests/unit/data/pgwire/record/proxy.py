#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Throwaway recording TCP proxy: 127.0.0.1:55433 -> 127.0.0.1:55432.
# Each connection is written to out/conn-N.bin as records: 'C' (client->server) or
# 'S' (server->client), a 4-byte big-endian length, then the bytes, in the order seen.
import asyncio, struct, itertools, os, sys
LISTEN, UPSTREAM = 55433, 55432
OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/pgrec/out'
counter = itertools.count(1)

async def pump(reader, writer, marker, rec):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            rec.write(marker + struct.pack('>I', len(data)) + data)
            rec.flush()
            writer.write(data)
            await writer.drain()
    except Exception:
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass

async def handle(cr, cw):
    n = next(counter)
    rec = open(os.path.join(OUT, 'conn-%03d.bin' % n), 'wb')
    sr, sw = await asyncio.open_connection('127.0.0.1', UPSTREAM)
    await asyncio.gather(pump(cr, sw, b'C', rec), pump(sr, cw, b'S', rec))
    rec.close()

async def main():
    srv = await asyncio.start_server(handle, '127.0.0.1', LISTEN)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
