using System.Diagnostics;

namespace AuditPipeline.Integrity.Tests;

/// <summary>
/// The RFC 8785 author's canonicalization vectors (cyberphone/json-canonicalization, testdata/), read from
/// outside this repository: <c>AUDIT_JCS_VECTORS</c> (a directory with input/ and output/), or a local git
/// copy of that repository (<c>AUDIT_JCS_REPO</c>, or the workplace's mirror). Skips the test with the
/// reason where neither is there.
/// </summary>
internal static class JcsVectors
{
    private const string Missing =
        "the RFC 8785 author's vectors are not on this machine: set AUDIT_JCS_VECTORS to a copy of " +
        "cyberphone/json-canonicalization's testdata/ (input/, output/) or AUDIT_JCS_REPO to a git copy of that repository";

    private static readonly string[] MirrorCandidates = ["/work/.mirror/cyberphone+json-canonicalization/repo"];

    public static byte[] Read(string folder, string name)
    {
        if (Environment.GetEnvironmentVariable("AUDIT_JCS_VECTORS") is { Length: > 0 } dir && File.Exists(Path.Combine(dir, folder, name + ".json")))
        {
            return File.ReadAllBytes(Path.Combine(dir, folder, name + ".json"));
        }

        var repo = Environment.GetEnvironmentVariable("AUDIT_JCS_REPO") is { Length: > 0 } r ? r : MirrorCandidates.FirstOrDefault(Directory.Exists);
        if (repo is not null && Show(repo, $"testdata/{folder}/{name}.json") is { } bytes)
        {
            return bytes;
        }

        Assert.Skip(Missing);
        return [];
    }

    private static byte[]? Show(string repo, string path)
    {
        var gitDir = Directory.Exists(Path.Combine(repo, ".git")) ? Path.Combine(repo, ".git") : repo;
        try
        {
            using var p = Process.Start(new ProcessStartInfo("git", ["--git-dir", gitDir, "show", "HEAD:" + path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            using var output = new MemoryStream();
            var copy = p.StandardOutput.BaseStream.CopyToAsync(output);
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                p.Kill(entireProcessTree: true);
                return null;
            }

            copy.Wait();
            return p.ExitCode == 0 ? output.ToArray() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
