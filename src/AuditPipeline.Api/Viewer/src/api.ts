// The facade's shapes (CONTRACT.md section 3 and 4) and a client that sends the viewer token only as
// an Authorization header: never in a URL, so it cannot reach a log or a Referer.

export interface Actor { type: string; id: string | null; name: string | null; email: string | null }
export interface Entity { type: string; id: string | null; name: string | null }
export interface Change { field: string; before: unknown; after: unknown }
export interface Ai { initiated: boolean; conversationId: string | null; messageId: string | null; tool: string | null }

export interface AuditEvent {
  id: string;
  time: string;
  orgId: string;
  category: string;
  action: string;
  eventType: string;
  outcome: string;
  actor: Actor;
  entity: Entity;
  source: string;
  ip: string | null;
  userAgent: string | null;
  changes: Change[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  ai: Ai | null;
  details: Record<string, unknown> | null;
  receivedAt: string;
}

export interface EventPage { items: AuditEvent[]; nextCursor: string | null }

export interface ExportStatus { id: string; status: "queued" | "running" | "completed" | "failed"; rowCount: number | null; sha256: string | null; error: string | null }

/** A failed request: the HTTP status and the problem's sentence. */
export class ApiError extends Error {
  constructor(public readonly status: number, message: string) {
    super(message);
  }

  /** 401, or 404 on the organisation itself: the token is missing, expired, tampered or for another organisation. */
  get needsSignIn(): boolean {
    return this.status === 401;
  }
}

export class AuditApi {
  private readonly base: string;

  constructor(private readonly orgId: string, private readonly token: string) {
    // Relative to the page (…/ui/), so a proxy prefix in front of the worker is kept.
    this.base = new URL(`../v1/orgs/${encodeURIComponent(orgId)}`, document.baseURI).pathname;
  }

  get org(): string {
    return this.orgId;
  }

  listEvents(filters: URLSearchParams, cursor: string | null, signal?: AbortSignal): Promise<EventPage> {
    const query = new URLSearchParams(filters);
    query.set("limit", "50");
    if (cursor) query.set("cursor", cursor);
    return this.json<EventPage>(`/events?${query}`, { signal });
  }

  getEvent(id: string, signal?: AbortSignal): Promise<AuditEvent> {
    return this.json<AuditEvent>(`/events/${encodeURIComponent(id)}`, { signal });
  }

  startExport(body: Record<string, unknown>): Promise<{ id: string; status: string }> {
    return this.json(`/exports`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  }

  exportStatus(id: string): Promise<ExportStatus> {
    return this.json<ExportStatus>(`/exports/${encodeURIComponent(id)}`, {});
  }

  /** The CSV as a blob: a plain link cannot carry the Authorization header. */
  async downloadExport(id: string): Promise<Blob> {
    const response = await this.send(`/exports/${encodeURIComponent(id)}/download`, {});
    return response.blob();
  }

  private async json<T>(path: string, init: RequestInit): Promise<T> {
    const response = await this.send(path, init);
    return (await response.json()) as T;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${this.token}`);
    headers.set("Accept", "application/json, text/csv");
    let response: Response;
    try {
      response = await fetch(this.base + path, { ...init, headers, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, "The audit service cannot be reached. Check your connection and try again.");
    }

    if (!response.ok) {
      throw new ApiError(response.status, await problemSentence(response));
    }

    return response;
  }
}

async function problemSentence(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: string; title?: string };
    if (problem.detail) return problem.detail;
    if (problem.title) return problem.title;
  } catch {
    // Not a problem document: fall through to the status line.
  }

  return `The request failed (${response.status}${response.statusText ? " " + response.statusText : ""}).`;
}

/** Reads `#token=…` from the fragment (never sent to a server). */
export function tokenFromFragment(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  const token = params.get("token");
  return token && token.trim() ? token.trim() : null;
}
