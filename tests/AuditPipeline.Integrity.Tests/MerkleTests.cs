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
