using System.Text.Json;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>
/// The read position of every input file (byte offset after the last completed line, and its line
/// number), in one small JSON file replaced atomically (write a temporary file, flush it to disk,
/// rename over the old one): a crash leaves the old or the new checkpoint, never a torn one.
/// </summary>
internal sealed class InboxCheckpoint(string directory)
{
    /// <summary>Not a <c>*.jsonl</c> name, so never taken for input.</summary>
    public const string FileName = "_inbox-checkpoint.json";

    private readonly string _path = Path.Combine(directory, FileName);

    public Dictionary<string, (long Offset, long Line)> Load()
    {
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        if (!File.Exists(_path))
        {
            return result;
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(_path));
        foreach (var file in doc.RootElement.GetProperty("files").EnumerateObject())
        {
            result[file.Name] = (file.Value.GetProperty("offset").GetInt64(), file.Value.GetProperty("line").GetInt64());
        }

        return result;
    }

    public void Save(IEnumerable<KeyValuePair<string, (long Offset, long Line)>> files)
    {
        var temp = _path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("files");
                foreach (var (name, (offset, line)) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
                {
                    writer.WriteStartObject(name);
                    writer.WriteNumber("offset", offset);
                    writer.WriteNumber("line", line);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, _path, overwrite: true);
    }
}
