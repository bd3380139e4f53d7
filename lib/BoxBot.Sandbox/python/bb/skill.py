"""Skills: save instructions the assistant can load later (load_skill). Built-in skills cannot be replaced."""

from ._channel import call


def save(name, description, body):
    """Saves (or replaces) the agent-authored skill name (^[a-z][a-z0-9-]{1,39}$) with a one-line description
    (at most 300 characters) and its instructions (at most 48 KiB of UTF-8)."""
    call("skill.save", {"name": name, "description": description, "body": body})
