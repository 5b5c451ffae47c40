import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type AuditApi, type AuditEvent } from "./api";
import { diffEvent, show } from "./diff";
import { entityLabel, humanize, localTime, userLabel, utcTime } from "./format";

interface Props { api: AuditApi; eventId: string; onClose: () => void; onAuthError: (e: unknown) => boolean }

/** View: one event in full, with the field-by-field before/after. Escape or Close returns to the list. */
export function DetailPanel({ api, eventId, onClose, onAuthError }: Props) {
  const [state, setState] = useState<{ event?: AuditEvent; error?: string }>({});
  const closeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    setState({});
    api.getEvent(eventId, abort.signal).then(
      (event) => setState({ event }),
      (e) => {
        if (abort.signal.aborted || onAuthError(e)) return;
        setState({ error: e instanceof ApiError && e.status === 404 ? "This event no longer exists." : e instanceof Error ? e.message : String(e) });
      },
    );
    return () => abort.abort();
  }, [api, eventId, onAuthError]);

  useEffect(() => closeButton.current?.focus(), [eventId]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") onClose(); };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onClose]);

  const e = state.event;
  return (
    <aside class="panel" role="dialog" aria-modal="false" aria-labelledby="panel-title" aria-busy={!e && !state.error}>
      <header class="panel-header">
        <h2 id="panel-title">{e ? `${humanize(e.action)} · ${entityLabel(e)}` : "Event"}</h2>
        <button type="button" class="button subtle" ref={closeButton} onClick={onClose} aria-label="Close details">Close</button>
      </header>
      {!e && !state.error && <div class="state" role="status"><span class="spinner" aria-hidden="true" /> Loading the event…</div>}
      {state.error && <div class="state error" role="alert">{state.error}</div>}
      {e && <EventDetails e={e} />}
    </aside>
  );
}

function EventDetails({ e }: { e: AuditEvent }) {
  const rows = diffEvent(e);
  return (
    <div class="panel-body">
      {e.ai?.initiated && (
        <section class="ai-box" aria-label="AI action">
          <p><span class="badge ai">AI</span> Performed by the AI assistant on behalf of {userLabel(e)}.</p>
          <dl class="facts">
            <Fact label="Conversation">{e.ai.conversationId ?? "—"}</Fact>
            <Fact label="Message">{e.ai.messageId ?? "—"}</Fact>
            {e.ai.tool && <Fact label="Tool">{e.ai.tool}</Fact>}
          </dl>
        </section>
      )}
      <dl class="facts">
        <Fact label="Time"><time dateTime={e.time} title={utcTime(e.time)}>{localTime(e.time)}</time> <span class="muted">({utcTime(e.time)})</span></Fact>
        <Fact label="User">{userLabel(e)}{e.actor.email && <span class="muted"> · {e.actor.email}</span>}{e.actor.id && <span class="muted"> · {e.actor.id}</span>}</Fact>
        <Fact label="Action">{humanize(e.action)} <span class="muted">({e.eventType})</span></Fact>
        <Fact label="Outcome">{e.outcome === "failure" ? <span class="badge failure">Failed</span> : "Success"}</Fact>
        <Fact label="Entity">{humanize(e.entity.type)}{e.entity.name && ` · ${e.entity.name}`}{e.entity.id && <span class="muted"> · {e.entity.id}</span>}</Fact>
        <Fact label="Source">{e.source}</Fact>
        <Fact label="Category">{e.category}</Fact>
        <Fact label="IP address">{e.ip ?? "—"}</Fact>
        <Fact label="User agent"><span class="wrap">{e.userAgent ?? "—"}</span></Fact>
        <Fact label="Event id"><code>{e.id}</code></Fact>
      </dl>

      <section aria-labelledby="changes-title">
        <h3 id="changes-title">Changes</h3>
        {rows.length === 0 ? (
          <p class="muted">This event changed no fields.</p>
        ) : (
          <table class="diff">
            <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.field} class={`diff-${r.kind}`} data-kind={r.kind}>
                  <th scope="row">{r.field} <span class={`tag tag-${r.kind}`}>{r.kind}</span></th>
                  <td class="before">{r.kind === "added" ? <span class="muted">—</span> : <code>{show(r.before)}</code>}</td>
                  <td class="after">{r.kind === "removed" ? <span class="muted">—</span> : <code>{show(r.after)}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {e.details && Object.keys(e.details).length > 0 && (
        <section aria-labelledby="details-title">
          <h3 id="details-title">Details</h3>
          <pre class="json">{JSON.stringify(e.details, null, 2)}</pre>
        </section>
      )}
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (<><dt>{label}</dt><dd>{children}</dd></>);
}
