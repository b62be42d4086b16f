#!/usr/bin/env python3
"""A tiny forwarding HTTP proxy on loopback for the real-stack run (the operator's environment).

  connect-proxy.py LOG PORTFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE once listening). Every request is one
line in LOG before anything else happens: "CONNECT host:port" for a tunnel (what HTTPS clients
such as kubectl, helm and kube-rs send when HTTPS_PROXY is set), "REQUEST METHOD URI" for a
plain-HTTP proxy request. A CONNECT is forwarded: the proxy connects to host:port itself
(resolving the name as a proxy does) and pipes both directions until either side closes. A
plain request is answered 502: nothing in the run is meant to send one (HTTP_PROXY is unset),
and the line in LOG shows it if something does.
"""
import socket
import socketserver
import sys
import threading

LOG = sys.argv[1]
PORTFILE = sys.argv[2]
lock = threading.Lock()


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
            if len(head) > 65536:
                return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split()
        if len(parts) < 2:
            return
        method, target = parts[0], parts[1]
        if method.upper() != "CONNECT":
            log(f"REQUEST {method} {target}")
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        log(f"CONNECT {target}")
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError) as e:
            log(f"FAILED {target}: {e}")
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        upstream.settimeout(None)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        t = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
        t.start()
        pipe(conn, upstream)
        t.join()
        upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


with Server(("127.0.0.1", 0), Handler) as server:
    open(LOG, "a").close()
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(PORTFILE + ".tmp", PORTFILE)
    server.serve_forever()
