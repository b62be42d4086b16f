#!/usr/bin/env python3
"""TCP relay between kwok's port-forwards and the simulated gateway of the current chart pass.

kwok's ClusterPortForward targets are fixed when a cluster is created, while each chart pass of
the real-stack tier (13, 14, 15) runs its own `c8dr-sim serve --gateways-only --camunda X`, on new
ports. The forwards therefore target this relay's fixed loopback ports; on every connection the
relay reads the current simulator's state file (KEY=host:port lines, `c8dr-sim serve
--state-file`) and connects to the address of the listener's KEY there.

Usage: relay.py TARGETS-FILE PORTS-FILE KEY...
  Listens on one free loopback port per KEY, then writes PORTS-FILE (KEY=127.0.0.1:port lines,
  whole once every listener is up). Runs until killed.
"""
import asyncio
import os
import sys


def target(targets_file, key):
    with open(targets_file) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k == key and v:
                host, _, port = v.rpartition(":")
                return host, int(port)
    raise LookupError(f"{key} not in {targets_file}")


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def main():
    targets_file, ports_file, keys = sys.argv[1], sys.argv[2], sys.argv[3:]

    def handler(key):
        async def handle(c_reader, c_writer):
            try:
                host, port = target(targets_file, key)
                u_reader, u_writer = await asyncio.open_connection(host, port)
            except (LookupError, OSError, ValueError) as e:
                print(f"{key}: {e}", file=sys.stderr, flush=True)
                c_writer.close()
                return
            await asyncio.gather(pipe(c_reader, u_writer), pipe(u_reader, c_writer))
            for w in (u_writer, c_writer):
                try:
                    w.close()
                except OSError:
                    pass

        return handle

    lines = []
    servers = []
    for key in keys:
        server = await asyncio.start_server(handler(key), "127.0.0.1", 0)
        servers.append(server)
        lines.append(f"{key}=127.0.0.1:{server.sockets[0].getsockname()[1]}\n")
    tmp = ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.rename(tmp, ports_file)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main())
