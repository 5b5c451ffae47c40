using System.Text.RegularExpressions;

namespace AuditPipeline.Core.Tests.Repository;

/// <summary>A clone is complete on its own: every relative link in the README and docs/ resolves inside the repository.</summary>
public sealed partial class DocumentationLinkTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Root, "*.md", SearchOption.AllDirectories)
                     .Where(f => !IsBuildOutput(f))
                     .Select(f => Path.GetRelativePath(Root, f))
                     .Order(StringComparer.Ordinal))
        {
            pages.Add(file);
        }

        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_of_a_page_resolves_inside_the_repository(string page)
    {
        var path = Path.Combine(Root, page);
        var problems = new List<string>();
        foreach (Match m in MarkdownLink().Matches(File.ReadAllText(path)))
        {
            var target = m.Groups["target"].Value.Trim();
            if (target.Length == 0 || target.StartsWith('#') || Uri.TryCreate(target, UriKind.Absolute, out var abs) && abs.Scheme is "http" or "https" or "mailto")
            {
                continue;
            }

            var file = target.Split('#', 2)[0];
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(file)));
            if (!resolved.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && resolved != Root)
            {
                problems.Add($"{target} leaves the repository");
            }
            else if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                problems.Add($"{target} does not exist");
            }
        }

        Assert.True(problems.Count == 0, $"{page}: {string.Join("; ", problems)}");
    }

    [Fact]
    public void The_readme_links_to_the_reference_in_docs()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        Assert.Contains("(docs/README.md)", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("../", readme, StringComparison.Ordinal);
    }

    private static bool IsBuildOutput(string file) =>
        file.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules" or ".git" or "artifacts");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AuditPipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AuditPipeline.sln not found above " + AppContext.BaseDirectory);
    }

    // [text](target) and ![alt](target), without a title part.
    [GeneratedRegex(@"!?\[[^\]]*\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex MarkdownLink();
}
