using System.CommandLine;
using System.Text.Json;
using BoxBot.Cli.Internal;
using BoxBot.Contracts;

namespace BoxBot.Cli.Mesh;

internal static class MeshInvokeCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "The device's id." };
        var function = new Argument<string>("FUNCTION") { Description = "The function to call, as `boxbot mesh describe ID` lists it." };
        var parameters = new Option<string>("--params")
        {
            Description = "The params as a JSON object, e.g. '{\"text\": \"hello\"}' (default {}). Checked against the function's schema before anything is sent.",
        };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds to wait for the answer, 0.1 to 60 (default: [mesh] call_timeout_ms, 5 s)." };
        var json = CommonOptions.Json();
        var command = new Command("invoke",
            "Call a device's function through the box (admins; the agent's policy does not apply to you) and print its result object. " +
            "Exit code 0 on a result, 3 when the device answered with an error, 1 on a timeout or when nothing answers.")
        { id, function, parameters, timeout, json };
        command.SetAction(async (parse, ct) =>
        {
            JsonElement? args = null;
            if (parse.GetValue(parameters) is { } text)
            {
                try
                {
                    using var document = JsonDocument.Parse(text);
                    if (document.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        return Failures.Usage("--params must be a JSON object, e.g. '{\"text\": \"hello\"}'");
                    }
                    args = document.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    return Failures.Usage($"--params is not JSON: {e.Message}");
                }
            }
            var seconds = parse.GetValue(timeout);
            if (seconds is { } s && (s < 0.1 || s > 60 || double.IsNaN(s)))
            {
                return Failures.Usage($"--timeout must be between 0.1 and 60 seconds, got {s}");
            }
            var request = new MeshInvokeRequest
            {
                DeviceId = parse.GetValue(id)!,
                Function = parse.GetValue(function)!,
                Params = args,
                TimeoutMs = seconds is { } t ? (int)Math.Round(t * 1000) : null,
            };
            var wait = TimeSpan.FromSeconds((seconds ?? 60) + 5);
            var (result, code) = await AgentCall.CallAsync(Daemons.PluginHost, MeshMethods.Invoke, request,
                MeshJsonContext.Default.MeshInvokeRequest, MeshJsonContext.Default.MeshInvokeResult, wait, ct);
            if (result is null)
            {
                return code;
            }
            if (parse.GetValue(json))
            {
                CliJson.Print(result, MeshJsonContext.Default.MeshInvokeResult);
            }
            else if (result.Result is { } value)
            {
                Console.WriteLine(CliJson.Format(value));
            }
            if (result.Error is { } error)
            {
                await Console.Error.WriteLineAsync($"boxbot: {result.DeviceId}.{result.Function}: the device answered error {error.Code}: {error.Message}");
                return ExitCodes.DeviceError;
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
