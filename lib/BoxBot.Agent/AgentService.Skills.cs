using BoxBot.Agent.Skills;
using BoxBot.Contracts;
using BoxBot.Ipc;
using Microsoft.Extensions.Logging;

namespace BoxBot.Agent;

// Skills a sandbox job saves with bb.skill.save, relayed by the sandbox daemon (sdk.skills.save). The catalog's rules
// decide: the name rule, the sizes, and never a built-in skill's name.
public sealed partial class AgentService
{
    internal void MapSkills(JsonRpcServer server, CallerPolicy sandbox, Func<SkillCatalog?> catalog) =>
        server.Map(SdkSkillMethods.Save, sandbox, SandboxJsonContext.Default.SkillSaveRequest, SandboxJsonContext.Default.Done, (p, _, _) =>
        {
            var skills = catalog() ?? throw new RpcException(RpcErrorCodes.Unavailable, "skills are not available (no language model is configured)");
            try
            {
                var saved = skills.Save(p.Name ?? "", p.Description ?? "", p.Body ?? "");
                _log.LogInformation("skill {Name} saved by a sandbox job", saved.Name);
                return ValueTask.FromResult(new Done(true));
            }
            catch (SkillException e)
            {
                throw new RpcException(RpcErrorCodes.Refused, e.Message);
            }
        });
}
