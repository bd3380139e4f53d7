"""boxbot SDK for sandbox job scripts.

A job script talks to boxbot only through this package, over one dedicated socket whose
descriptor number is in BOXBOT_SDK_FD (never stdout). Protocol: lib/BoxBot.Sandbox/Sdk/README.md.

    import bb
    bb.secrets.store("API_TOKEN", token)     # stored for later jobs; can never be read back
    bb.secrets.list() / bb.secrets.has(name) / bb.secrets.delete(name)
    name = bb.output.attach("report.pdf")     # hand a workspace file to the agent
    bb.workspace.path()                       # "/workspace"
    bb.skill.save("grocery-run", "How to plan the weekly shop", body)   # a skill the assistant can load later

Every failure raises bb.SdkError(code, message).
"""

from ._channel import SdkError
from . import output, secrets, skill, workspace

__all__ = ["SdkError", "output", "secrets", "skill", "workspace"]
