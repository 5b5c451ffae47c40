using System.Diagnostics;

namespace AuditPipeline.Elasticsearch.Tests.Support;

/// <summary>
/// Where the request-type model of Elasticsearch's API specification comes from. The specification is
/// Elastic's, not this project's, so no copy of it (nor of an extraction) is committed here; the model is
/// taken, in this order, from <c>AUDIT_ES_SPEC_TYPES</c> (a model file made by Spec/extract-request-types.py),
/// from <c>elasticsearch-request-types.json</c> in the shared folder beside the clone, or extracted on the
/// fly from a local git copy of elastic/elasticsearch-specification (<c>AUDIT_ES_SPEC_REPO</c>, or the
/// workplace's mirror) into a cache keyed by its commit.
/// </summary>
internal static class SpecModel
{
    public const string MissingReason =
        "Elasticsearch's API specification is not on this machine: set AUDIT_ES_SPEC_REPO to a git copy of " +
        "elastic/elasticsearch-specification (or AUDIT_ES_SPEC_TYPES to a model made by Spec/extract-request-types.py)";

    private static readonly string[] MirrorCandidates =
    [
        "/work/.mirror/elastic+elasticsearch-specification/repo",
    ];

    public static string? Find()
    {
        if (Environment.GetEnvironmentVariable("AUDIT_ES_SPEC_TYPES") is { Length: > 0 } given && File.Exists(given))
        {
            return given;
        }

        var shared = Path.GetFullPath(Path.Combine(RepositoryFiles.Root, "..", "shared", "elasticsearch-request-types.json"));
        if (File.Exists(shared))
        {
            return shared;
        }

        var repo = Environment.GetEnvironmentVariable("AUDIT_ES_SPEC_REPO") is { Length: > 0 } r ? r : MirrorCandidates.FirstOrDefault(Directory.Exists);
        return repo is null ? null : Extract(repo);
    }

    /// <summary>Runs the extraction script on the repository's types.ts at HEAD; null when any step fails.</summary>
    private static string? Extract(string repo)
    {
        var commit = Run("git", $"--git-dir \"{GitDir(repo)}\" rev-parse HEAD")?.Trim();
        if (string.IsNullOrEmpty(commit))
        {
            return null;
        }

        var cache = Path.Combine(Path.GetTempPath(), "auditpipeline-es-spec");
        Directory.CreateDirectory(cache);
        var model = Path.Combine(cache, commit + ".json");
        if (File.Exists(model))
        {
            return model;
        }

        var types = Run("git", $"--git-dir \"{GitDir(repo)}\" show HEAD:output/typescript/types.ts");
        if (types is null)
        {
            return null;
        }

        var typesFile = Path.Combine(cache, commit + ".types.ts");
        File.WriteAllText(typesFile, types);
        var script = RepositoryFiles.Path("tests", "AuditPipeline.Elasticsearch.Tests", "Spec", "extract-request-types.py");
        var temp = model + ".tmp";
        if (Run("python3", $"\"{script}\" \"{typesFile}\" {commit} \"{temp}\"") is null || !File.Exists(temp))
        {
            return null;
        }

        File.Move(temp, model, overwrite: true);
        return model;
    }

    private static string GitDir(string repo) =>
        Directory.Exists(Path.Combine(repo, ".git")) ? Path.Combine(repo, ".git") : repo;

    private static string? Run(string file, string arguments)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                p.Kill(entireProcessTree: true);
                return null;
            }

            return p.ExitCode == 0 ? stdout.Result : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
