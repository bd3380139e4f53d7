return args is ["exec"] ? BoxBot.Sandbox.JobLauncher.Exec() : 2;
