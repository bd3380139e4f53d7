namespace BoxBot.Mesh.Tests;

public sealed class MeshOptionsTests
{
    [Test]
    public void Printing_options_hides_the_password_and_token()
    {
        var options = MeshOptions.For(new Uri("nats://127.0.0.1:4222")) with { User = "hub", Password = "s3cret-pw", Token = "s3cret-tok" };

        var text = options.ToString();

        Assert.That(text, Does.Contain("hub"));
        Assert.That(text, Does.Not.Contain("s3cret"));
    }

    [Test]
    public async Task A_url_carrying_credentials_is_rejected_without_echoing_them()
    {
        var options = MeshOptions.For(new Uri("nats://hub:s3cret-pw@127.0.0.1:4222"));

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await MeshClient.ConnectAsync(options, new CapturingLogger()));

        Assert.That(ex!.Message, Does.Not.Contain("s3cret-pw"));
    }

    [Test]
    public void A_user_without_a_password_is_rejected()
    {
        var options = MeshOptions.For(new Uri("nats://127.0.0.1:4222")) with { User = "hub" };

        Assert.Throws<ArgumentException>(options.Validate);
    }
}
