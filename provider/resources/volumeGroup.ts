import { z } from "zod";
import { Script, sh } from "../command";
import { captureHostLvm, HostLvm, parseHostLvm, readHostLvm } from "../lvm/hostState";
import { PvRow } from "../lvm/report";
import { Failure, HostSession, ResourceKind } from "../resource";
import { ConnectionSchema } from "../ssh";
import { userTags } from "../storage/naming";
import { DevicePath, formatBytes, hinted, isPowerOfTwo, Size, Tags, VgName } from "../validate";
import { LOCK_TIMEOUT_SECONDS, refusal, resourceId, tagChange } from "./common";

export const VolumeGroupInputs = z.strictObject({
  connection: ConnectionSchema,
  name: VgName,
  devices: hinted(z.array(DevicePath).min(1, "at least one device is required").superRefine((devices, ctx) => {
    const dup = devices.find((d, i) => devices.indexOf(d) !== i);
    if (dup) ctx.addIssue({ code: "custom", message: `device ${dup} is listed twice` });
  }), 'a list of device paths like ["/dev/sdb"]'),
  extentSize: Size.refine((b) => isPowerOfTwo(b) && b >= 1024,
    "extentSize must be a power of two of at least 1KiB, like 4MiB").optional(),
  metadataSize: Size.refine((b) => b >= 512 * 1024, "metadataSize must be at least 512KiB").optional(),
  tags: Tags.transform((t) => [...t].sort()),
  wipeSignatures: z.boolean().default(false),
  adopt: z.boolean().default(false),
  forceDestroy: z.boolean().default(false),
});
export type VolumeGroupInputs = z.infer<typeof VolumeGroupInputs>;

export const PhysicalVolume = z.object({
  device: z.string().describe("The device as the inputs name it (or as LVM names it, for a PV added outside Pulumi)."),
  path: z.string().describe("The device as LVM names it on the host."),
  sizeBytes: z.number(),
  freeBytes: z.number(),
}).meta({ title: "PhysicalVolume" });
export type PhysicalVolume = z.infer<typeof PhysicalVolume>;

export const VolumeGroupOutputFields = z.object({
  uuid: z.string(),
  sizeBytes: z.number(),
  freeBytes: z.number(),
  extentSizeBytes: z.number(),
  lvCount: z.number(),
  pvs: z.array(PhysicalVolume).describe("The VG's physical volumes."),
});
export type VolumeGroupOutputs = VolumeGroupInputs & z.infer<typeof VolumeGroupOutputFields>;

/**
 * Refuses, before anything changes, a device that is missing, mounted, held by another device, a PV of
 * another VG, or (unless wiping was asked for) carries a filesystem, partition table or other signature.
 * Then wipes what it may. "$@" are the devices; $vg the VG they are for.
 */
const PREPARE_DEVICES = sh`for dev in "$@"; do
  [ -b "$dev" ] || __fail "$dev is not a block device on this host"
  real=$(readlink -f -- "$dev")
  if [ -n "$(lsblk -rno MOUNTPOINT -- "$real" | tr -d '[:space:]')" ] || swapon --show=NAME --noheadings | grep -qxF -- "$real"; then
    __fail "$dev is mounted or in use as swap; unmount it first"
  fi
  if [ -n "$(ls -A "/sys/class/block/$(basename -- "$real")/holders" 2>/dev/null)" ]; then
    __fail "$dev is in use by another device ($(ls "/sys/class/block/$(basename -- "$real")/holders" | tr '\n' ' '))"
  fi
  if owner=$(pvs --noheadings -o vg_name -- "$dev" 2>/dev/null); then
    owner=$(echo $owner)
    if [ -n "$owner" ] && [ "$owner" != "$vg" ]; then
      __fail "$dev is a physical volume of volume group $owner; remove it there first (vgreduce $owner $dev)"
    fi
  fi
  sigs=$(wipefs --noheadings --output TYPE -- "$dev" | sort -u | tr '\n' ' ')
  if [ -n "$(echo $sigs)" ] && [ "$wipe" != 1 ]; then
    __fail "$dev carries a signature ($(echo $sigs)); set wipeSignatures: true to wipe it (its data is lost)"
  fi
done
if [ "$wipe" = 1 ]; then
  for dev in "$@"; do wipefs --all --quiet -- "$dev" >&2; done
fi`;

/** Prints each device's canonical path, one per line, in order. */
const REALPATHS = sh`for dev in "$@"; do readlink -f -- "$dev"; done`;

/** Also refuses, before pvcreate, a name vgcreate would refuse as it is taken in /dev (a disk's name, say). */
const REQUIRE_NEW_VG = sh`if vgs -- "$vg" >/dev/null 2>&1; then
  __fail "volume group $vg already exists on this host; set adopt: true to take it over"
fi
if [ -e "/dev/$vg" ] || [ -L "/dev/$vg" ]; then
  __fail "/dev/$vg exists on this host, and LVM refuses a volume group named after anything in /dev; choose another name"
fi`;

/**
 * Refuses to remove devices whose allocated extents do not fit in what stays free. "$@": devices to remove; one an
 * earlier, interrupted removal already took out of the VG counts for nothing.
 */
const CHECK_ROOM_TO_REMOVE = sh`need=0
gone=0
for dev in "$@"; do
  [ "$(pvs --noheadings -o vg_name -- "$dev" 2>/dev/null | tr -d ' ')" = "$vg" ] || continue
  need=$((need + $(pvs --noheadings --units b --nosuffix -o pv_used -- "$dev" | tr -d ' ')))
  gone=$((gone + $(pvs --noheadings --units b --nosuffix -o pv_free -- "$dev" | tr -d ' ')))
done
free=$(( $(vgs --noheadings --units b --nosuffix -o vg_free -- "$vg" | tr -d ' ') - gone ))
if [ "$need" -gt "$free" ]; then
  __fail "cannot remove $*: the $need bytes allocated on them do not fit in the $free bytes free on the remaining devices; add a device or free space first"
fi`;

/**
 * Moves allocated extents off each device in "$@", then takes it out of the VG and clears its PV label. Each step is
 * skipped when already done, so a removal cut off half-way is finished by the next run; a device that has meanwhile
 * joined another VG is refused, never cleared.
 */
const REMOVE_DEVICES = sh`for dev in "$@"; do
  owner=$(pvs --noheadings -o vg_name -- "$dev" 2>/dev/null | tr -d ' ')
  if [ "$owner" = "$vg" ]; then
    used=$(pvs --noheadings --units b --nosuffix -o pv_used -- "$dev" | tr -d ' ')
    if [ "$used" != 0 ]; then __progress "VolumeGroup $vg: moving its data off $dev" pvmove 0 pvmove --yes --interval 1 -- "$dev"; fi
    vgreduce --yes -- "$vg" "$dev" >&2
  elif [ -n "$owner" ]; then
    __fail "$dev is now a physical volume of volume group $owner, not of $vg: it was not removed"
  fi
  if pvs -- "$dev" >/dev/null 2>&1; then
    pvremove --yes -- "$dev" >&2
    wipefs --all --quiet -- "$dev" >&2
  fi
done`;

const DESTROY = sh`if vgs -- "$vg" >/dev/null 2>&1; then
  lvs_in_vg=$(lvs --noheadings -o lv_name -- "$vg" | tr -d ' ' | paste -sd, -)
  if [ -n "$lvs_in_vg" ] && [ "$force" != 1 ]; then
    __fail "volume group $vg still holds logical volumes: $lvs_in_vg; remove them first, or set forceDestroy: true and run pulumi up before destroying (their data is lost)"
  fi
  pvs_in_vg=$(pvs --noheadings -o pv_name,vg_name | awk -v vg="$vg" '$2 == vg { print $1 }')
  vgremove --yes --force --force -- "$vg" >&2
  for pv in $pvs_in_vg; do pvremove --yes -- "$pv" >&2; wipefs --all --quiet -- "$pv" >&2; done
fi`;

export const volumeGroup: ResourceKind<VolumeGroupInputs, VolumeGroupOutputs> = {
  type: "VolumeGroup",
  inputs: VolumeGroupInputs,
  outputs: VolumeGroupOutputFields,
  replaceOn: ["name"],
  // On the same host the replacement needs the devices the old VG holds.
  deleteBeforeReplace: (olds, news) => olds.connection.host === news.connection.host,
  stateOnly: ["wipeSignatures", "adopt", "forceDestroy"],
  tools: ["lvm", "wipefs", "flock"],

  checkChange(olds, news): Failure[] {
    const failures: Failure[] = [];
    if (olds.name !== news.name) return failures; // a replacement starts afresh
    for (const field of ["extentSize", "metadataSize"] as const) {
      if (news[field] !== undefined && olds[field] !== news[field]) {
        failures.push({ property: field, reason: `${field} is fixed when a volume group is created and cannot change on an existing one (${olds[field] ?? "default"} -> ${news[field]}); create a new volume group to change it` });
      }
    }
    return failures;
  },

  id: (inputs) => resourceId(inputs.connection, inputs.name),

  async create(host, inputs) {
    if (inputs.adopt) {
      const adopted = await adopt(host, inputs);
      if (adopted) return adopted;
    }
    const vars = { vg: inputs.name, wipe: inputs.wipeSignatures ? "1" : "0" };
    const script = new Script(`create volume group ${inputs.name}`)
      .lock(inputs.name, LOCK_TIMEOUT_SECONDS)
      .code("check the name is free", REQUIRE_NEW_VG, vars)
      .code("check devices", PREPARE_DEVICES, vars, inputs.devices);
    for (const dev of inputs.devices) {
      const size = inputs.metadataSize !== undefined ? ["--metadatasize", `${inputs.metadataSize}b`] : [];
      script.run(`pvcreate ${dev}`, ["pvcreate", "--yes", ...size, "--", dev]).undo(["pvremove", "--yes", "--", dev]);
    }
    script.run(`vgcreate ${inputs.name}`, ["vgcreate", "--yes",
      ...(inputs.extentSize !== undefined ? ["--physicalextentsize", `${inputs.extentSize}b`] : []),
      ...inputs.tags.flatMap((t) => ["--addtag", t]), "--", inputs.name, ...inputs.devices])
      .undo(["vgremove", "--yes", "--force", "--", inputs.name]);
    const result = await host.run(withState(script, inputs.devices));
    return outputsFrom(inputs, result.sections);
  },

  /** An unconfirmed create (glue/unconfirmed.ts) made the VG if it is there on exactly these devices: adopt's check. */
  async finishCreate(host, inputs) {
    return { ...(await volumeGroup.create(host, { ...inputs, adopt: true })), adopt: inputs.adopt };
  },

  async read(host, olds) {
    const state = await readHostLvm(host);
    if (!state.vgs.some((v) => v.name === olds.name)) return undefined;
    // Keep the user's device names for PVs that are still there; PVs added outside appear as LVM names them.
    const known = new Map(olds.pvs.map((pv) => [pv.path, pv.device]));
    const devices = state.pvs.filter((p) => p.vg === olds.name).map((p) => known.get(p.device) ?? p.device);
    const ordered = [...olds.devices.filter((d) => devices.includes(d)), ...devices.filter((d) => !olds.devices.includes(d))];
    return describe({ ...olds, devices: ordered }, state, pathsOf(olds, state));
  },

  /** `vg`: the VG with its PVs as LVM names them. */
  async importFrom(host, path, connection) {
    if (!VgName.safeParse(path).success) return undefined;
    // No devices known yet: read names them as LVM does.
    const seed = { connection, name: path, devices: [], tags: [], wipeSignatures: false, adopt: false, forceDestroy: false, pvs: [] };
    return volumeGroup.read(host, seed as unknown as VolumeGroupOutputs);
  },

  async update(host, olds, news) {
    const canonical = new Set(olds.pvs.map((p) => p.path));
    const oldByDevice = new Map(olds.pvs.map((p) => [p.device, p.path]));
    const added = news.devices.filter((d) => !olds.devices.includes(d) && !canonical.has(d));
    const removed = olds.devices.filter((d) => !news.devices.includes(d) && !news.devices.includes(oldByDevice.get(d) ?? ""));
    const vars = { vg: news.name, wipe: news.wipeSignatures ? "1" : "0" };

    const script = new Script(`update volume group ${news.name}`).lock(news.name, LOCK_TIMEOUT_SECONDS);
    if (added.length > 0) {
      script.code("check new devices", PREPARE_DEVICES, vars, added);
      for (const dev of added) {
        script.run(`pvcreate ${dev}`, ["pvcreate", "--yes", "--", dev]).undo(["pvremove", "--yes", "--", dev]);
      }
      script.run(`vgextend ${news.name}`, ["vgextend", "--yes", "--", news.name, ...added])
        .undo(["vgreduce", "--yes", "--", news.name, ...added]);
    }
    if (removed.length > 0) {
      script.code("check room to move data", CHECK_ROOM_TO_REMOVE, vars, removed)
        .code("move data off and remove devices", REMOVE_DEVICES, vars, removed);
    }
    const tags = tagChange("vgchange", news.name, olds.tags, news.tags);
    if (tags) script.run("update tags", tags);
    const result = await host.run(withState(script, news.devices));
    return outputsFrom(news, result.sections);
  },

  async delete(host, olds) {
    await host.run(new Script(`delete volume group ${olds.name}`)
      .lock(olds.name, LOCK_TIMEOUT_SECONDS)
      .code("remove the volume group", DESTROY, { vg: olds.name, force: olds.forceDestroy ? "1" : "0" }));
  },
};

/** Takes over an existing VG when its PVs are exactly the inputs' devices; undefined when there is none. */
async function adopt(host: HostSession, inputs: VolumeGroupInputs): Promise<VolumeGroupOutputs | undefined> {
  const result = await host.run(withState(new Script(`inspect volume group ${inputs.name} to adopt`), inputs.devices));
  const state = parseHostLvm(result.sections);
  const vg = state.vgs.find((v) => v.name === inputs.name);
  if (!vg) return undefined;
  const paths = realpaths(result.sections, inputs.devices);
  const want = new Set(paths.values());
  const have = state.pvs.filter((p) => p.vg === inputs.name).map((p) => p.device);
  if (have.length !== want.size || !have.every((d) => want.has(d))) {
    throw refusal(host, `adopt volume group ${inputs.name}`, `volume group ${inputs.name} exists but its devices are ${have.join(", ")}, not ${inputs.devices.join(", ")}; nothing was changed`);
  }
  if (inputs.extentSize !== undefined && inputs.extentSize !== vg.extentSizeBytes) {
    throw refusal(host, `adopt volume group ${inputs.name}`, `volume group ${inputs.name} exists with extent size ${formatBytes(vg.extentSizeBytes)}, not ${formatBytes(inputs.extentSize)}; nothing was changed`);
  }
  const adopted = describe(inputs, state, paths);
  if (adopted.tags.join() === inputs.tags.join()) return adopted;
  return volumeGroup.update(host, { ...adopted, tags: userTags(vg.tags) }, inputs);
}

/** Appends the canonical device paths and the host's LVM state to a script: its result describes the VG. */
function withState(script: Script, devices: readonly string[]): Script {
  return captureHostLvm(script.captureCode("realpaths", REALPATHS, {}, devices));
}

function realpaths(sections: Record<string, string>, devices: readonly string[]): Map<string, string> {
  const lines = (sections.realpaths ?? "").split("\n");
  return new Map(devices.map((d, i) => [d, lines[i] || d]));
}

function outputsFrom(inputs: VolumeGroupInputs, sections: Record<string, string>): VolumeGroupOutputs {
  const state = parseHostLvm(sections);
  const out = describe(inputs, state, realpaths(sections, inputs.devices));
  if (!out) throw new Error(`volume group ${inputs.name} is missing after the operation`);
  return out;
}

function pathsOf(olds: VolumeGroupOutputs, state: HostLvm): Map<string, string> {
  const known = new Map(olds.pvs.map((pv) => [pv.device, pv.path]));
  return new Map(olds.devices.map((d) => [d, known.get(d) ?? state.pvs.find((p) => p.device === d)?.device ?? d]));
}

/** The outputs: the inputs, with the VG as the host reports it. */
function describe(inputs: VolumeGroupInputs, state: HostLvm, paths: Map<string, string>): VolumeGroupOutputs {
  const vg = state.vgs.find((v) => v.name === inputs.name)!;
  const deviceOf = new Map([...paths].map(([device, path]) => [path, device]));
  const pvs = state.pvs.filter((p: PvRow) => p.vg === inputs.name).map((p) => ({
    device: deviceOf.get(p.device) ?? p.device, path: p.device, sizeBytes: p.sizeBytes, freeBytes: p.freeBytes,
  }));
  return {
    ...inputs,
    // Ours (a thin pool create's journal entry) are not the user's to manage.
    tags: userTags(vg.tags).sort(),
    uuid: vg.uuid,
    sizeBytes: vg.sizeBytes,
    freeBytes: vg.freeBytes,
    extentSizeBytes: vg.extentSizeBytes,
    lvCount: vg.lvCount,
    pvs,
  };
}
