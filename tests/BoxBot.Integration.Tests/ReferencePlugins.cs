namespace BoxBot.Integration.Tests;

/// <summary>The reference's examples/hello-world and capabilities/demo plugins, written from their facts, as they are written.</summary>
internal static class ReferencePlugins
{
    public const string HelloWorldManifest = """
        {
          "id": "hello-world",
          "version": "0.1.0",
          "description": "Minimal hello-world plugin for testing load and invoke",
          "entry_point": "capability.py",
          "class_name": "HelloWorldCapability"
        }
        """;

    public const string HelloWorldCode = """"
        """Hello-world capability — smallest useful plugin for smoke tests."""

        from __future__ import annotations

        from device_connect_edge.drivers.decorators import rpc


        class HelloWorldCapability:
            """Single-RPC plugin used to verify plugin load and mesh invoke."""

            def __init__(self, device=None) -> None:
                self.device = device

            @rpc()
            async def hello_world(self, name: str = "world") -> dict:
                """Return a greeting — use this to confirm the plugin is loaded and reachable.

                Args:
                    name: Name to greet (default: world).
                """
                return {"message": f"Hello, {name}!"}
        """";

    public const string DemoManifest = """
        {
          "id": "demo",
          "version": "0.1.0",
          "description": "Example plugin capability — ping and echo RPCs",
          "entry_point": "capability.py",
          "class_name": "DemoCapability"
        }
        """;

    public const string DemoCode = """"
        """Demo capability for the Device Connect plugin host."""

        from __future__ import annotations

        from device_connect_edge.drivers.decorators import emit, rpc


        class DemoCapability:
            """Minimal capability illustrating the manifest + @rpc pattern."""

            def __init__(self, device=None) -> None:
                self.device = device
                self._tick = 0

            @rpc()
            async def ping(self) -> dict:
                """Health check for the demo plugin."""
                return {"pong": True, "plugin": "demo"}

            @rpc()
            async def echo(self, message: str = "hello") -> dict:
                """Echo a message back to the caller.

                Args:
                    message: Text to echo.
                """
                self._tick += 1
                return {"message": message, "tick": self._tick}

            @emit()
            async def demo_ready(self, plugin: str = "demo") -> None:
                """Emitted when the demo capability is ready."""
                pass
        """";
}
