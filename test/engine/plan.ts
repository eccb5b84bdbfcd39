// What an operation did, per resource, and how it is printed. Only field names are printed, never values,
// so secrets cannot leak into the plan.

export type Op = "create" | "update" | "replace" | "delete" | "same" | "read" | "import";
export type Operation = "preview" | "update" | "refresh" | "destroy" | "import";

export interface Step {
  op: Op;
  urn: string;
  /** Short type token: `lvm:VolumeGroup` for `pulumi-nodejs:dynamic/lvm:VolumeGroup`. */
  type: string;
  name: string;
  /** Top-level inputs that differ (update, replace), or outputs that drifted (read). */
  changedFields: string[];
  /** replace: the fields that force the replacement. */
  replaceFields?: string[];
  /** replace: the old object is deleted before the new one is created. */
  deleteBeforeReplace?: boolean;
  /** delete: `retainOnDelete` was set, so the object was only dropped from the state. */
  retained?: boolean;
  /** delete: the resource's `deletedWith` target was deleted in the same operation, which removed it too. */
  deletedWith?: boolean;
  /** read: the object no longer exists, so it was dropped from the state. */
  gone?: boolean;
  /** read: the changed fields that are inputs too, i.e. the object no longer matches the program (drift). */
  driftedInputs?: string[];
}

export interface Failure { urn?: string; type?: string; name?: string; property?: string; reason: string }

export const shortType = (t: string) => (t.startsWith("pulumi-nodejs:dynamic/") ? t.slice("pulumi-nodejs:dynamic/".length) : t);

const SYMBOLS: Record<Op, string> = {
  create: "+ create", update: "~ update", replace: "+- replace", delete: "- delete", same: "  same", read: "> read", import: "= import",
};

export function stepLine(s: Step): string {
  const fields = s.op === "replace" ? s.replaceFields?.length ? s.replaceFields : s.changedFields : s.changedFields;
  const notes = [
    s.op !== "read" && fields.length ? `[${fields.join(", ")}]` : "",
    s.op === "replace" ? (s.deleteBeforeReplace ? "(delete before replace)" : "(create before delete)") : "",
    s.retained ? "(retainOnDelete: left in place, dropped from state)" : "",
    s.deletedWith ? "(deletedWith: removed with the resource it names)" : "",
    s.op === "read" ? readNote(s) : "",
  ].filter(Boolean);
  return `  ${SYMBOLS[s.op].padEnd(11)} ${s.type.padEnd(22)} ${s.name}${notes.length ? "  " + notes.join(" ") : ""}`;
}

function readNote(s: Step): string {
  if (s.gone) return "gone: dropped from state";
  const drifted = s.driftedInputs ?? [];
  const refreshed = s.changedFields.filter((f) => !drifted.includes(f));
  return [drifted.length ? `drifted [${drifted.join(", ")}]` : "",
    refreshed.length ? `outputs refreshed [${refreshed.join(", ")}]` : "",
    s.changedFields.length === 0 ? "in sync" : ""].filter(Boolean).join(", ");
}

export function failureLine(f: Failure): string {
  const who = f.name ? `${f.type} ${f.name}: ` : "";
  return `  error: ${who}${f.property ? `${f.property}: ` : ""}${f.reason}`;
}

export function summaryLine(operation: Operation, steps: Step[]): string {
  const n = (op: Op, pred: (s: Step) => boolean = () => true) => steps.filter((s) => s.op === op && pred(s)).length;
  if (operation === "refresh") {
    const drifted = (s: Step) => !s.gone && (s.driftedInputs?.length ?? 0) > 0;
    return `Resources: ${n("read", drifted)} drifted, ${n("read", (s) => !!s.gone)} gone, ` +
      `${n("read", (s) => !s.gone && !drifted(s) && s.changedFields.length > 0)} with refreshed outputs, ` +
      `${n("read", (s) => !s.gone && s.changedFields.length === 0)} in sync`;
  }
  const words = operation === "preview"
    ? ["to create", "to update", "to replace", "to delete"]
    : ["created", "updated", "replaced", "deleted"];
  if (operation === "import") return `Resources: ${n("import")} imported`;
  return `Resources: ${n("create")} ${words[0]}, ${n("update")} ${words[1]}, ${n("replace")} ${words[2]}, ` +
    `${n("delete")} ${words[3]}, ${n("same")} unchanged`;
}

export const headerLine = (operation: Operation, project: string, stack: string) =>
  `${{ preview: "Previewing update", update: "Updating", refresh: "Refreshing", destroy: "Destroying", import: "Importing" }[operation]} (${project}/${stack})`;

export const providerLine = (bytes: Record<string, number>) =>
  `Serialized __provider per resource (kept in its inputs and outputs): ` +
  Object.entries(bytes).map(([t, b]) => `${t} ${(b / 1024).toFixed(1)} kB`).join(", ");
