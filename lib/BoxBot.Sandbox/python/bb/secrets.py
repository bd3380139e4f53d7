"""Secrets: store, list, test and delete by name. There is no way to read a value back."""

from ._channel import call


def store(name, value):
    """Stores value under name (^[A-Z][A-Z0-9_]{0,63}$, value at most 8 KiB UTF-8)."""
    call("secrets.store", {"name": name, "value": value})


def list():  # noqa: A001 - the SDK's documented name
    """Names of the stored secrets."""
    return call("secrets.list", {})["names"]


def has(name):
    return call("secrets.has", {"name": name})["has"]


def delete(name):
    """Deletes the secret; True when it existed."""
    return call("secrets.delete", {"name": name})["deleted"]
