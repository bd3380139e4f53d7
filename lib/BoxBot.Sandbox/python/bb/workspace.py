"""The job's workspace folder."""

import os

from ._channel import call


def path():
    """The workspace folder as the job sees it. BOXBOT_WORKSPACE answers without a call; otherwise the host does."""
    local = os.environ.get("BOXBOT_WORKSPACE")
    if local:
        return local
    return call("workspace.path", {})["path"]
