using System.Runtime.Versioning;

// The server under test is Linux-only (SO_PEERCRED, statx); so are these tests.
[assembly: SupportedOSPlatform("linux")]
