using FsCheck;
using FsCheck.Fluent;

namespace AuditPipeline.Core.Tests.Storage;

internal static class PieceStrings
{
    /// <summary>Strings of up to <paramref name="maxPieces"/> pieces, each drawn from <paramref name="pieces"/> (a piece may be a surrogate pair).</summary>
    public static Gen<string> Of(string[] pieces, int maxPieces) =>
        from n in Gen.Choose(0, maxPieces)
        from parts in Gen.ArrayOf(Gen.Elements(pieces), n)
        select string.Concat(parts);
}
