import { useEffect, useMemo, useState } from "preact/hooks";
import type { AuditEvent } from "./api";
import {
  CATEGORIES, KNOWN_ACTIONS, OUTCOMES, RANGES, SOURCES, emptyFilters, hasFilters, isoToLocalInput, localInputToIso, splitList, type Filters,
} from "./filters";
import { humanize } from "./format";

interface Props { filters: Filters; onChange: (f: Filters) => void; events: AuditEvent[] }

const RANGE_LABELS: Record<string, string> = { "7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days" };

/**
 * Every filter of the facade. Selects apply at once; text fields when they change (Enter or leaving
 * the field), so typing does not send a request per key. Several values: comma-separated.
 */
export function FilterBar({ filters, onChange, events }: Props) {
  const set = (patch: Partial<Filters>) => onChange({ ...filters, ...patch });
  const [custom, setCustom] = useState(filters.range === "custom");
  const range = custom ? "custom" : filters.range ?? "";

  // Suggestions from what is on screen: a person knows "Ana Silva", not usr_7.
  const users = useMemo(() => {
    const seen = new Map<string, string>();
    for (const e of events) if (e.actor.id && !seen.has(e.actor.id)) seen.set(e.actor.id, e.actor.name || e.actor.email || e.actor.id);
    return [...seen];
  }, [events]);
  const entityTypes = useMemo(() => [...new Set(events.map((e) => e.entity.type))].sort(), [events]);

  return (
    <form class="filters" role="search" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
      <div class="field grow">
        <label for="f-q">Search</label>
        <TextFilter id="f-q" type="search" placeholder="Name, email, record or event id" value={filters.q}
          onCommit={(v) => set({ q: v })} />
      </div>
      <div class="field">
        <label for="f-action">Action</label>
        <TextFilter id="f-action" list="l-actions" placeholder="Any" value={filters.action.join(", ")}
          onCommit={(v) => set({ action: splitList(v) })} />
        <datalist id="l-actions">{KNOWN_ACTIONS.map((a) => <option key={a} value={a} />)}</datalist>
      </div>
      <div class="field">
        <label for="f-user">User</label>
        <TextFilter id="f-user" list="l-users" placeholder="Any (user id)" value={filters.user.join(", ")}
          onCommit={(v) => set({ user: splitList(v) })} />
        <datalist id="l-users">{users.map(([id, name]) => <option key={id} value={id}>{name}</option>)}</datalist>
      </div>
      <div class="field">
        <label for="f-entity">Entity type</label>
        <TextFilter id="f-entity" list="l-entities" placeholder="Any" value={filters.entityType.join(", ")}
          onCommit={(v) => set({ entityType: splitList(v) })} />
        <datalist id="l-entities">{entityTypes.map((t) => <option key={t} value={t} />)}</datalist>
      </div>
      <div class="field">
        <label for="f-range">Date</label>
        <select id="f-range" value={range} onChange={(e) => {
          const v = e.currentTarget.value;
          setCustom(v === "custom");
          set(v === "custom" ? { range: "custom" } : { range: v || null, from: null, to: null });
        }}>
          <option value="">All time</option>
          {RANGES.map((r) => <option key={r} value={r}>{RANGE_LABELS[r]}</option>)}
          <option value="custom">Custom range…</option>
        </select>
      </div>
      {range === "custom" && (
        <>
          <div class="field">
            <label for="f-from">From</label>
            <input id="f-from" type="datetime-local" value={isoToLocalInput(filters.from)}
              onChange={(e) => set({ range: "custom", from: localInputToIso(e.currentTarget.value) })} />
          </div>
          <div class="field">
            <label for="f-to">To</label>
            <input id="f-to" type="datetime-local" value={isoToLocalInput(filters.to)}
              onChange={(e) => set({ range: "custom", to: localInputToIso(e.currentTarget.value) })} />
          </div>
        </>
      )}
      <div class="field">
        <label for="f-source">Source</label>
        <select id="f-source" value={filters.source[0] ?? ""} onChange={(e) => set({ source: e.currentTarget.value ? [e.currentTarget.value] : [] })}>
          <option value="">Any</option>
          {SOURCES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-category">Category</label>
        <select id="f-category" value={filters.category[0] ?? ""} onChange={(e) => set({ category: e.currentTarget.value ? [e.currentTarget.value] : [] })}>
          <option value="">Any</option>
          {CATEGORIES.map((c) => <option key={c} value={c}>{c === "ai" ? "AI" : c === "crm" ? "CRM" : humanize(c)}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-outcome">Outcome</label>
        <select id="f-outcome" value={filters.outcome[0] ?? ""} onChange={(e) => set({ outcome: e.currentTarget.value ? [e.currentTarget.value] : [] })}>
          <option value="">Any</option>
          {OUTCOMES.map((o) => <option key={o} value={o}>{humanize(o)}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-ai">AI</label>
        <select id="f-ai" value={filters.ai ?? ""} onChange={(e) => set({ ai: e.currentTarget.value || null })}>
          <option value="">Any</option>
          <option value="true">AI actions only</option>
          <option value="false">Without AI</option>
        </select>
      </div>
      {filters.entityId.length > 0 && (
        <div class="field">
          <label for="f-entity-id">Entity id</label>
          <TextFilter id="f-entity-id" value={filters.entityId.join(", ")} onCommit={(v) => set({ entityId: splitList(v) })} />
        </div>
      )}
      {hasFilters(filters) && (
        <div class="field actions">
          <button type="button" class="button subtle" onClick={() => { setCustom(false); onChange(emptyFilters()); }}>Clear filters</button>
        </div>
      )}
    </form>
  );
}

interface TextProps { id: string; value: string; onCommit: (value: string) => void; placeholder?: string; list?: string; type?: string }

/** A text field that keeps what is being typed and commits it on change (Enter or leaving the field). */
function TextFilter({ id, value, onCommit, placeholder, list, type }: TextProps) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <input id={id} type={type ?? "text"} list={list} placeholder={placeholder} value={draft} autoComplete="off"
      onInput={(e) => setDraft(e.currentTarget.value)}
      onChange={(e) => { if (e.currentTarget.value !== value) onCommit(e.currentTarget.value); }} />
  );
}
