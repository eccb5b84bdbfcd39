import { HostCommandError } from "../command";

/**
 * A create whose outcome the client never heard.
 *
 * When the connection is lost (or the host loses power) while a create's script runs, the client cannot know
 * whether the object was made: the script may have finished, ended through its undo steps, or stopped with a
 * journal entry for the next run. If the create simply failed, Pulumi would forget it, and a finished object would
 * then be refused by the next `up` as one it never recorded ("already exists"). Instead the create fails with the
 * object's ID and its inputs as partial state (Pulumi's ErrorResourceInitFailed, `e.id`/`e.properties` for both
 * Node servers), marked with UNCONFIRMED: the engine keeps the resource in the state, shows it as an update at the
 * next preview, and calls Update, where the kind's `finishCreate` takes the object if the create made it, or makes it
 * (finishing or undoing what a journal recorded). Refresh leaves such a record as it is; a delete removes what the
 * create left, found by the ID.
 *
 * Only a script that changes the host and was sent counts (HostCommandError.outcomeUnknown): a lost read-only
 * inspection before it, or a connection that never opened, made nothing, and a create that found a foreign object
 * refused it before its script started.
 */
export const UNCONFIRMED = "createUnconfirmed";

export class CreateUnconfirmed extends Error {
  readonly reasons: string[];

  constructor(message: string, readonly id: string, public properties: Record<string, unknown>) {
    super(`${message}\nThe resource is kept in the state as an unconfirmed create: the next pulumi up finds what it left on the host and finishes it.`);
    this.name = "CreateUnconfirmed";
    this.reasons = [message];
  }
}

/**
 * The partial state an error carries to the engine, if any: a CreateUnconfirmed, or the scrubbed copy
 * `scrubError` makes of one (a plain Error with the same fields).
 */
export function partialState(e: unknown): { id: string; properties: Record<string, unknown> } | undefined {
  const p = e as { id?: unknown; properties?: unknown } | null;
  return p && typeof p.id === "string" && p.id !== "" && typeof p.properties === "object" && p.properties !== null
    ? (p as { id: string; properties: Record<string, unknown> }) : undefined;
}

/** Whether `e` says a host-changing script was sent and its result never came back. */
export function outcomeUnknown(e: unknown): e is HostCommandError {
  return e instanceof HostCommandError && e.outcomeUnknown;
}
