using System.Text;

namespace AuditPipeline.Api.Tests.Support;

/// <summary>A strict RFC 4180 reader (CRLF records, quoted fields), independent of the writer under test.</summary>
public static class CsvReading
{
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        var quoted = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i += 2;
                }
                else if (c == '"')
                {
                    quoted = false;
                    i++;
                }
                else
                {
                    field.Append(c);
                    i++;
                }
            }
            else if (c == '"')
            {
                Assert.True(field.Length == 0, $"A quote inside an unquoted field at {i}");
                quoted = true;
                i++;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
                i++;
            }
            else if (c == '\r')
            {
                Assert.True(i + 1 < text.Length && text[i + 1] == '\n', $"A bare CR outside quotes at {i}");
                row.Add(field.ToString());
                field.Clear();
                rows.Add([.. row]);
                row.Clear();
                i += 2;
            }
            else
            {
                Assert.True(c != '\n', $"A bare LF outside quotes at {i}");
                field.Append(c);
                i++;
            }
        }

        Assert.False(quoted, "The text ends inside a quoted field");
        Assert.True(field.Length == 0 && row.Count == 0, "The last record has no CRLF");
        return rows;
    }
}
