import { Connection } from "../ssh";

/** How long an operation waits for another one holding the same VG's host-side lock. */
export const LOCK_TIMEOUT_SECONDS = 300;

/** Resource IDs name the host and the object: `host:port/vg` or `host:port/vg/lv`. */
export function resourceId(connection: Connection, ...path: string[]): string {
  const host = connection.host.includes(":") ? `[${connection.host}]` : connection.host;
  return `${host}:${connection.port}/${path.join("/")}`;
}
