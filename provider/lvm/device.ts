import { Argv } from "../command";

/**
 * An active LV's device-mapper device, as `dmsetup` reports it: read from the kernel, with no scan of the disks, so
 * it costs a slow host a fraction of an `lvs`. For facts of an LV just made, where nothing else is unknown.
 */
export function deviceUuidArgv(device: string): Argv {
  return ["dmsetup", "info", "-c", "--noheadings", "-o", "uuid", "--", device];
}

/**
 * The LV's uuid as LVM prints it (lv_uuid: 32 characters in groups of 6-4-4-4-4-4-6) from its device's uuid, which
 * device-mapper holds as "LVM-" followed by the VG's and the LV's uuids, 32 characters each, without dashes.
 */
export function parseLvUuidOfDevice(text: string): string {
  const m = /^LVM-[A-Za-z0-9]{32}([A-Za-z0-9]{32})$/.exec(text.trim());
  if (!m) throw new Error(`unexpected device-mapper uuid of an LV: ${JSON.stringify(text.trim().slice(0, 120))}`);
  const id = m[1];
  return [id.slice(0, 6), id.slice(6, 10), id.slice(10, 14), id.slice(14, 18), id.slice(18, 22), id.slice(22, 26), id.slice(26)].join("-");
}
