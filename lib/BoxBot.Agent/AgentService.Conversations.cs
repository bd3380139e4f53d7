using BoxBot.Agent.Conversations;
using BoxBot.Agent.Llm;
using BoxBot.Agent.Memory;
using BoxBot.Agent.Skills;
using BoxBot.Agent.Tasks;
using BoxBot.Agent.Tools;
using BoxBot.Contracts;
using BoxBot.Hosting;
using BoxBot.Ipc;
using BoxBot.Linux;
using Microsoft.Extensions.Logging;
using TaskScheduler = BoxBot.Agent.Tasks.TaskScheduler;

namespace BoxBot.Agent;

// Conversations: registered people's WhatsApp messages and admins' console chats become turns of the conversation
// engine (Conversations/ConversationEngine.cs). Without a configured model the agent runs without it: messages stay in
// the inbox and `boxbot status` says why.
public sealed partial class AgentService
{
    private ConversationStore? _conversations;
    private ConversationEngine? _engine;
    private MessageRoute? _route;
    private ILlmClient? _llm;
    private TaskStore? _tasks;
    private SkillCatalog? _skills;
    private Task? _scheduler;
    private string _llmState = "not configured";
    private readonly CancellationTokenSource _stopping = new();

    private void StartConversations(DaemonContext context)
    {
        _conversations = new ConversationStore(_database!, TimeProvider.System);
        // Built-in skills ship next to the executables; the agent's own are in its state folder.
        _skills = new SkillCatalog(Path.Combine(AppContext.BaseDirectory, "skills"), Path.Combine(context.StateDir, "skills"),
            context.Loggers.CreateLogger<SkillCatalog>());
        _route = new MessageRoute((to, text, caller, ct) => _outbound!.SendTextAsync(to, text, caller, ct));
        var options = context.Config.Agent.Llm;
        // A key file others could read is refused with the fix (fail closed), not skipped.
        var key = context.Credentials.TryGetSet(LlmClients.ApiKeyCredential);
        var llm = LlmClients.Create(options, key, logger: context.Loggers.CreateLogger("BoxBot.Agent.Llm"));
        if (llm is null)
        {
            var reason = LlmClients.NotConfiguredReason(options, key) ?? "unknown";
            _llmState = "not configured (" + reason + ")";
            _log.LogWarning("no language model: {Reason}; WhatsApp messages are kept in the inbox and boxbot chat is refused (docs/agent.md)", reason);
        }
        else
        {
            _llm = llm;
            UseEngine(CreateEngine(llm, Limits(options), context.Loggers.CreateLogger<ConversationEngine>()));
            _log.LogInformation("language model: {Model}; daily budget {Budget} USD", llm.Describe, options.DailyBudgetUsd);
        }
        var json = ConversationsJsonContext.Default;
        context.Server.Map(ChatMethods.Send, context.Operators, json.ChatRequest, json.ChatResult, ChatAsync, TimeSpan.FromMinutes(30));
        context.Server.Map(ChatMethods.Log, context.Operators, json.ActionLogRequest, json.ActionLogPage,
            (p, _, _) => ValueTask.FromResult(new ActionLogPage { Entries = _conversations.Actions(p.After, p.Limit) }));
        if (_engine is not null)
        {
            Resume();
            var scheduler = new TaskScheduler(_tasks!, TimeProvider.System, FireTaskAsync, context.Loggers.CreateLogger<TaskScheduler>());
            _scheduler = Task.Run(() => scheduler.RunAsync(_stopping.Token));
        }
    }

    internal static EngineLimits Limits(BoxBot.Config.LlmOptions options) => new(options.MaxToolTurns, options.MaxOutputTokens,
        LlmPrices.DailyBudgetMicroUsd(options), (input, output) => LlmPrices.CostMicroUsd(options, input, output));

    /// <summary>The engine with the agent's tools; tests build it with a scripted model.</summary>
    internal ConversationEngine CreateEngine(ILlmClient llm, EngineLimits limits, ILogger log,
        Func<SandboxRunRequest, string, CancellationToken, Task<(SandboxRunResult Result, IReadOnlyDictionary<string, string> Secrets)>>? runScript = null)
    {
        _conversations ??= new ConversationStore(_database!, TimeProvider.System);
        _route ??= new MessageRoute((to, text, caller, ct) => _outbound!.SendTextAsync(to, text, caller, ct));
        var memory = new MemoryStore(_conversations.Database, _conversations.Time, log);
        _tasks ??= new TaskStore(_conversations.Database, _conversations.Time);
        var tools = new List<AgentTool>
        {
            new MessageTool(_route),
            new ExecuteScriptTool(runScript ?? RunScriptAsync),
            new CreateCodeTool(_registry!, _route),
            new RememberTool(memory),
            new SearchMemoryTool(memory),
            new ManageTasksTool(_tasks),
        };
        if (_skills is not null)
        {
            tools.Add(new LoadSkillTool(_skills));
        }
        tools.AddRange(MeshTools());
        return new ConversationEngine(_conversations, llm, tools, _route, limits, AdminNumbers, log, SkillsPrompt);
    }

    internal void UseConversations(ConversationStore store) => _conversations = store;

    internal void UseEngine(ConversationEngine engine)
    {
        _engine = engine;
        _llmState = engine.Describe;
    }

    /// <summary>Every skill's name and description, for the system prompt; bodies are loaded on demand with load_skill.</summary>
    private string SkillsPrompt()
    {
        var listing = _skills?.List();
        if (listing is null || listing.Skills.Count == 0)
        {
            return "";
        }
        return "Skills (load one with load_skill before doing what it covers):\n" +
            string.Concat(listing.Skills.Select(s => $"- {s.Name}: {s.Description}\n"));
    }

    /// <summary>
    /// A due task: a <c>task:&lt;id&gt;</c> conversation acting for its owner, with the owner's rights as they are now (a
    /// removed user's tasks do not run). The scheduler marks the task fired when this returns.
    /// </summary>
    internal Task FireTaskAsync(TaskItem task, CancellationToken cancellationToken)
    {
        var owner = OwnerSpeaker(task.Owner);
        if (owner is null)
        {
            _log.LogWarning("task {Task} is due, but its owner {Owner} is no longer registered: skipped", task.Id, task.Owner);
            return Task.CompletedTask;
        }
        var id = task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var speaker = TaskSpeaker(task.Id, owner);
        var due = task.NextRun?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "now";
        var text = $"The {task.Kind} #{id} of {owner.DisplayName} is due ({task.Schedule ?? "no schedule"}): {task.Text}\n" +
            "Tell them with the message tool.";
        // The input is stored: the task counts as fired, and its turn runs on its own so one slow turn holds up no other task.
        // Fired again after a restart (before it was marked), the same input is not stored twice and no second turn starts.
        if (_engine!.AddInput(speaker, text, $"task:{id}:{due}"))
        {
            StartTurn(speaker);
        }
        return Task.CompletedTask;
    }

    private static Speaker TaskSpeaker(long id, Speaker owner) =>
        new(Speaker.Task, id.ToString(System.Globalization.CultureInfo.InvariantCulture), owner.IsAdmin, owner.Number, $"task {id} of {owner.DisplayName}")
        {
            OnBehalfOf = owner.ConversationKey,
        };

    private Speaker? OwnerSpeaker(string owner)
    {
        if (owner.StartsWith(Speaker.WhatsApp + ":", StringComparison.Ordinal))
        {
            return _registry?.Find(owner[(Speaker.WhatsApp.Length + 1)..]) is { } user ? SpeakerFor(user) : null;
        }
        if (owner.StartsWith(Speaker.Console + ":", StringComparison.Ordinal))
        {
            var name = owner[(Speaker.Console.Length + 1)..];
            return new Speaker(Speaker.Console, name, IsAdmin: true, Number: null, DisplayName: name);
        }
        return null;
    }

    private IReadOnlyList<string> AdminNumbers() =>
        _registry is null ? [] : [.. (_registry.List(blocked: false).Users ?? []).Where(u => u.Role == UserInfo.AdminRole).Select(u => u.Number)];

    /// <summary>A registered person's new WhatsApp message: into their conversation, then a turn (in the background).</summary>
    private void OnWhatsAppMessage(WhatsAppEvent e)
    {
        if (_engine is null || _registry?.Find(e.From!) is not { } user)
        {
            return; // kept in the inbox (state "new") until a model is configured
        }
        var speaker = SpeakerFor(user);
        _engine.AddInput(speaker, Describe(e), e.Id);
        _whatsAppLog!.MarkHandled(e.Id);
        StartTurn(speaker);
    }

    /// <summary>After a restart: inbox messages not yet in a conversation, then every conversation whose turn did not finish.</summary>
    internal void Resume()
    {
        foreach (var e in _whatsAppLog!.Pending())
        {
            if (_registry!.Find(e.From!) is { } user)
            {
                _engine!.AddInput(SpeakerFor(user), Describe(e), e.Id);
            }
            _whatsAppLog.MarkHandled(e.Id);
        }
        foreach (var key in _conversations!.Unanswered())
        {
            Speaker? speaker = null;
            if (key.StartsWith(Speaker.WhatsApp + ":", StringComparison.Ordinal) && _registry!.Find(key[(Speaker.WhatsApp.Length + 1)..]) is { } user)
            {
                speaker = SpeakerFor(user);
            }
            else if (key.StartsWith(Speaker.Task + ":", StringComparison.Ordinal) && long.TryParse(key[(Speaker.Task.Length + 1)..], out var id)
                && _tasks?.FindAny(id) is { } task && OwnerSpeaker(task.Owner) is { } owner)
            {
                speaker = TaskSpeaker(id, owner);
            }
            else if (key.StartsWith(Speaker.Mesh + ":", StringComparison.Ordinal))
            {
                speaker = MeshSpeaker(key[(Speaker.Mesh.Length + 1)..]);
            }
            // A console turn is not resumed: nobody waits for its answer any more.
            if (speaker is not null)
            {
                _log.LogInformation("resuming the conversation {Conversation}, whose turn did not finish before the restart", key);
                StartTurn(speaker);
            }
        }
    }

    private void StartTurn(Speaker speaker) => _ = Task.Run(async () =>
    {
        try
        {
            await _engine!.RunAsync(speaker, _stopping.Token);
        }
        catch (TurnFailedException)
        {
            // logged and told by the engine
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogError(e, "turn in {Conversation} failed", speaker.ConversationKey);
        }
    });

    internal static Speaker SpeakerFor(UserInfo user) => new(Speaker.WhatsApp, user.Number, user.Role == UserInfo.AdminRole, user.Number,
        (user.Name.Length == 0 ? user.Number : user.Name) + (user.NameVerified ? "" : " (name unverified)"));

    /// <summary>A WhatsApp message as the model reads it: the text, or what kind of message it was.</summary>
    private static string Describe(WhatsAppEvent e) => e.Type switch
    {
        "text" => e.Text ?? "",
        "reaction" => $"[reacted {e.Text} to message {e.RefId}]",
        "interactive" or "button" => $"[chose: {e.Text}]",
        _ => $"[{e.Type} message{(e.MediaId is null ? "" : ", media id " + e.MediaId)}{(string.IsNullOrEmpty(e.Text) ? "" : ", caption: " + e.Text)}]",
    };

    private async ValueTask<ChatResult> ChatAsync(ChatRequest request, RpcContext rpc, CancellationToken cancellationToken)
    {
        var engine = _engine ?? throw new RpcException(RpcErrorCodes.Unavailable, "the language model is " + _llmState + "; see docs/agent.md");
        if (string.IsNullOrWhiteSpace(request.Text) || request.Text.Length > 16_384)
        {
            throw new RpcException(RpcErrorCodes.InvalidParams, "text must be 1 to 16384 characters");
        }
        var user = UnixAccounts.LookupName(rpc.Peer.Uid) ?? "uid" + rpc.Peer.Uid;
        // The console's caller passed the socket's policy (root, the agent's uid, the admin group): an admin.
        var speaker = new Speaker(Speaker.Console, user, IsAdmin: true, Number: null, DisplayName: user);
        var messages = _route!.OpenConsole(speaker.ConversationKey);
        try
        {
            var outcome = await engine.SubmitAsync(speaker, request.Text, null, cancellationToken);
            return new ChatResult { Outcome = outcome, Messages = [.. messages] };
        }
        catch (TurnFailedException e)
        {
            return new ChatResult { Outcome = TurnOutcome.Failed, Messages = [.. messages], Error = e.Message };
        }
        finally
        {
            _route.CloseConsole(speaker.ConversationKey, messages);
        }
    }

    private void AddConversationStatus(IDictionary<string, string> details)
    {
        details["llm"] = _llmState;
        if (_conversations is not null)
        {
            details["llm_today_usd"] = (_conversations.TodayCostMicros() / 1_000_000m).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private ValueTask DisposeConversationsAsync()
    {
        _stopping.Cancel();
        (_llm as IDisposable)?.Dispose();
        return ValueTask.CompletedTask;
    }
}
