import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, AuditApi, tokenFromFragment, type AuditEvent } from "./api";
import { filtersFromQuery, filtersToParams, hasFilters, emptyFilters, type Filters } from "./filters";
import { FilterBar } from "./FilterBar";
import { EventTable } from "./EventTable";
import { DetailPanel } from "./DetailPanel";
import { ExportControl } from "./ExportControl";
import { SignIn } from "./SignIn";
import { CopyLink } from "./CopyLink";

type ListState =
  | { status: "loading" }
  | { status: "ready"; items: AuditEvent[]; nextCursor: string | null; more: "idle" | "loading" | string }
  | { status: "error"; message: string }
  | { status: "signin" };

/** The page: ?org=<orgId>#token=<viewer token>; the filters live in the rest of the query string. */
export function App() {
  const api = useMemo(() => {
    const org = new URLSearchParams(location.search).get("org");
    const token = tokenFromFragment(location.hash);
    return org && token ? new AuditApi(org, token) : null;
  }, []);
  const [filters, setFiltersState] = useState<Filters>(() => filtersFromQuery(location.search));
  // The same query twice (Enter, then leaving the field) is not a new search.
  const setFilters = useCallback((next: Filters) => setFiltersState((prev) =>
    prev.range === next.range && filtersToParams(prev).toString() === filtersToParams(next).toString() ? prev : next), []);
  const [list, setList] = useState<ListState>(api ? { status: "loading" } : { status: "signin" });
  const [selected, setSelected] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(api === null);
  const [reload, setReload] = useState(0);
  const returnFocus = useRef<HTMLElement | null>(null);

  const onAuthError = useCallback((e: unknown): boolean => {
    if (e instanceof ApiError && e.needsSignIn) {
      setSignedOut(true);
      setList({ status: "signin" });
      setSelected(null);
      return true;
    }
    return false;
  }, []);

  // The filters are the page's address: a copied link (without its #token) opens the same view.
  useEffect(() => {
    if (!api) return;
    const query = new URLSearchParams({ org: api.org });
    filtersToParams(filters).forEach((v, k) => query.append(k, v));
    const url = `${location.pathname}?${query}${location.hash}`;
    if (url !== location.pathname + location.search + location.hash) history.replaceState(null, "", url);
  }, [api, filters]);

  useEffect(() => {
    if (!api || signedOut) return;
    const abort = new AbortController();
    setList({ status: "loading" });
    api.listEvents(filtersToParams(filters), null, abort.signal).then(
      (page) => setList({ status: "ready", items: page.items, nextCursor: page.nextCursor, more: "idle" }),
      (e) => {
        if (abort.signal.aborted || onAuthError(e)) return;
        // A 404 on the organisation's own list means the token is not for this organisation.
        if (e instanceof ApiError && e.status === 404) {
          setSignedOut(true);
          setList({ status: "signin" });
          return;
        }
        setList({ status: "error", message: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => abort.abort();
  }, [api, filters, reload, signedOut, onAuthError]);

  const loadMore = useCallback(() => {
    if (!api || list.status !== "ready" || !list.nextCursor || list.more === "loading") return;
    const current = list;
    setList({ ...current, more: "loading" });
    api.listEvents(filtersToParams(filters), current.nextCursor).then(
      (page) => setList({ status: "ready", items: [...current.items, ...page.items], nextCursor: page.nextCursor, more: "idle" }),
      (e) => {
        if (onAuthError(e)) return;
        setList({ ...current, more: e instanceof Error ? e.message : String(e) });
      },
    );
  }, [api, list, filters, onAuthError]);

  const open = useCallback((id: string, from: HTMLElement | null) => {
    returnFocus.current = from;
    setSelected(id);
  }, []);

  const close = useCallback(() => {
    setSelected(null);
    returnFocus.current?.focus();
  }, []);

  if (!api || signedOut) {
    return <SignIn />;
  }

  const items = list.status === "ready" ? list.items : [];
  return (
    <div class={selected ? "layout with-panel" : "layout"}>
      <main class="main" aria-labelledby="page-title">
        <header class="page-header">
          <div>
            <p class="breadcrumb">Settings › Audit Log</p>
            <h1 id="page-title">Audit Log</h1>
            <p class="subtitle">Every change, sign-in and AI action in your organisation, newest first.</p>
          </div>
          <div class="header-actions">
            <ExportControl api={api} filters={filters} onAuthError={onAuthError} />
            <CopyLink />
          </div>
        </header>

        <FilterBar filters={filters} onChange={setFilters} events={items} />

        <section class="results" aria-labelledby="results-title" aria-busy={list.status === "loading"}>
          <h2 id="results-title" class="visually-hidden">Events</h2>
          {list.status === "loading" && (
            <div class="state" role="status">
              <span class="spinner" aria-hidden="true" /> Loading events…
            </div>
          )}
          {list.status === "error" && (
            <div class="state error" role="alert">
              <p><strong>The events could not be loaded.</strong> {list.message}</p>
              <button type="button" class="button" onClick={() => setReload((n) => n + 1)}>Try again</button>
            </div>
          )}
          {list.status === "ready" && list.items.length === 0 && (
            <div class="state empty" role="status">
              <p><strong>No events found.</strong> {hasFilters(filters) ? "No event matches these filters." : "Nothing has been recorded for this organisation yet."}</p>
              {hasFilters(filters) && (
                <button type="button" class="button" onClick={() => setFilters(emptyFilters())}>Clear filters</button>
              )}
            </div>
          )}
          {list.status === "ready" && list.items.length > 0 && (
            <>
              <EventTable events={list.items} selected={selected} onOpen={open} />
              <div class="more">
                {list.nextCursor ? (
                  <button type="button" class="button" onClick={loadMore} disabled={list.more === "loading"}>
                    {list.more === "loading" ? "Loading…" : "Load more"}
                  </button>
                ) : (
                  <p class="end" role="status">{list.items.length === 1 ? "1 event" : `${list.items.length} events`} · end of the list</p>
                )}
                {list.more !== "idle" && list.more !== "loading" && (
                  <p class="inline-error" role="alert">More events could not be loaded: {list.more}</p>
                )}
              </div>
            </>
          )}
        </section>
      </main>
      {selected && <DetailPanel api={api} eventId={selected} onClose={close} onAuthError={onAuthError} />}
    </div>
  );
}
