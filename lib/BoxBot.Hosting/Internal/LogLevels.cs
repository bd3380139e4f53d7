using BoxBot.Config;
using Microsoft.Extensions.Logging;

namespace BoxBot.Hosting.Internal;

internal static class LogLevels
{
    public static LogLevel From(LogLevelSetting setting) => setting switch
    {
        LogLevelSetting.Debug => LogLevel.Debug,
        LogLevelSetting.Warning => LogLevel.Warning,
        LogLevelSetting.Error => LogLevel.Error,
        _ => LogLevel.Information,
    };
}
