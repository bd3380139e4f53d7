"""The one channel to the host: lazily opened, one call at a time, replies matched by id."""

import json
import os
import socket
import threading

# Same numbers as BoxBot.Sandbox.Sdk.SdkErrorCodes.
NOT_IN_JOB = -32050
CHANNEL_CLOSED = -32051

# Replies are small (the longest is secrets.list); a bigger one means the channel is not what we think.
_MAX_REPLY_BYTES = 1024 * 1024


class SdkError(Exception):
    """An SDK call failed: code is a JSON-RPC error code (see the SDK README), message says why."""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self):
        return f"{self.message} (SDK error {self.code})"


_lock = threading.Lock()
_sock = None
_buffer = b""
_next_id = 0
_closed = False


def _open():
    global _sock
    fd = os.environ.get("BOXBOT_SDK_FD")
    if fd is None:
        raise SdkError(NOT_IN_JOB, "the bb SDK only works inside a boxbot sandbox job (BOXBOT_SDK_FD is not set)")
    try:
        sock = socket.socket(fileno=int(fd))
    except (ValueError, OSError) as e:
        raise SdkError(NOT_IN_JOB, f"the bb SDK descriptor BOXBOT_SDK_FD={fd!r} is not usable: {e}") from None
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise SdkError(NOT_IN_JOB, f"BOXBOT_SDK_FD={fd!r} is not a Unix stream socket")
    _sock = sock


def _fail(message):
    global _closed
    _closed = True
    raise SdkError(CHANNEL_CLOSED, message)


def call(method, params):
    """Sends one request and returns its result, or raises SdkError with the host's error."""
    global _buffer, _next_id
    with _lock:
        if _closed:
            raise SdkError(CHANNEL_CLOSED, "the SDK channel is closed")
        if _sock is None:
            _open()
        _next_id += 1
        request_id = _next_id
        line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        try:
            _sock.sendall(line)
            while b"\n" not in _buffer:
                if len(_buffer) > _MAX_REPLY_BYTES:
                    _fail("the SDK reply is too long")
                chunk = _sock.recv(65536)
                if not chunk:
                    _fail("the host closed the SDK channel")
                _buffer += chunk
        except OSError as e:
            _fail(f"the SDK channel failed: {e}")
        reply_line, _, _buffer = _buffer.partition(b"\n")
        try:
            reply = json.loads(reply_line)
        except ValueError:
            _fail("the SDK reply is not JSON")
        if not isinstance(reply, dict):
            _fail("the SDK reply is not a JSON object")
        error = reply.get("error")
        if isinstance(error, dict):
            raise SdkError(error.get("code", 0), str(error.get("message", "")))
        if reply.get("id") != request_id or "result" not in reply:
            _fail("the SDK reply does not answer the request")
        return reply["result"]
