"""Runs one plugin inside its confined process (boxbot's plugin runner; not part of the reference's package).

The plugin host starts this as a sandbox job with the plugin's code read-only at BOXBOT_PLUGIN_CODE and its own data
folder at BOXBOT_PLUGIN_DATA. It imports BOXBOT_PLUGIN_ENTRY as the reference's loader does (module
"capability_{id}"), instantiates BOXBOT_PLUGIN_CLASS with device=..., and then either

- describe: prints one JSON line {"functions": [...], "events": [...]} on stdout and exits; or
- serve: talks to the runner over the job's socket (BOXBOT_SDK_FD), one JSON object per line:
    plugin -> runner  {"method": "ready", "params": {"functions": [...], "events": [...]}}   (once, after start())
    runner -> plugin  {"id": N, "method": "call", "params": {"function": F, "params": {...}, "source_device": S}}
    plugin -> runner  {"id": N, "result": ...}  or  {"id": N, "error": {"message": "..."}}
    runner -> plugin  {"id": N, "method": "cancel"}        (a call past its time: cancelled, and answered)
    runner -> plugin  {"method": "stop"}                   (unload: stop() is called, then the process exits)
    plugin -> runner  {"method": "event", "params": {"name": E, "payload": {...}}}   (an @emit method was called)
A function is found under its own name and under "{id}.{name}", as the reference registers it.
"""

import os
import sys


def _without_tls():
    """A plugin without network (every plugin in this build) never loads the TLS libraries: asyncio imports ssl when it
    can, which maps libssl and libcrypto and costs a third of an idle plugin's memory. Code that guards its `import ssl`
    (asyncio, http.client, urllib3, aiohttp) carries on without it; an unguarded `import ssl` raises ImportError, which
    it would have to handle anyway: it has nowhere to connect."""
    if os.environ.get("BOXBOT_PLUGIN_NETWORK", "none") == "none":
        sys.modules.setdefault("ssl", None)
        sys.modules.setdefault("_ssl", None)


_without_tls()

import asyncio  # noqa: E402 (after _without_tls, which decides whether asyncio finds ssl)
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import traceback  # noqa: E402

from device_connect_edge.drivers.decorators import build_event_schema, build_function_schema  # noqa: E402

MAX_LINE = 1024 * 1024


class PluginDevice:
    """What a plugin gets as `device`: the box's side of the mesh, through the plugin host.

    Calls to other devices are not offered yet (the plugin host refuses them); `device_id` names the box."""

    def __init__(self, plugin_id):
        self.plugin_id = plugin_id
        self.device_id = os.environ.get("BOXBOT_PLUGIN_DEVICE", "")

    async def invoke_remote(self, device_id, function, **params):
        raise PermissionError("calls from a plugin to other mesh devices are not available on this box yet")


def _load():
    plugin_id = os.environ["BOXBOT_PLUGIN_ID"]
    code = os.environ["BOXBOT_PLUGIN_CODE"]
    entry = os.path.join(code, os.environ["BOXBOT_PLUGIN_ENTRY"])
    class_name = os.environ["BOXBOT_PLUGIN_CLASS"]
    if not os.path.isfile(entry):
        raise RuntimeError("entry point not found: " + os.environ["BOXBOT_PLUGIN_ENTRY"])
    # The plugin's folder is importable, so a plugin split into modules imports its siblings.
    sys.path.insert(0, code)
    spec = importlib.util.spec_from_file_location("capability_" + plugin_id, entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    cls = getattr(module, class_name, None)
    if cls is None or not isinstance(cls, type):
        raise RuntimeError("class '%s' not found in %s" % (class_name, os.environ["BOXBOT_PLUGIN_ENTRY"]))
    return plugin_id, cls


def _members(target, marker):
    found = {}
    for attr in dir(target):
        if attr.startswith("_"):
            continue
        try:
            member = getattr(target, attr)
        except Exception:
            continue
        if callable(member) and getattr(member, marker, False):
            found[attr] = member
    return found


def _describe(cls_or_instance):
    functions = []
    for _, fn in sorted(_members(cls_or_instance, "_is_device_function").items()):
        functions.append({
            "name": fn._function_name,
            "description": fn._description or "",
            "parameters": build_function_schema(fn),
        })
    events = []
    for _, fn in sorted(_members(cls_or_instance, "_is_device_event").items()):
        events.append({
            "name": fn._event_name,
            "description": fn._event_description or "",
            "payload_schema": build_event_schema(fn),
        })
    return {"functions": functions, "events": events}


class _Server:
    def __init__(self, plugin_id, instance, reader, writer):
        self.plugin_id = plugin_id
        self.instance = instance
        self.reader = reader
        self.writer = writer
        self.calls = {}
        self.functions = {}
        for _, fn in _members(instance, "_is_device_function").items():
            self.functions[fn._function_name] = fn
            self.functions[plugin_id + "." + fn._function_name] = fn

    async def send(self, message):
        line = json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"
        self.writer.write(line)
        await self.writer.drain()

    async def emit(self, name, payload):
        await self.send({"method": "event", "params": {"name": name, "payload": payload}})

    async def call(self, call_id, params):
        name = params.get("function")
        fn = self.functions.get(name)
        try:
            if fn is None:
                raise KeyError("Function not found: %s" % name)
            kwargs = params.get("params") or {}
            if not isinstance(kwargs, dict):
                raise TypeError("params must be an object")
            result = await fn(**kwargs)
            try:
                json.dumps(result)
            except (TypeError, ValueError) as e:
                raise TypeError("the result of %s is not JSON: %s" % (name, e))
            await self.send({"id": call_id, "result": result})
        except asyncio.CancelledError:
            await self.send({"id": call_id, "error": {"message": "cancelled: no result in time"}})
        except Exception as e:
            await self.send({"id": call_id, "error": {"message": "Error invoking %s: %s" % (name, str(e) or type(e).__name__)}})
        finally:
            self.calls.pop(call_id, None)

    async def serve(self):
        while True:
            try:
                line = await self.reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                sys.stderr.write("plugin runner: a line from the host was too long\n")
                return
            if not line:
                return
            message = json.loads(line)
            method = message.get("method")
            if method == "call":
                call_id = message["id"]
                self.calls[call_id] = asyncio.ensure_future(self.call(call_id, message.get("params") or {}))
            elif method == "cancel":
                task = self.calls.get(message.get("id"))
                if task is not None:
                    task.cancel()
            elif method == "stop":
                return


async def _serve(plugin_id, cls):
    fd = int(os.environ.pop("BOXBOT_SDK_FD"))
    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_LINE)
    try:
        instance = cls(device=PluginDevice(plugin_id))
        server = _Server(plugin_id, instance, reader, writer)

        async def emit_internal(name, payload):
            await server.emit(name, payload)

        async def dispatch_internal(name, payload):
            return True, payload

        instance._emit_event_internal = emit_internal
        instance._dispatch_internal_event = dispatch_internal
        start = getattr(instance, "start", None)
        if callable(start):
            result = start()
            if inspect.isawaitable(result):
                await result
    except Exception as e:
        traceback.print_exc()
        message = "the plugin failed to start: %s: %s" % (type(e).__name__, e)
        writer.write(json.dumps({"method": "failed", "params": {"message": message}}).encode() + b"\n")
        await writer.drain()
        sys.exit(3)
    await server.send({"method": "ready", "params": _describe(instance)})
    await server.serve()
    stop = getattr(instance, "stop", None)
    if callable(stop):
        try:
            result = stop()
            if inspect.isawaitable(result):
                await result
        except Exception:
            traceback.print_exc()


def main():
    mode = os.environ.get("BOXBOT_PLUGIN_MODE", "serve")
    try:
        plugin_id, cls = _load()
    except BaseException as e:
        traceback.print_exc()
        message = "failed to import the plugin: %s: %s" % (type(e).__name__, e)
        if mode == "describe":
            print(json.dumps({"error": message}))
        else:
            _fail(message)
        sys.exit(3)
    if mode == "describe":
        print(json.dumps(_describe(cls)))
        return
    data = os.environ.get("BOXBOT_PLUGIN_DATA")
    if data:
        os.chdir(data)
    asyncio.run(_serve(plugin_id, cls))


def _fail(message):
    fd = os.environ.get("BOXBOT_SDK_FD")
    if fd is None:
        return
    try:
        with socket.socket(fileno=int(fd)) as sock:
            sock.sendall(json.dumps({"method": "failed", "params": {"message": message}}).encode() + b"\n")
    except OSError:
        pass
