import { sh } from "../../command";

// Host-side code of a disk's operations (its delete's checks, zeroing), run inside their locked scripts.

/**
 * Before a disk is removed, one `lvs` of its VG (each LVM command costs 0.3-0.5 s inside the lock on a slow host):
 * ends the script successfully when $vg/$lv is gone (nothing to delete); refuses while it is open ($what says what to
 * do), and while snapshots still depend on it: thick and thin snapshots (their origin is this LV), Proxmox-style
 * chain snapshots (LVs named $chain_prefix<id>.qcow2), and thin snapshots that lost their origin when a thin rollback
 * re-made the disk's LV (named $snapshot_lv_prefix<name> and tagged $snapshot_tag<name>) — unless $remove_snapshots is
 * set (deleteSnapshots), when they are left in $snapshots for REMOVE_SNAPSHOTS.
 */
export const REQUIRE_REMOVABLE = sh`rows=$(lvs --noheadings --separator '|' -o lv_name,lv_attr,origin,lv_tags -- "$vg" 2>/dev/null) || exit 0
found=$(printf '%s\n' "$rows" |
  awk -F'|' -v lv="$lv" -v prefix="$chain_prefix" -v snap="$snapshot_lv_prefix" -v tag="$snapshot_tag" '
    { sub(/^ +/, "", $1); named = "" }
    $1 == lv { attr = $2 }
    match($4, "(^|,)" tag "[^,]*") { named = substr($4, RSTART, RLENGTH); sub(/^,/, "", named); named = snap substr(named, length(tag) + 1) }
    $3 == lv || (index($1, prefix) == 1 && $1 ~ /[.]qcow2$/) || (named != "" && $1 == named) { snapshots = snapshots (snapshots == "" ? "" : ",") $1 }
    END { print attr "|" snapshots }')
attr=\${found%%|*}
snapshots=\${found#*|}
[ -n "$attr" ] || exit 0
case "$attr" in
  ?????o*) __fail "$vg/$lv is open (in use, e.g. by a running VM); $what" ;;
esac
if [ -n "$snapshots" ] && [ -z "$remove_snapshots" ]; then
  __fail "$vg/$lv still has snapshots: $snapshots; delete them first, or set deleteSnapshots: true to remove them with the disk"
fi`;

/**
 * deleteSnapshots: removes the LVs REQUIRE_REMOVABLE listed in $snapshots, before the disk's own LV, so no chain is
 * merged: everything in it is going. The disk goes last: a run cut off here leaves it (and its resource in the
 * state) with part of its chain, which refresh reports as a missing LV, and the next delete removes the rest.
 */
export const REMOVE_SNAPSHOTS = sh`if [ -n "$snapshots" ]; then
  set --
  for s in $(printf '%s' "$snapshots" | tr ',' ' '); do set -- "$@" "$vg/$s"; done
  lvremove --yes -- "$@" >&2
fi`;

/**
 * Writes zeros over the whole of $dev, reporting progress as $progress: blkdiscard --zeroout where $blkdiscard is set
 * (the kernel offloads it; done in steps so that it can tell how far it is), else dd.
 */
export const ZERO = sh`size=$(blockdev --getsize64 "$dev")
if [ -n "$blkdiscard" ]; then
  __progress "$progress" blkdiscard "$size" blkdiscard --verbose --step 67108864 --zeroout "$dev"
else
  __progress "$progress" dd "$size" dd if=/dev/zero of="$dev" bs=1M iflag=count_bytes count="$size" oflag=direct conv=fsync status=progress
fi`;
