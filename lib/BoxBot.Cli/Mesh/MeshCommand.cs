using System.CommandLine;

namespace BoxBot.Cli.Mesh;

/// <summary><c>boxbot mesh</c>: the box on the Device Connect mesh (docs/mesh.md). One file per subcommand.</summary>
internal static class MeshCommand
{
    public static Command Create() => new("mesh",
        "The box on the Device Connect mesh: its status, the devices it sees, calling them, and the household broker's users.")
    {
        MeshStatusCommand.Create(),
        MeshDevicesCommand.Create(),
        MeshDescribeCommand.Create(),
        MeshInvokeCommand.Create(),
        MeshDeviceCommand.Create(),
        MeshAdminCommand.Create(),
        MeshInitCommand.Create(),
    };
}
