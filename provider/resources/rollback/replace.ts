import { Script } from "../../command";
import { LvRow } from "../../lvm/report";
import { HostSession } from "../../resource";
import { REQUIRE_NEW_LV } from "../../storage/hostChecks";
import { replacesTag } from "../../storage/journal";
import { replacementLvName } from "../../storage/naming";
import { refusal } from "../common";

/**
 * What a chain and a thin rollback share: the disk's LV is replaced by a new one, built first under
 * `pulumi-lvm-new_<disk>` and journaled `replaces=<disk>` (by `build`, which is given that name and the journal tag
 * its LV must carry); only then is the old LV removed and the new one renamed. A run cut off before the removal
 * leaves the disk as it was (and a stale new LV, removed here by the next run); one cut off after it leaves an LV the
 * journal names as the disk, which the next run renames (finishReplace).
 */
export function replaceDiskLv(script: Script, vg: string, disk: string, lvs: readonly LvRow[],
  build: (fresh: string, journal: string) => void): Script {
  const fresh = replacementLvName(disk);
  if (lvs.some((l) => l.name === fresh)) {
    script.run("remove the LV an interrupted rollback left", ["lvremove", "--yes", "--", `${vg}/${fresh}`]);
  }
  script.code("check the new LV's name is free", REQUIRE_NEW_LV, { vg, lv: fresh, exists_hint: "" });
  build(fresh, replacesTag(disk));
  // From here the journal, not an undo, finishes the work: the new LV is what the disk is to become.
  script.forgetUndos()
    .run("remove the disk's old LV", ["lvremove", "--yes", "--", `${vg}/${disk}`]);
  return finishReplace(script, vg, fresh, disk);
}

/** The new LV takes the disk's name, and the journal entry is closed. */
export function finishReplace(script: Script, vg: string, fresh: string, disk: string): Script {
  return script
    .run("give the new LV the disk's name", ["lvrename", "--", vg, fresh, disk])
    .run("close the journal entry", ["lvchange", "--deltag", replacesTag(disk), "--", `${vg}/${disk}`]);
}

/** Refuses a disk with thick snapshots: removing the disk's LV would remove them with it. */
export function refuseThickSnapshots(host: HostSession, operation: string, vg: string, disk: string, lvs: readonly LvRow[]): void {
  const thick = lvs.filter((l) => l.origin === disk && (l.attr.type === "s" || l.attr.type === "S")).map((l) => l.name);
  if (thick.length > 0) {
    throw refusal(host, operation, `${vg}/${disk} has thick snapshots (${thick.join(", ")}), which a rollback would remove with the disk's LV; delete them first`);
  }
}
