using System.Globalization;
using System.Text;
using AuditPipeline.Core.Events;
using AuditPipeline.Core.Storage;
using Microsoft.Data.Sqlite;

namespace AuditPipeline.Embedded.Storage;

/// <summary>
/// How one <see cref="AuditQuery"/> is read from a partition, always in index order (time desc, id
/// desc) so a page stops reading as soon as it is full:
/// <list type="bullet">
/// <item>free text with few candidates: the FTS5 index gives the candidates, sorted (at most
/// <see cref="TextCandidateLimit"/> rows);</item>
/// <item>a filter on entity id, user or action: one ordered range of that filter's index per value,
/// merged (the other filters are checked on the index entries);</item>
/// <item>otherwise: the time index walked newest first, every filter checked on its entries.</item>
/// </list>
/// Free-text terms are always checked exactly with <see cref="TextMatch"/> afterwards. A plan made
/// without the text probe (<see cref="ProbesText"/> false) walks like the last two: how a scan reads
/// first, because a term common enough to fill a page soon is found faster by walking than by
/// merging the FTS5 lists of every word it prefixes (see <see cref="MonthScan"/>).
/// </summary>
internal sealed class ScanPlan
{
    internal const int TextCandidateLimit = 2000;
    private const int MaxSeekValues = 16;

    private static readonly (string Index, string Column)[] SeekIndexes =
    [
        ("ix_events_entity_id", "entity_id"),
        ("ix_events_actor", "actor_id"),
        ("ix_events_action", "action"),
    ];

    private readonly string _orgId;
    private readonly List<(string Column, string[] Values)> _filters = [];
    private readonly int? _ai;
    private readonly long? _fromMs;
    private readonly long? _toMs;
    private readonly DateTimeOffset? _from;
    private readonly DateTimeOffset? _to;
    private readonly AuditPosition? _after;
    private readonly string? _matchScoped;
    private readonly string? _matchPlain;
    private readonly string? _exactScoped;
    private readonly string? _exactPlain;
    private readonly int _seek = -1;
    private readonly string? _seekIndex;

    private readonly bool _withDocs;

    private ScanPlan(AuditQuery q, bool withDocs, bool probeText)
    {
        _orgId = q.OrgId;
        Terms = q.Terms;

        // Free-text terms are checked on the row after the statement, so only without them does every
        // match the statement flags become a result whose document the statement may read itself.
        _withDocs = withDocs && q.Terms.Count == 0;
        AddFilter("entity_id", q.EntityIds);
        AddFilter("actor_id", q.Users);
        AddFilter("action", q.Actions);
        AddFilter("entity_type", q.EntityTypes);
        AddFilter("category", q.Categories);
        AddFilter("source", q.Sources);
        AddFilter("outcome", q.Outcomes);
        var ai = q.Ai.Distinct().ToList();
        if (ai.Count == 1)
        {
            _ai = ai[0] ? 1 : 0;
        }

        _from = q.From;
        _to = q.To;
        _fromMs = q.From is { } f ? SqlTime.CeilMs(f) : null;
        _toMs = q.To is { } t ? SqlTime.CeilMs(t) : null;
        _after = q.After;
        IsEmpty = SearchText.AnyTermImpossible(Terms) || (_fromMs is { } a && _toMs is { } b && a >= b);
        _matchScoped = Terms.Count > 0 ? SearchText.MatchExpression(Terms, SearchText.OrgKey(q.OrgId)) : null;
        _matchPlain = Terms.Count > 0 ? SearchText.MatchExpression(Terms) : null;
        _exactScoped = Terms.Count > 0 ? SearchText.MatchExpression(Terms, SearchText.OrgKey(q.OrgId), prefix: false) : null;
        _exactPlain = Terms.Count > 0 ? SearchText.MatchExpression(Terms, prefix: false) : null;
        ProbesText = probeText && _matchScoped is not null;

        foreach (var (index, column) in SeekIndexes)
        {
            var i = _filters.FindIndex(x => x.Column == column);
            if (i >= 0 && _filters[i].Values.Length <= MaxSeekValues)
            {
                _seek = i;
                _seekIndex = index;
                break;
            }
        }
    }

    public IReadOnlyList<string> Terms { get; }

    /// <summary>True when the query provably matches nothing.</summary>
    public bool IsEmpty { get; }

    /// <summary>True when each partition's text index is asked for the candidates of the terms before the plan is chosen.</summary>
    public bool ProbesText { get; }

    public static ScanPlan For(AuditQuery q) => new(q, withDocs: false, probeText: true);

    /// <summary>
    /// A plan whose statements also return each matching row's document (a streamed export reads
    /// every match): SQLite reads it during the walk, only for rows whose filter column is 1, instead
    /// of one point lookup statement per row.
    /// </summary>
    public static ScanPlan For(AuditQuery q, bool withDocs) => new(q, withDocs, probeText: true);

    /// <summary>The same plan without the text probe: the terms are checked on the rows of the walk.</summary>
    public static ScanPlan Walking(AuditQuery q, bool withDocs) => new(q, withDocs, probeText: false);

    /// <summary>False when no event of the month starting at <paramref name="monthStart"/> can match.</summary>
    public bool Overlaps(DateTimeOffset monthStart)
    {
        var monthEnd = monthStart.Year == 9999 && monthStart.Month == 12 ? DateTimeOffset.MaxValue : monthStart.AddMonths(1);
        return !(_from is { } f && monthEnd <= f) && !(_to is { } t && monthStart >= t) && !(_after is { } a && monthStart > a.Time);
    }

    /// <summary>
    /// Adds the ordered row streams of one partition to <paramref name="streams"/>; returns the rows
    /// the free-text probe examined (part of the request's work budget). The tables are opened in the
    /// order rows move through them (tail, <c>events_mid</c>, <c>events</c>), so a merge in between
    /// shows a row twice, never not at all.
    /// </summary>
    public int OpenStreams(SqliteConnection conn, DocReader docs, List<RowStream> streams, bool textScopedByOrg, DocReader? tail = null, DocReader? mid = null)
    {
        if (tail is not null)
        {
            // The rows not merged yet: no index, at most a merge's worth, every filter checked on the row.
            streams.Add(RowStream.Open(tail, Command(conn, "tail", null, -1)));
        }

        // The indexed tables: events_mid (rows spread over a large month, not yet moved on) and events.
        var levels = mid is null ? [(docs, false)] : new[] { (mid, true), (docs, false) };
        var match = ProbesText ? (textScopedByOrg ? _matchScoped : _matchPlain) : null;
        var probed = 0;
        if (match is not null)
        {
            // Whole words first: a list read in order and cut at the limit, so cheap. Their matches are
            // a subset of the prefixes', so above the limit the prefixes are too, and the prefix probe
            // (which merges the list of every indexed word starting so: for one letter, most of the
            // month) is left out. The text index is one for both tables.
            var exact = textScopedByOrg ? _exactScoped : _exactPlain;
            probed = exact is not null && TextCandidates(conn, exact) > TextCandidateLimit ? TextCandidateLimit + 1 : TextCandidates(conn, match);
            if (probed <= TextCandidateLimit)
            {
                foreach (var (reader, isMid) in levels)
                {
                    streams.Add(RowStream.Open(reader, Command(conn, "text", null, -1, match, isMid)));
                }

                return probed;
            }
        }

        foreach (var (reader, isMid) in levels)
        {
            if (_seek >= 0)
            {
                foreach (var value in _filters[_seek].Values)
                {
                    streams.Add(RowStream.Open(reader, Command(conn, _seekIndex!, value, _seek, mid: isMid)));
                }
            }
            else
            {
                streams.Add(RowStream.Open(reader, Command(conn, "ix_events_time", null, -1, mid: isMid)));
            }
        }

        return probed;
    }

    /// <summary>
    /// The statement of one stream (also for tests that look at query plans). The filters are not in
    /// its WHERE clause but its last column (1 = the row matches): every row the walk examines comes
    /// back, so the request's work is counted row by row and a walk through rows that match nothing
    /// stops at the budget, and at a cancellation, instead of running inside one SQLite step.
    /// </summary>
    /// <param name="mid">The statement reads <c>events_mid</c> (its indexes have the same keys) instead of <c>events</c>.</param>
    internal SqliteCommand Command(SqliteConnection conn, string index, string? seekValue, int seek, string? match = null, bool mid = false)
    {
        var cmd = conn.CreateCommand();
        var sql = new StringBuilder(512);
        var filter = new StringBuilder(128);
        var table = mid ? "events_mid" : "events";
        sql.Append("SELECT ").Append(PartitionSchema.RowColumns);
        if (index == "text")
        {
            sql.Append(", {0} AS m FROM (SELECT rowid AS r FROM events_text WHERE events_text MATCH $m) t CROSS JOIN ").Append(table).Append(" e ON e.seq = t.r");
            cmd.Parameters.AddWithValue("$m", match ?? _matchScoped);
        }
        else if (index == "tail")
        {
            sql.Append(", {0} AS m FROM events_tail e");
        }
        else
        {
            sql.Append(", {0} AS m FROM ").Append(table).Append(" e INDEXED BY ").Append(mid ? index.Replace("ix_events_", "ix_events_mid_", StringComparison.Ordinal) : index);
        }

        sql.Append(" WHERE e.org_id = $org");
        cmd.Parameters.AddWithValue("$org", _orgId);
        if (seek >= 0)
        {
            sql.Append(" AND e.").Append(_filters[seek].Column).Append(" = $seek");
            cmd.Parameters.AddWithValue("$seek", seekValue);
        }

        for (var i = 0; i < _filters.Count; i++)
        {
            if (i == seek)
            {
                continue;
            }

            var (column, values) = _filters[i];
            filter.Append(filter.Length == 0 ? "" : " AND ").Append("e.").Append(column).Append(" IN (");
            for (var j = 0; j < values.Length; j++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"$f{i}_{j}");
                filter.Append(j == 0 ? "" : ", ").Append(name);
                cmd.Parameters.AddWithValue(name, values[j]);
            }

            filter.Append(')');
        }

        if (_ai is { } ai)
        {
            filter.Append(filter.Length == 0 ? "" : " AND ").Append("e.ai = $ai");
            cmd.Parameters.AddWithValue("$ai", ai);
        }

        if (_after is { } after)
        {
            if (SqlTime.IsWholeMs(after.Time))
            {
                sql.Append(" AND (e.time_ms, e.id) < ($at, $aid)");
                cmd.Parameters.AddWithValue("$at", SqlTime.ToUnixMs(after.Time));
                cmd.Parameters.AddWithValue("$aid", after.Id);
            }
            else
            {
                sql.Append(" AND e.time_ms < $at");
                cmd.Parameters.AddWithValue("$at", SqlTime.CeilMs(after.Time));
            }
        }

        if (_toMs is { } to)
        {
            sql.Append(" AND e.time_ms < $to");
            cmd.Parameters.AddWithValue("$to", to);
        }

        if (_fromMs is { } from)
        {
            sql.Append(" AND e.time_ms >= $from");
            cmd.Parameters.AddWithValue("$from", from);
        }

        if (_withDocs && index != "tail")
        {
            // Not for the tail: it has no index, so its rows go through a sort, which should not carry documents.
            sql.Replace(" AS m FROM ", " AS m, CASE WHEN {0} THEN e.doc END AS doc FROM ");
        }

        sql.Append(" ORDER BY e.time_ms DESC, e.id DESC");
        cmd.CommandText = sql.ToString().Replace("{0}", filter.Length == 0 ? "1" : "coalesce((" + filter + "), 0)", StringComparison.Ordinal);
        return cmd;
    }

    /// <summary>How many candidates the text index has (up to one past the limit): above it, walk instead.</summary>
    private static int TextCandidates(SqliteConnection conn, string match)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM (SELECT 1 FROM events_text WHERE events_text MATCH $m LIMIT $limit)";
        cmd.Parameters.AddWithValue("$m", match);
        cmd.Parameters.AddWithValue("$limit", TextCandidateLimit + 1);
        try
        {
            return Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            // A term the FTS5 tokenizer splits differently: walk and let TextMatch decide.
            return TextCandidateLimit + 1;
        }
    }

    private void AddFilter(string column, IReadOnlyList<string> values)
    {
        if (values.Count > 0)
        {
            _filters.Add((column, values.Distinct(StringComparer.Ordinal).ToArray()));
        }
    }
}

/// <summary>One ordered cursor over a partition; several are merged newest first.</summary>
internal sealed class RowStream : IDisposable
{
    private readonly SqliteCommand _command;
    private readonly SqliteDataReader _reader;
    private readonly DocReader _docs;
    private readonly bool _hasDoc;

    private RowStream(DocReader docs, SqliteCommand command, SqliteDataReader reader)
    {
        _docs = docs;
        _command = command;
        _reader = reader;
        _hasDoc = reader.FieldCount > 8; // a plan made withDocs: the statement's own document column
        Advance();
    }

    public bool HasRow { get; private set; }

    /// <summary>True when the current row passes the filters (the statement's last column).</summary>
    public bool FiltersMatch { get; private set; }

    public long TimeMs { get; private set; }

    public string Id { get; private set; } = "";

    public static RowStream Open(DocReader docs, SqliteCommand command)
    {
        try
        {
            return new RowStream(docs, command, command.ExecuteReader());
        }
        catch
        {
            command.Dispose();
            throw;
        }
    }

    public void Advance()
    {
        HasRow = _reader.Read();
        if (HasRow)
        {
            TimeMs = _reader.GetInt64(0);
            Id = _reader.GetString(1);
            FiltersMatch = _reader.GetInt64(7) != 0;
        }
    }

    /// <summary>Newest first: later time, then greater id in the order of SQLite's index (<see cref="IdOrder"/>).</summary>
    public bool IsNewerThan(RowStream other) =>
        TimeMs > other.TimeMs || (TimeMs == other.TimeMs && IdOrder.CompareIds(Id, other.Id) > 0);

    public bool TextMatches(IReadOnlyList<string> terms)
    {
        string? actorName = Text(3), actorEmail = Text(4), entityName = Text(5), entityId = Text(6);
        foreach (var term in terms)
        {
            if (!TextMatch.Matches(term, actorName) && !TextMatch.Matches(term, actorEmail) &&
                !TextMatch.Matches(term, entityName) && !TextMatch.Matches(term, entityId) && !TextMatch.Matches(term, Id))
            {
                return false;
            }
        }

        return true;
    }

    public AuditEvent ReadEvent() => _docs.Read(_reader.GetInt64(2));

    /// <summary>The current row's stored document, undecoded.</summary>
    public StoredDoc ReadStored() => new(TimeMs, Id, _hasDoc ? _reader.GetFieldValue<byte[]>(8) : _docs.ReadBytes(_reader.GetInt64(2)));

    public void Dispose()
    {
        _reader.Dispose();
        _command.Dispose();
    }

    private string? Text(int ordinal) => _reader.IsDBNull(ordinal) ? null : _reader.GetString(ordinal);
}

/// <summary>Fetches stored documents by row number on one connection (a prepared point lookup), from <c>events</c>, <c>events_mid</c> or the tail.</summary>
internal sealed class DocReader : IDisposable
{
    private readonly SqliteCommand _command;
    private readonly SqliteParameter _seq;

    /// <param name="table"><c>events</c>, <c>events_mid</c> or <c>events_tail</c>.</param>
    public DocReader(SqliteConnection conn, string table = "events")
    {
        _command = conn.CreateCommand();
        _command.CommandText = table switch
        {
            "events" or "events_mid" or "events_tail" => $"SELECT doc FROM {table} WHERE seq = $seq",
            _ => throw new ArgumentOutOfRangeException(nameof(table), table, "not a table of a partition"),
        };
        _seq = _command.Parameters.Add("$seq", SqliteType.Integer);
    }

    public AuditEvent Read(long seq) => DocDecoder.Decode(ReadBytes(seq));

    public byte[] ReadBytes(long seq)
    {
        _seq.Value = seq;
        using var reader = _command.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"Row {seq} vanished from an append-only partition.");
        }

        return reader.GetFieldValue<byte[]>(0);
    }

    public void Dispose() => _command.Dispose();
}
