namespace AuditPipeline.Testing;

/// <summary>
/// A fresh directory under the system temp folder (<c>auditpipeline-tests/&lt;purpose&gt;/&lt;guid&gt;</c>),
/// deleted with everything in it on dispose. Use it as a field of the test class (disposed by xunit) or
/// with <c>using</c>. A directory that cannot be deleted (a file still open) is left for the OS to clean.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string purpose = "tests")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "auditpipeline-tests", purpose, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A path inside the directory (not created).</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        // Pooled SQLite connections keep the store's files open; they are closed first.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    public override string ToString() => Path;
}
