using AuditPipeline.Core.Configuration;

namespace AuditPipeline.Elasticsearch;

internal sealed class ElasticsearchOptionsValidator : ConfigurationValidator<ElasticsearchOptions>
{
    private const string S = ElasticsearchOptions.SectionName;

    public override IEnumerable<string> Problems(ElasticsearchOptions options)
    {
        var o = options;
        if (string.IsNullOrWhiteSpace(o.Url))
        {
            yield return $"{S}:Url must be set to the cluster's address, e.g. https://elasticsearch:9200.";
        }
        else if (!Uri.TryCreate(o.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"{S}:Url must be an absolute http or https address (was '{o.Url}').";
        }

        var hasKey = !string.IsNullOrWhiteSpace(o.ApiKey);
        var hasUser = !string.IsNullOrWhiteSpace(o.Username);
        if (hasKey && hasUser)
        {
            yield return $"{S}:ApiKey and {S}:Username are both set; configure one way to authenticate.";
        }

        if (hasUser && string.IsNullOrEmpty(o.Password))
        {
            yield return $"{S}:Password must be set when {S}:Username is.";
        }

        if (!hasUser && !string.IsNullOrEmpty(o.Password))
        {
            yield return $"{S}:Username must be set when {S}:Password is.";
        }

        if (!string.IsNullOrWhiteSpace(o.CaCertificatePath) && !File.Exists(o.CaCertificatePath))
        {
            yield return $"{S}:CaCertificatePath names a file that does not exist ('{o.CaCertificatePath}').";
        }

        if (!string.IsNullOrWhiteSpace(o.CaCertificatePath) && !string.IsNullOrWhiteSpace(o.CertificateFingerprint))
        {
            yield return $"{S}:CaCertificatePath and {S}:CertificateFingerprint are both set; configure one.";
        }

        if (o.RequestTimeout <= TimeSpan.Zero)
        {
            yield return $"{S}:RequestTimeout must be positive (was {o.RequestTimeout}).";
        }

        if (o.BulkMaxBytes < 64 * 1024)
        {
            yield return $"{S}:BulkMaxBytes must be at least 65536 (was {o.BulkMaxBytes}).";
        }

        if (o.BulkMaxDocuments < 1)
        {
            yield return $"{S}:BulkMaxDocuments must be at least 1 (was {o.BulkMaxDocuments}).";
        }

        if (o.MaxAttempts < 1)
        {
            yield return $"{S}:MaxAttempts must be at least 1 (was {o.MaxAttempts}).";
        }

        if (o.RetryMinDelay < TimeSpan.Zero || o.RetryMaxDelay < o.RetryMinDelay)
        {
            yield return $"{S}:RetryMinDelay must not be negative and {S}:RetryMaxDelay not below it (were {o.RetryMinDelay} and {o.RetryMaxDelay}).";
        }

        if (o.StreamPageSize is < 1 or > 10_000)
        {
            yield return $"{S}:StreamPageSize must be 1 to 10000 (was {o.StreamPageSize}).";
        }

        if (o.QueryMaxExamined is < 501 or > 1_000_000)
        {
            yield return $"{S}:QueryMaxExamined must be 501 to 1000000 (was {o.QueryMaxExamined}), at least one full page of 500 and its look-ahead.";
        }

        if (o.PointInTimeKeepAlive < TimeSpan.FromSeconds(1))
        {
            yield return $"{S}:PointInTimeKeepAlive must be at least one second (was {o.PointInTimeKeepAlive}).";
        }
    }
}
