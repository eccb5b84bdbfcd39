import { Script, sh } from "../command";

/**
 * Checks and waits that run on the host inside a locked operation, shared by every kind. Each reads the shell
 * variables it names ($vg, $lv, $dev, ...), which the caller passes as quoted script variables.
 */

/** Refuses when $vg/$lv already exists. */
export const REQUIRE_NEW_LV = sh`if lvs -- "$vg/$lv" >/dev/null 2>&1; then
  __fail "logical volume $vg/$lv already exists$exists_hint"
fi`;

/** Removes $vg/$lv if it still carries the tag $tag (checked under the lock, as the plan was read before it). */
export const REMOVE_IF_TAGGED = sh`if lvs --noheadings -o lv_tags -- "$vg/$lv" 2>/dev/null | tr -d ' ' | tr ',' '\\n' | grep -qxF -- "$tag"; then
  lvremove --yes -- "$vg/$lv" >&2
fi`;

/** Refuses before anything is allocated when the VG has less than $need bytes free ($what says for what). */
export const CHECK_FREE = sh`free=$(vgs --noheadings --units b --nosuffix -o vg_free -- "$vg" 2>/dev/null | tr -d ' ')
[ -n "$free" ] || __fail "volume group $vg does not exist on this host"
if [ "$need" -gt "$free" ]; then
  __fail "not enough free space in volume group $vg: $what needs $need_text ($need bytes), only $((free / 1048576)) MiB ($free bytes) are free"
fi`;

/**
 * Runs "$@" (an lvcreate or lvrename making $vg/$lv) and turns LVM's own refusals into the messages of the checks it
 * replaces (REQUIRE_NEW_LV, CHECK_FREE): inside the lock every LVM command costs 0.3-0.5 s on a slow host, and
 * LVM checks the name and the room itself, atomically. Only a refusal for room reads the free space, for the
 * message. Vars: those of REQUIRE_NEW_LV, and of CHECK_FREE for a command that allocates.
 */
export const MAKE_LV = sh`if __err=$("$@" 2>&1 >/dev/null); then
  [ -z "$__err" ] || printf '%s\n' "$__err" >&2
else
  case "$__err" in
    *"already exists in volume group"*) __fail "logical volume $vg/$lv already exists\${exists_hint:-}" ;;
    *"insufficient free space"*|*"insufficient suitable allocatable extents"*)
      free=$(vgs --noheadings --units b --nosuffix -o vg_free -- "$vg" 2>/dev/null | tr -d ' ')
      __fail "not enough free space in volume group $vg: \${what:-the new LV} needs \${need_text:-more} (\${need:-?} bytes), only $((\${free:-0} / 1048576)) MiB (\${free:-0} bytes) are free" ;;
    *"Volume group"*"not found"*) __fail "volume group $vg does not exist on this host" ;;
  esac
  printf '%s\n' "$__err" >&2
  exit 1
fi`;

/** Adds a step running `argv` (lvcreate or lvrename making vars.vg/vars.lv) with LVM's refusals read as MAKE_LV does. */
export function makeLv(script: Script, step: string, argv: readonly string[], vars: Record<string, string>): Script {
  return script.code(step, MAKE_LV, vars, argv);
}

/**
 * /dev/VG/LV appears through udev, which LVM itself waits for (udev_sync) where it can; where the node is missing
 * when lvcreate (or lvrename) returns, wait for udev to settle.
 */
export const WAIT_FOR_DEVICE = sh`if [ ! -b "$dev" ] && command -v udevadm >/dev/null 2>&1; then udevadm settle; fi
[ -b "$dev" ] || __fail "$dev did not appear after the logical volume was activated"`;

/**
 * Refuses while a process (a running VM, a mount) holds $vg/$lv open; $what says what to do. The kernel's open count
 * of the LV's device-mapper device is what LVM's lv_attr 'o' shows, read by dmsetup in a third of the time an `lvs`
 * takes inside the lock on a slow host (it scans no devices). An LV with no device is inactive, so not open; where
 * dmsetup gives no count, lv_attr decides.
 */
export const REQUIRE_CLOSED = sh`if [ -b "/dev/$vg/$lv" ]; then
  count=$(dmsetup info -c --noheadings -o open -- "/dev/$vg/$lv" 2>/dev/null) || count=
  case "$count" in
    *[!0-9[:space:]]*|"")
      case "$(lvs --noheadings -o lv_attr -- "$vg/$lv" | tr -d ' ')" in ?????o*) count=1 ;; *) count=0 ;; esac ;;
  esac
  case "$count" in
    *[1-9]*) __fail "$vg/$lv is open (in use, e.g. by a running VM); $what" ;;
  esac
fi`;

/** An LV already gone ends the script successfully: there is nothing to delete. */
export const EXIT_IF_GONE = sh`if ! lvs -- "$vg/$lv" >/dev/null 2>&1; then exit 0; fi`;

/**
 * Activates $vg/$lv if its device is missing (after a reboot, or an LV created inactive). `-K` also activates an LV
 * with the activation-skip flag (every thin snapshot has it), which a plain `lvchange -ay` silently leaves inactive;
 * for other LVs it changes nothing.
 */
export const ACTIVATE = sh`if [ ! -b "/dev/$vg/$lv" ]; then
  lvchange --activate y --ignoreactivationskip -- "$vg/$lv" >&2
  if command -v udevadm >/dev/null 2>&1; then udevadm settle; fi
fi`;

/** Activates every LV named in "$@" (of $vg) whose device is missing (with -K, as ACTIVATE), then waits for udev once. */
export const ACTIVATE_ALL = sh`activated=
for lv in "$@"; do
  if [ ! -b "/dev/$vg/$lv" ]; then lvchange --activate y --ignoreactivationskip -- "$vg/$lv" >&2; activated=1; fi
done
if [ -n "$activated" ] && command -v udevadm >/dev/null 2>&1; then udevadm settle; fi`;

/** Adds a step that activates the LVs of `vg` named in `lvNames` whose device is missing (ACTIVATE_ALL). */
export function activateLvs(script: Script, step: string, vg: string, lvNames: readonly string[]): Script {
  return script.code(step, ACTIVATE_ALL, { vg }, lvNames);
}

export const formatFreeVars = (bytes: number, text: string, what: string) => ({ need: String(bytes), need_text: text, what });
