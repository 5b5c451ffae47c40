// The field-by-field comparison of before/after shown by View: added, removed, changed, unchanged.
import type { AuditEvent } from "./api";

export type DiffKind = "added" | "removed" | "changed" | "unchanged";

export interface DiffRow { field: string; kind: DiffKind; before: unknown; after: unknown }

/** JSON with object keys sorted, so two values compare by content (numbers by value, as JSON.parse reads them). */
export function canonical(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.keys(value as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(",")}}`;
}

/**
 * Rows in order of first appearance in before, then after. With neither snapshot (the ai kind reports
 * its changes directly) the event's `changes` are used: a null before is an addition, a null after a removal.
 */
export function diffEvent(e: Pick<AuditEvent, "before" | "after" | "changes">): DiffRow[] {
  const before = isObject(e.before) ? e.before : null;
  const after = isObject(e.after) ? e.after : null;
  if (!before && !after) {
    return (e.changes ?? []).map((c) => ({
      field: c.field,
      before: c.before,
      after: c.after,
      kind: c.before === null || c.before === undefined ? "added" : c.after === null || c.after === undefined ? "removed" : "changed",
    }));
  }

  const fields: string[] = [];
  for (const k of Object.keys(before ?? {})) fields.push(k);
  for (const k of Object.keys(after ?? {})) if (!(before && k in before)) fields.push(k);
  return fields.map((field) => {
    const inBefore = !!before && field in before;
    const inAfter = !!after && field in after;
    const b = inBefore ? before![field] : undefined;
    const a = inAfter ? after![field] : undefined;
    const kind: DiffKind = !inBefore ? "added" : !inAfter ? "removed" : canonical(b) === canonical(a) ? "unchanged" : "changed";
    return { field, kind, before: b, after: a };
  });
}

/** A value as a person reads it: strings bare, everything else as compact JSON. */
export function show(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
