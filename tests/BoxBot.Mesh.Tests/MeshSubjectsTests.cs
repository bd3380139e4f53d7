namespace BoxBot.Mesh.Tests;

public sealed class MeshSubjectsTests
{
    [Test]
    public void Device_subjects_follow_the_Device_Connect_layout()
    {
        Assert.That(MeshSubjects.Cmd("acme", "robot-1"), Is.EqualTo("device-connect.acme.robot-1.cmd"));
        Assert.That(MeshSubjects.Heartbeat("acme", "robot-1"), Is.EqualTo("device-connect.acme.robot-1.heartbeat"));
        Assert.That(MeshSubjects.Presence("acme", "robot-1"), Is.EqualTo("device-connect.acme.robot-1.presence"));
        Assert.That(MeshSubjects.Event("acme", "robot-1", "safety_event"), Is.EqualTo("device-connect.acme.robot-1.event.safety_event"));
        Assert.That(MeshSubjects.Registry("acme"), Is.EqualTo("device-connect.acme.registry"));
    }

    [TestCase("dev.2")]
    [TestCase("*")]
    [TestCase(">")]
    [TestCase("dev 2")]
    [TestCase("dev\n")]
    [TestCase("dev\t2")]
    [TestCase("")]
    [TestCase("dév")]
    public void A_device_id_that_could_change_the_subject_is_rejected_and_named(string deviceId)
    {
        var ex = Assert.Throws<ArgumentException>(() => MeshSubjects.Cmd("acme", deviceId));

        Assert.That(ex!.ParamName, Is.EqualTo("deviceId"));
        Assert.That(ex.Message, Does.Contain($"'{deviceId}'"));
    }

    [TestCase("acme.other")]
    [TestCase("ac*")]
    [TestCase("a >")]
    public void A_tenant_with_dots_wildcards_or_spaces_is_rejected_everywhere(string tenant)
    {
        Assert.Throws<ArgumentException>(() => MeshSubjects.Registry(tenant));
        Assert.Throws<ArgumentException>(() => MeshSubjects.Heartbeat(tenant, "dev1"));
        Assert.Throws<ArgumentException>(() => MeshSubjects.Presence(tenant, "dev1"));
    }

    [Test]
    public void An_event_name_cannot_add_subject_levels()
    {
        var ex = Assert.Throws<ArgumentException>(() => MeshSubjects.Event("acme", "dev1", "motion.>"));

        Assert.That(ex!.ParamName, Is.EqualTo("eventName"));
    }

    [Test]
    public void Ids_are_limited_to_64_characters()
    {
        Assert.That(MeshSubjects.Cmd("acme", new string('a', 64)), Does.EndWith(".cmd"));
        Assert.Throws<ArgumentException>(() => MeshSubjects.Cmd("acme", new string('a', 65)));
    }
}
