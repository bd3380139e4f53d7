using BoxBot.Cli;

return await CliApp.RunAsync(args);
