import { Argv, HostCommandError } from "../command";
import { HostSession } from "../resource";
import { Connection, hostAndPort } from "../ssh";

/** How long an operation waits for another one holding the same VG's host-side lock. */
export const LOCK_TIMEOUT_SECONDS = 300;

/** Resource IDs name the host and the object: `host:port/vg` or `host:port/vg/lv`. */
export function resourceId(connection: Connection, ...path: string[]): string {
  return `${hostAndPort(connection)}/${path.join("/")}`;
}

/** A refusal decided in TypeScript, before or instead of a change: typed like the host's own refusals. */
export function refusal(host: HostSession, operation: string, message: string): HostCommandError {
  return new HostCommandError(host.target, operation, "refused", undefined, null, message);
}

/**
 * The `vgchange`/`lvchange` command that turns one tag set into another, or undefined when they are the same.
 * `command` is the tool and `target` the VG or VG/LV.
 */
export function tagChange(command: string, target: string, olds: readonly string[], news: readonly string[]): Argv | undefined {
  const add = news.filter((t) => !olds.includes(t));
  const del = olds.filter((t) => !news.includes(t));
  if (add.length + del.length === 0) return undefined;
  return [command, ...add.flatMap((t) => ["--addtag", t]), ...del.flatMap((t) => ["--deltag", t]), "--", target];
}
