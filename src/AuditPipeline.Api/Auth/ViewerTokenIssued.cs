namespace AuditPipeline.Api.Auth;

/// <summary><c>{"token","expiresAt"}</c>: a viewer token and the instant it stops being accepted.</summary>
public sealed record ViewerTokenIssued(string Token, DateTimeOffset ExpiresAt);
