using AuditPipeline.Embedded.Storage;

namespace AuditPipeline.Embedded.Tests.Storage;

public sealed class IdFilterTests
{
    [Fact]
    public void Every_added_id_may_be_contained_and_few_others_are()
    {
        var filter = new IdFilter(100_000);
        for (var i = 0; i < 100_000; i++)
        {
            filter.Add("org_" + (i % 7), "evt_" + i);
        }

        var falsePositives = 0;
        for (var i = 0; i < 100_000; i++)
        {
            Assert.True(filter.MayContain("org_" + (i % 7), "evt_" + i));
            if (filter.MayContain("org_" + (i % 7), "other_" + i))
            {
                falsePositives++;
            }
        }

        // Same id in another organisation is another key.
        Assert.InRange(falsePositives, 0, 3000);
        Assert.False(Enumerable.Range(0, 1000).All(i => filter.MayContain("org_x", "evt_" + i)));
    }
}
