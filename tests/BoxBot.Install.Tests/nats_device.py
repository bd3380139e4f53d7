#!/usr/bin/python3
"""A device on the household broker, speaking NATS by hand (the standard library and python3-nacl, as Debian ships
them), with the *.creds.json `boxbot mesh device add` wrote. The install test runs it inside the booted box.

  nats_device.py CREDS_JSON call SUBJECT   one Device Connect call of get_status: prints "reply: ..." or "error: ..."
  nats_device.py CREDS_JSON wait SECONDS   stays connected: prints "closed: <why>" when the broker ends it, else "open"
"""
import base64
import json
import socket
import sys
import time

import nacl.signing

creds = json.load(open(sys.argv[1]))
mode = sys.argv[2]
host, port = creds["nats"]["urls"][0].split("//", 1)[1].rsplit(":", 1)
conn = socket.create_connection((host, int(port)), timeout=10)
stream = conn.makefile("rb")
info = json.loads(stream.readline()[5:])
seed = creds["nats"]["nkey_seed"]
raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
signature = nacl.signing.SigningKey(raw[2:34]).sign(info["nonce"].encode()).signature
hello = {"jwt": creds["nats"]["jwt"], "sig": base64.urlsafe_b64encode(signature).decode().rstrip("="), "verbose": False,
         "pedantic": False, "headers": True, "no_responders": True, "protocol": 1, "name": creds["device_id"]}
conn.sendall(b"CONNECT " + json.dumps(hello).encode() + b"\r\nPING\r\n")
first = stream.readline().decode().strip()
if first != "PONG":
    print("refused: " + first)
    sys.exit(1)
inbox = "_INBOX_" + creds["device_id"]
conn.sendall(("SUB %s.> 1\r\n" % inbox).encode())


def lines(seconds):
    conn.settimeout(seconds)
    try:
        while True:
            line = stream.readline()
            if not line:
                yield "EOF"
                return
            yield line.decode().strip()
    except socket.timeout:
        return


if mode == "call":
    request = json.dumps({"jsonrpc": "2.0", "id": "install-test", "method": "get_status", "params": {}})
    conn.sendall(("PUB %s %s.r %d\r\n%s\r\nPING\r\n" % (sys.argv[3], inbox, len(request), request)).encode())
    for line in lines(5):
        if line.startswith("MSG"):
            print("reply: " + stream.readline().decode().strip())
            break
        if line.startswith("-ERR") or line == "EOF":
            print("error: " + line)
            break
        if line == "PING":
            conn.sendall(b"PONG\r\n")
    else:
        print("error: no answer")
elif mode == "wait":
    deadline = time.time() + float(sys.argv[3])
    while time.time() < deadline:
        for line in lines(max(0.1, deadline - time.time())):
            if line == "PING":
                conn.sendall(b"PONG\r\n")
            elif line.startswith("-ERR") or line == "EOF":
                print("closed: " + line)
                sys.exit(0)
    print("open")
