using System.Text.Json;
using AuditPipeline.Core.Normalization;

namespace AuditPipeline.Embedded.Inbox;

/// <summary>One followed file as the checkpoint records it.</summary>
internal sealed record InboxCheckpointEntry(string Name, SourceKind Kind, FileIdentity? Identity, FileHead? Head, long Offset, long Line);

/// <summary>
/// The read position of every followed file (byte offset after the last completed line, its line number,
/// and what identifies the file: device/inode and the SHA-256 of its first bytes), in one small JSON file
/// replaced atomically (write a temporary file, flush it to disk, rename over the old one): a crash leaves
/// the old or the new checkpoint, never a torn one. A checkpoint written before files had identities
/// (only offset and line) is still read: such a file is taken back by its name.
/// </summary>
internal sealed class InboxCheckpoint(string directory)
{
    /// <summary>Not a <c>*.jsonl</c> name, so never taken for input.</summary>
    public const string FileName = "_inbox-checkpoint.json";

    private readonly string _path = Path.Combine(directory, FileName);

    /// <summary>The recorded files, or <c>null</c> when there is no checkpoint yet (the inbox's first start).</summary>
    public List<InboxCheckpointEntry>? Load()
    {
        var result = new List<InboxCheckpointEntry>();
        if (!File.Exists(_path))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(_path));
        foreach (var file in doc.RootElement.GetProperty("files").EnumerateObject())
        {
            var v = file.Value;
            var kind = v.TryGetProperty("kind", out var k) && SourceKinds.TryParse(k.GetString(), out var parsed)
                ? parsed
                : InboxNames.TryKind(file.Name, out var byName) ? byName : (SourceKind?)null;
            if (kind is null)
            {
                continue;
            }

            FileIdentity? identity = v.TryGetProperty("device", out var d) && v.TryGetProperty("inode", out var i)
                ? new FileIdentity(d.GetUInt64(), i.GetUInt64())
                : null;
            FileHead? head = v.TryGetProperty("headLength", out var hl) && v.TryGetProperty("headSha256", out var hh)
                ? new FileHead(hl.GetInt32(), Convert.FromHexString(hh.GetString()!))
                : null;
            result.Add(new InboxCheckpointEntry(file.Name, kind.Value, identity, head, v.GetProperty("offset").GetInt64(), v.GetProperty("line").GetInt64()));
        }

        return result;
    }

    public void Save(IEnumerable<InboxCheckpointEntry> files)
    {
        var temp = _path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteNumber("version", 2);
                writer.WriteStartObject("files");
                foreach (var f in files.OrderBy(f => f.Name, StringComparer.Ordinal))
                {
                    writer.WriteStartObject(f.Name);
                    writer.WriteNumber("offset", f.Offset);
                    writer.WriteNumber("line", f.Line);
                    writer.WriteString("kind", f.Kind.Name());
                    if (f.Identity is { } id)
                    {
                        writer.WriteNumber("device", id.Device);
                        writer.WriteNumber("inode", id.Inode);
                    }

                    if (f.Head is { } head)
                    {
                        writer.WriteNumber("headLength", head.Length);
                        writer.WriteString("headSha256", head.Hex);
                    }

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
