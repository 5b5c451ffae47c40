using AuditPipeline.Core.Ingest;
using AuditPipeline.Core.Integrity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AuditPipeline.Integrity;

/// <summary>
/// Tamper evidence (CONTRACT section 9). Call it before the ingest pipeline is registered: the sealing
/// service must stop after the pipeline drained, and hosted services stop in reverse order.
/// <code>
/// "Integrity": { "Enabled": true, "SealInterval": "00:01:00", "DigestPath": "./data/digests",
///                "StatePath": "./data/integrity", "SigningKeyPath": "/run/secrets/digest-key.pem" }
/// </code>
/// </summary>
public static class IntegrityServiceCollectionExtensions
{
    public static IServiceCollection AddIntegrity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IntegrityOptions>()
            .Bind(configuration.GetSection(IntegrityOptions.SectionName))
            .PostConfigure(o => o.StorePath = configuration["Store:Embedded:Path"] is { Length: > 0 } p ? p : "./data")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IntegrityOptions>>(new IntegrityOptionsValidator());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<IntegrityOptions>>().Value);
        services.AddSingleton(sp => new DigestDirectory(sp.GetRequiredService<IntegrityOptions>().ResolvedDigestPath));

        var enabled = configuration.GetValue($"{IntegrityOptions.SectionName}:{nameof(IntegrityOptions.Enabled)}", true);
        if (enabled)
        {
            services.AddSingleton(sp =>
            {
                var o = sp.GetRequiredService<IntegrityOptions>();
                var signer = SigningKey.Load(o, out var generated);
                return new LoadedKey(signer, new IntegrityKeyInfo(signer.KeyId, o.ResolvedSigningKeyPath, generated));
            });
            services.AddSingleton(sp => sp.GetRequiredService<LoadedKey>().Signer);
            services.AddSingleton(sp => sp.GetRequiredService<LoadedKey>().Info);
            var fullSync = !string.Equals(configuration["Store:Embedded:Synchronous"], "Normal", StringComparison.OrdinalIgnoreCase);
            services.AddSingleton(sp => new IntegrityState(sp.GetRequiredService<IntegrityOptions>().ResolvedStatePath, fullSync));
            services.AddSingleton<DigestSealer>();
            services.AddSingleton<IAppendObserver, SealingObserver>();
            services.AddHostedService<SealingService>();
            services.AddSingleton(sp => new PublicKeySource(() => sp.GetRequiredService<DigestSigner>().PublicKeyPem));
        }
        else
        {
            services.AddSingleton(sp => new PublicKeySource(() =>
                File.ReadAllText(Path.Combine(sp.GetRequiredService<IntegrityOptions>().ResolvedDigestPath, DigestDirectory.PublicKeyFileName))));
        }

        services.AddSingleton<IIntegrityCheck>(sp => new IntegrityCheck(
            sp.GetRequiredService<Core.Storage.IAuditStore>(),
            sp.GetRequiredService<Core.Retention.RetentionPlanRegistry>(),
            sp.GetRequiredService<IntegrityOptions>(),
            sp.GetRequiredService<PublicKeySource>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IDigestStoreCopy>()));
        return services;
    }

    /// <summary>The embedded store's copy of the digests, beside its partitions; also a sink.</summary>
    public static IServiceCollection AddEmbeddedDigestCopy(this IServiceCollection services)
    {
        services.AddSingleton<IDigestStoreCopy>(sp => new SqliteDigestCopy(sp.GetRequiredService<IntegrityOptions>().StorePath));
        services.AddSingleton<IDigestSink>(sp => sp.GetRequiredService<IDigestStoreCopy>());
        return services;
    }
}

internal sealed record LoadedKey(DigestSigner Signer, IntegrityKeyInfo Info);

internal sealed class IntegrityOptionsValidator : IValidateOptions<IntegrityOptions>
{
    public ValidateOptionsResult Validate(string? name, IntegrityOptions options)
    {
        var problems = options.Validate().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
