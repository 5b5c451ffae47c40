using Microsoft.Extensions.Options;

namespace AuditPipeline.Core.Configuration;

/// <summary>
/// The one way every options type is validated: a sealed subclass lists each problem as a sentence
/// that names the configuration key to fix (<c>Kafka:GroupId must not be empty.</c>), and
/// <see cref="ValidatedOptionsExtensions.AddValidatedOptions{TOptions, TValidator}"/> runs it at start-up.
/// Code that has no host (the <c>normalize</c> verb, tests) calls <see cref="Problems"/> directly.
/// </summary>
/// <remarks>
/// Chosen over data-annotation attributes and the <c>[OptionsValidator]</c> generator because most of
/// the checks here compare keys with each other (RetryMax at least RetryMin, one topic per kind) or
/// touch the disk (a store directory that can be created), and a generated message names a member,
/// not the key a reader has to change.
/// </remarks>
public abstract class ConfigurationValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <summary>Every problem with <paramref name="options"/>, each a sentence naming its key; none when valid.</summary>
    public abstract IEnumerable<string> Problems(TOptions options);

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
