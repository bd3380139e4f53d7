"""The decorators Device Connect plugins are written with, compatible with the reference's
(device_connect_edge/drivers/decorators.py): @rpc() marks an async method as a device function, @emit() as an event,
with the same attributes on the wrapper (_is_device_function, _function_name, _description, _arg_descriptions,
_labels, _original_func; _is_device_event, _event_name, _event_description, _payload_descriptions), and the same
type mapping from annotations to JSON Schema (str string, int integer, float number, bool boolean, list array,
dict object; Optional[T] as T; a default becomes "default", no default makes the parameter required; descriptions
from the docstring's first line and its Args: section).

One difference on purpose: `T | None` is read as T, like Optional[T] (the reference reads it as a string, and the box
checks every call against the advertised schema, so a wrong type there would refuse good calls).
"""

import functools
import inspect
import os
import re
import time
import types
import typing

__all__ = ["rpc", "emit", "periodic", "before_emit", "build_function_schema", "build_event_schema"]

_TYPE_MAP = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
_ARG_LINE = re.compile(r"^(\w+)(?:\s*\([^)]+\))?:\s*(.+)$")
_SECTION_END = ("returns:", "raises:", "example:", "note:")


def _type_schema(hint):
    if hint in _TYPE_MAP:
        return {"type": _TYPE_MAP[hint]}
    origin = typing.get_origin(hint)
    if origin is typing.Union or (origin is types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return _type_schema(options[0])
        return {"anyOf": [_type_schema(a) for a in options]}
    if origin is list:
        args = typing.get_args(hint)
        return {"type": "array", "items": _type_schema(args[0])} if args else {"type": "array"}
    if origin is dict:
        return {"type": "object"}
    return {"type": "string"}


def _parse_docstring(doc):
    """(summary, {arg: description}) from a Google-style docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary = lines[0].strip() if lines else ""
    args, current, inside = {}, None, False
    for raw in lines[1:]:
        line = raw.strip()
        low = line.lower()
        if low.startswith("args:"):
            inside = True
            continue
        if inside and low.startswith(_SECTION_END):
            break
        if not inside or not line:
            continue
        match = _ARG_LINE.match(line)
        if match:
            current = match.group(1)
            args[current] = match.group(2).strip()
        elif current:
            args[current] += " " + line
    return summary, args


def _schema(func, descriptions):
    original = getattr(func, "_original_func", func)
    try:
        hints = typing.get_type_hints(original)
    except Exception:
        hints = {}
    properties, required = {}, []
    for name, parameter in inspect.signature(original).parameters.items():
        if name == "self":
            continue
        prop = _type_schema(hints[name]) if name in hints else {"type": "string"}
        if name in descriptions:
            prop["description"] = descriptions[name]
        if parameter.default is not inspect.Parameter.empty:
            prop["default"] = parameter.default
        else:
            required.append(name)
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": required}


def build_function_schema(func):
    """The JSON Schema of a device function's parameters."""
    return _schema(func, getattr(func, "_arg_descriptions", {}) or {})


def build_event_schema(func):
    """The JSON Schema of an event's payload."""
    return _schema(func, getattr(func, "_payload_descriptions", {}) or {})


def rpc(name=None, description=None, labels=None):
    """Marks an async method as a device function, callable over the mesh."""

    def decorate(func):
        summary, arg_descriptions = _parse_docstring(func.__doc__)

        @functools.wraps(func)
        async def wrapper(self, *args, **kwargs):
            kwargs.pop("source_device", None)
            return await func(self, *args, **kwargs)

        wrapper._is_device_function = True
        wrapper._function_name = name or func.__name__
        wrapper._description = description or summary
        wrapper._arg_descriptions = arg_descriptions
        wrapper._labels = labels
        wrapper._original_func = func
        return wrapper

    return decorate


def emit(name=None, description=None, labels=None):
    """Marks an async method as an event: calling it publishes its arguments as the event's payload."""

    def decorate(func):
        summary, payload_descriptions = _parse_docstring(func.__doc__)
        event_name = name or func.__name__
        parameters = [p for p in inspect.signature(func).parameters if p != "self"]

        @functools.wraps(func)
        async def wrapper(self, *args, **kwargs):
            payload = dict(zip(parameters, args))
            payload.update(kwargs)
            payload.setdefault("event_id", os.urandom(4).hex())
            payload.setdefault("ts", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            result = await func(self, *args, **kwargs)
            dispatch = getattr(self, "_dispatch_internal_event", None)
            propagate, final = (True, payload) if dispatch is None else await dispatch(event_name, payload)
            publish = getattr(self, "_emit_event_internal", None)
            if propagate and publish is not None:
                await publish(event_name, final)
            return result

        wrapper._is_device_event = True
        wrapper._event_name = event_name
        wrapper._event_description = description or summary
        wrapper._payload_descriptions = payload_descriptions
        wrapper._labels = labels
        wrapper._original_func = func
        return wrapper

    return decorate


def periodic(interval=1.0, wait_for_completion=True, start_on_connect=True, name=None):
    """Marks a method as a routine (recorded, as the reference does; the box does not start plugin routines)."""

    def decorate(func):
        func._is_device_routine = True
        func._routine_interval = interval
        func._routine_wait_for_completion = wait_for_completion
        func._routine_start_on_connect = start_on_connect
        func._routine_name = name or func.__name__
        return func

    return decorate


def before_emit(event_name, suppress_propagation=False):
    """Marks a method as a handler of an event before it is published (recorded, as the reference does)."""

    def decorate(func):
        func._is_internal_handler = True
        func._internal_event_name = event_name
        func._suppress_propagation = suppress_propagation
        return func

    return decorate
