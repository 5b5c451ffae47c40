using System.Security.Cryptography;
using AuditPipeline.Core.Integrity;

namespace AuditPipeline.Integrity.Tests;

public sealed class MerkleTests
{
    // The Certificate Transparency reference leaves and tree heads (RFC 6962; transparency-dev/merkle testonly).
    private static readonly string[] Leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    private static readonly string[] Roots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void The_tree_heads_of_the_reference_leaves_are_RFC_6962s_for_every_size()
    {
        for (var n = 0; n <= Leaves.Length; n++)
        {
            var leaves = Leaves.Take(n).Select(Convert.FromHexString).ToList();

            Assert.Equal(Roots[n], Convert.ToHexStringLower(MerkleTree.Root(leaves)));
        }
    }

    [Fact]
    public void The_bottom_up_tree_equals_the_RFCs_recursive_split_at_the_largest_power_of_two()
    {
        for (var n = 1; n <= 70; n++)
        {
            var leaves = Enumerable.Range(0, n).Select(i => new[] { (byte)i, (byte)(i * 7) }).ToList();

            Assert.Equal(Convert.ToHexStringLower(Reference(leaves)), Convert.ToHexStringLower(MerkleTree.Root(leaves)));
        }
    }

    [Fact]
    public void The_in_place_root_over_hashes_equals_the_RFCs_recursive_split_for_every_size()
    {
        var random = new Random(11);
        foreach (var n in Enumerable.Range(0, 300).Concat([511, 512, 513, 1000, 1025]))
        {
            var leaves = Enumerable.Range(0, n).Select(_ => RandomLeaf(random)).ToList();

            var root = MerkleTree.RootOfHashes(leaves.SelectMany(l => l).ToArray());

            Assert.Equal(Convert.ToHexStringLower(n == 0 ? SHA256.HashData([]) : Reference(leaves)), Convert.ToHexStringLower(root));
        }
    }

    [Fact]
    public void Leaves_that_are_not_whole_hashes_are_refused_by_the_in_place_root()
    {
        Assert.Throws<ArgumentException>(() => MerkleTree.RootOfHashes(new byte[33]));
    }

    [Fact]
    public void A_digests_root_over_hex_hashes_is_the_general_trees_and_an_edited_hash_still_takes_the_general_path()
    {
        var random = new Random(12);
        var entries = Enumerable.Range(0, 37).Select(i => new DigestEntry("evt_" + i, DateTimeOffset.UnixEpoch, Convert.ToHexStringLower(RandomLeaf(random)))).ToList();
        Assert.Equal(
            Convert.ToHexStringLower(MerkleTree.Root([.. entries.Select(e => Convert.FromHexString(e.Hash))])),
            Digest.MerkleRootOf(entries));

        // Upper-case hex is the same bytes; 62 digits are a 31-byte leaf, as the general path always read them.
        var upper = entries.Select(e => e with { Hash = e.Hash.ToUpperInvariant() }).ToList();
        Assert.Equal(Digest.MerkleRootOf(entries), Digest.MerkleRootOf(upper));
        var shorter = entries.Select((e, i) => i == 5 ? e with { Hash = e.Hash[..62] } : e).ToList();
        Assert.Equal(
            Convert.ToHexStringLower(MerkleTree.Root([.. shorter.Select(e => Convert.FromHexString(e.Hash))])),
            Digest.MerkleRootOf(shorter));
        var notHex = entries.Select((e, i) => i == 5 ? e with { Hash = new string('z', 64) } : e).ToList();
        Assert.Throws<FormatException>(() => Digest.MerkleRootOf(notHex));
    }

    private static byte[] RandomLeaf(Random random)
    {
        var leaf = new byte[32];
        random.NextBytes(leaf);
        return leaf;
    }

    private static byte[] Reference(IReadOnlyList<byte[]> d)
    {
        if (d.Count == 1)
        {
            return SHA256.HashData([0, .. d[0]]);
        }

        var k = 1;
        while (k * 2 < d.Count)
        {
            k *= 2;
        }

        return SHA256.HashData([1, .. Reference([.. d.Take(k)]), .. Reference([.. d.Skip(k)])]);
    }
}
