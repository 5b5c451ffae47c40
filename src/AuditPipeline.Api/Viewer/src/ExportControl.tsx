import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type AuditApi, type ExportStatus } from "./api";
import { filtersToExportBody, type Filters } from "./filters";

interface Props { api: AuditApi; filters: Filters; onAuthError: (e: unknown) => boolean }

type State =
  | { step: "idle" }
  | { step: "starting" }
  | { step: "polling"; status: ExportStatus }
  | { step: "completed"; status: ExportStatus; downloading: boolean }
  | { step: "failed"; message: string };

/**
 * Export CSV: starts a background export job with the filters on screen, polls its status, and offers
 * the file when it is completed (fetched with the Authorization header, then saved from a blob URL).
 */
export function ExportControl({ api, filters, onAuthError }: Props) {
  const [state, setState] = useState<State>({ step: "idle" });
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const fail = (e: unknown, prefix: string) => {
    if (onAuthError(e)) return;
    const text = e instanceof ApiError ? e.message : String(e);
    setState({ step: "failed", message: `${prefix} ${text}` });
  };

  const poll = (id: string, delay: number) => {
    timer.current = window.setTimeout(() => {
      api.exportStatus(id).then(
        (status) => {
          if (status.status === "completed") setState({ step: "completed", status, downloading: false });
          else if (status.status === "failed") setState({ step: "failed", message: `The export failed: ${status.error ?? "no reason was given"}.` });
          else {
            setState({ step: "polling", status });
            poll(id, Math.min(delay * 1.5, 3000));
          }
        },
        (e) => fail(e, "The export's progress could not be read:"),
      );
    }, delay);
  };

  const start = () => {
    window.clearTimeout(timer.current);
    setState({ step: "starting" });
    api.startExport(filtersToExportBody(filters)).then(
      (accepted) => {
        setState({ step: "polling", status: { id: accepted.id, status: "queued", rowCount: null, sha256: null, error: null } });
        poll(accepted.id, 400);
      },
      (e) => fail(e, "The export could not be started:"),
    );
  };

  const download = async (status: ExportStatus) => {
    setState({ step: "completed", status, downloading: true });
    try {
      const blob = await api.downloadExport(status.id);
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `audit-export-${status.id}.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState({ step: "completed", status, downloading: false });
    } catch (e) {
      fail(e, "The download failed:");
    }
  };

  const busy = state.step === "starting" || state.step === "polling";
  return (
    <div class="export">
      <button type="button" class="button primary" onClick={start} disabled={busy}>
        {busy ? "Exporting…" : "Export CSV"}
      </button>
      <div class="export-status" role="status" aria-live="polite">
        {state.step === "starting" && "Starting the export…"}
        {state.step === "polling" && (
          <span><span class="spinner" aria-hidden="true" /> Export {state.status.status === "queued" ? "queued" : "running"}…
            {state.status.rowCount ? ` ${state.status.rowCount} rows` : ""}</span>
        )}
        {state.step === "completed" && (
          <span>
            Export ready: {state.status.rowCount ?? 0} {state.status.rowCount === 1 ? "row" : "rows"}.{" "}
            <button type="button" class="button link" onClick={() => download(state.status)} disabled={state.downloading}>
              {state.downloading ? "Downloading…" : "Download CSV"}
            </button>
          </span>
        )}
        {state.step === "failed" && <span class="inline-error">{state.message}</span>}
      </div>
    </div>
  );
}
