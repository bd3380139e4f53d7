"""Returning workspace files to the agent."""

import os

from ._channel import call


def attach(path):
    """Hands a regular workspace file (at most 8 MiB, 16 per job) to the agent and returns its name.

    The host copies the bytes during this call: later changes to the file do not change the attachment.
    path is relative to the workspace or absolute beneath it; symlinks and ".." are refused.
    """
    return call("output.attach", {"path": os.fspath(path)})["name"]
