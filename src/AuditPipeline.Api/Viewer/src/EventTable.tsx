import type { JSX } from "preact";
import type { AuditEvent } from "./api";
import { entityLabel, humanize, localTime, userLabel, utcTime } from "./format";

interface Props { events: AuditEvent[]; selected: string | null; onOpen: (id: string, from: HTMLElement) => void }

/**
 * The newest-first list. Each row's View button is a tab stop; ↑/↓ (and Home/End) move between rows,
 * Enter or Space opens the side panel.
 */
export function EventTable({ events, selected, onOpen }: Props) {
  const onKeyDown = (e: JSX.TargetedKeyboardEvent<HTMLTableSectionElement>) => {
    const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>("button.view")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const to = e.key === "ArrowDown" ? at + 1 : e.key === "ArrowUp" ? at - 1 : e.key === "Home" ? 0 : e.key === "End" ? buttons.length - 1 : null;
    if (to === null || at < 0) return;
    e.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, to))]?.focus();
  };

  return (
    <table class="events" aria-describedby="events-help">
      <caption id="events-help" class="visually-hidden">Audit events, newest first. Use the arrow keys to move between rows and Enter to view one.</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">User</th>
          <th scope="col">Action</th>
          <th scope="col">Entity</th>
          <th scope="col">Source</th>
          <th scope="col"><span class="visually-hidden">Details</span></th>
        </tr>
      </thead>
      <tbody onKeyDown={onKeyDown}>
        {events.map((e) => (
          <tr key={e.id} data-event-id={e.id} class={selected === e.id ? "selected" : undefined}
            onClick={(ev) => { if (!(ev.target as HTMLElement).closest("button")) onOpen(e.id, ev.currentTarget.querySelector("button.view")!); }}>
            <td class="time"><time dateTime={e.time} title={utcTime(e.time)}>{localTime(e.time)}</time></td>
            <td class="user">
              <span class="name">{userLabel(e)}</span>
              {e.actor.email && e.actor.name && <span class="muted email">{e.actor.email}</span>}
            </td>
            <td class="action">
              <span>{humanize(e.action)}</span>
              {e.ai?.initiated && <span class="badge ai" title="Initiated by the AI assistant">AI</span>}
              {e.outcome === "failure" && <span class="badge failure">Failed</span>}
            </td>
            <td class="entity">{entityLabel(e)}</td>
            <td class="source"><span class="pill">{e.source}</span></td>
            <td class="view-cell">
              <button type="button" class="view" aria-label={`View ${humanize(e.action)} by ${userLabel(e)} at ${localTime(e.time)}`}
                aria-expanded={selected === e.id} onClick={(ev) => onOpen(e.id, ev.currentTarget)}>View</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
