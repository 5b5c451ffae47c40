// The filter bar's state, kept in the page's query string (shareable; the token stays in the fragment)
// and turned into the facade's query parameters and the export job's JSON body.

export const RANGES = ["7d", "30d", "90d"] as const;
export const SOURCES = ["Admin", "API", "Chat", "Workflow", "System"] as const;
export const OUTCOMES = ["success", "failure"] as const;
export const CATEGORIES = ["crm", "auth", "security", "ai", "settings", "data"] as const;

/** Actions of the contract's mapping, offered as suggestions (the filter itself is open). */
export const KNOWN_ACTIONS = [
  "created", "updated", "deleted", "read", "stage_changed", "login", "login_failed", "logout", "password_changed",
  "password_reset", "mfa_enrolled", "mfa_removed", "mfa_reset", "sso_configured", "sso_updated", "sso_removed",
  "session_terminated", "api_key_created", "api_key_revoked", "api_key_regenerated", "policy_updated", "connected",
  "disconnected", "import_started", "import_completed", "export_requested", "bulk_updated", "bulk_deleted",
  "erasure_executed", "exported",
];

export interface Filters {
  action: string[];
  user: string[];
  entityType: string[];
  entityId: string[];
  category: string[];
  source: string[];
  outcome: string[];
  ai: string | null; // "true" | "false"
  range: string | null; // 7d | 30d | 90d | "custom"
  from: string | null; // ISO-8601 UTC
  to: string | null;
  q: string;
}

const REPEATABLE = ["action", "user", "entityType", "entityId", "category", "source", "outcome"] as const;

export function emptyFilters(): Filters {
  return { action: [], user: [], entityType: [], entityId: [], category: [], source: [], outcome: [], ai: null, range: null, from: null, to: null, q: "" };
}

export function filtersFromQuery(search: string): Filters {
  const params = new URLSearchParams(search);
  const f = emptyFilters();
  for (const name of REPEATABLE) {
    f[name] = params.getAll(name).flatMap(splitList);
  }

  const ai = params.get("ai")?.toLowerCase();
  f.ai = ai === "true" || ai === "false" ? ai : null;
  const range = params.get("range")?.toLowerCase() ?? null;
  f.from = params.get("from") || null;
  f.to = params.get("to") || null;
  f.range = range && (RANGES as readonly string[]).includes(range) ? range : f.from || f.to ? "custom" : null;
  f.q = params.getAll("q").join(" ").trim();
  return f;
}

/** The facade's parameters (also the page's own query string, next to `org`). */
export function filtersToParams(f: Filters): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of REPEATABLE) {
    for (const value of f[name]) params.append(name, value);
  }

  if (f.ai) params.set("ai", f.ai);
  if (f.range && f.range !== "custom") params.set("range", f.range);
  if (f.range === "custom") {
    if (f.from) params.set("from", f.from);
    if (f.to) params.set("to", f.to);
  }

  if (f.q.trim()) params.set("q", f.q.trim());
  return params;
}

/** The export job's body: the same names, repeatable ones as arrays, `ai` as a boolean. */
export function filtersToExportBody(f: Filters): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of REPEATABLE) {
    if (f[name].length > 0) body[name] = f[name];
  }

  if (f.ai) body.ai = f.ai === "true";
  if (f.range && f.range !== "custom") body.range = f.range;
  if (f.range === "custom") {
    if (f.from) body.from = f.from;
    if (f.to) body.to = f.to;
  }

  if (f.q.trim()) body.q = f.q.trim();
  return body;
}

export function hasFilters(f: Filters): boolean {
  return filtersToParams(f).toString() !== "";
}

/** "a, b  c" → ["a", "b", "c"]: several values of one filter are typed comma- or space-separated. */
export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** ISO-8601 UTC → the value of a datetime-local input, in the browser's time zone. */
export function isoToLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (browser's time zone) → ISO-8601 UTC, or null when empty or invalid. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
