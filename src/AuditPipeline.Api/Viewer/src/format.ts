// How an event's parts read in the list and the panel; times in the browser's time zone, UTC on hover.
import type { AuditEvent } from "./api";

const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : local.format(d);
}

export function utcTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").replace("Z", " UTC");
}

export function userLabel(e: AuditEvent): string {
  const a = e.actor;
  if (a.type === "system") return "System";
  return a.name || a.email || a.id || "Unknown";
}

export function entityLabel(e: AuditEvent): string {
  const name = e.entity.name || e.entity.id;
  return name ? `${humanize(e.entity.type)} · ${name}` : humanize(e.entity.type);
}

export function humanize(code: string): string {
  const text = code.replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
