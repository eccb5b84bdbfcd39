import { sh } from "../../command";

/**
 * The shell code of an export, run on the host. An export's long copy runs in a detached worker (its own session,
 * `setsid`), so neither a dropped SSH connection nor a killed client can stop it halfway and leave a temporary
 * snapshot or a partial file behind: the worker's EXIT/TERM/HUP/INT trap removes both. The provider starts it with
 * START_WORKER and then polls its job folder (READ_JOB) for progress and the result.
 *
 * A job `<job>` has a folder $jobs_root/export-<job> (on /run: gone after a reboot) holding `lock`, which the job's
 * processes hold (flock) for as long as any of them runs. Whatever carries the job's id — the temporary snapshot
 * LV `snap_<disk>_pulumi-lvm-export-<job>` and the files `<path>.pulumi-lvm-partial-<job>[.chunk|.marker]` — is a
 * leftover once that lock is free, and SWEEP removes it.
 */

/** What an export's destination looks like now: the folder, the file (stat) and its marker. Read-only. */
export const FILE_FACTS = sh`if [ -d "$dir" ]; then echo dir=yes; else echo dir=no; fi
if [ -L "$path" ]; then echo file=link
elif [ -d "$path" ]; then echo file=directory
elif [ -f "$path" ]; then
  echo file=regular
  stat --printf 'size=%s\\nblocks=%b\\nblock_size=%B\\n' -- "$path"
  printf 'mtime=%s\\n' "$(date -r "$path" +%s.%N)"
elif [ -e "$path" ]; then echo file=other
else echo file=none
fi
if [ -f "$marker" ]; then printf 'marker=%s\\n' "$(head -c 65536 -- "$marker" | tr -d '\\n')"; fi`;

/** Re-checked in the locked start script: another process may have created the file since the inspection. */
export const CHECK_DESTINATION = sh`[ -d "$dir" ] || __fail "the destination folder $dir does not exist on the host; create it first"
if [ -e "$path" ] || [ -L "$path" ]; then
  __fail "$path already exists and was not written by this export; move it away or choose another path"
fi
[ -w "$dir" ] || __fail "the destination folder $dir is not writable"`;

/** Defines `export_alive JOB`: whether a process of export job JOB still runs (they hold its lock). Reads $jobs_root. */
export const EXPORT_ALIVE = sh`export_alive() { [ -f "$jobs_root/export-$1/lock" ] && ! flock -n "$jobs_root/export-$1/lock" true; }`;

/** Prints the id of every export job running on the host, one a line (after EXPORT_ALIVE). Changes nothing. */
export const RUNNING_EXPORTS = sh`for d in "$jobs_root"/export-*; do
  if [ -d "$d" ] && export_alive "\${d##*/export-}"; then echo "\${d##*/export-}"; fi
done`;

/**
 * Removes what dead export jobs left: temporary snapshots of $vg/$lv (named $tmp_prefix<job>, tagged
 * $temporary_tag; also one a power loss left unfinished mid-lvcreate, plain and with no origin yet: see
 * isUnfinishedThickSnapshot in storage/snapshots.ts), partial files of $path ($partial_prefix<job>...), and job folders unread for an hour (a provider
 * that lost its connection may still come back for a result). Prints one line per thing removed. Run under the VG lock,
 * after EXPORT_ALIVE.
 */
export const SWEEP = sh`for tmp in $(lvs --noheadings --separator '|' -o lv_name,origin,lv_attr,lv_tags -- "$vg" 2>/dev/null |
    tr -d ' ' | awk -F'|' -v disk="$lv" -v prefix="$tmp_prefix" -v tag="$temporary_tag" \\
      '($2 == disk || ($2 == "" && substr($3, 1, 1) == "-")) && index($1, prefix) == 1 && index("," $4 ",", "," tag ",") > 0 { print $1 }'); do
  if export_alive "\${tmp#"$tmp_prefix"}"; then continue; fi
  if lvremove --yes -- "$vg/$tmp" >&2; then echo "removed the leftover temporary snapshot $vg/$tmp"; fi
done
for f in "$partial_prefix"*; do
  [ -e "$f" ] || continue
  job_of=\${f#"$partial_prefix"}
  if export_alive "\${job_of%%.*}"; then continue; fi
  if rm -f -- "$f"; then echo "removed the leftover partial file $f"; fi
done
if [ -d "$jobs_root" ]; then
  for d in $(find "$jobs_root" -mindepth 1 -maxdepth 1 -type d -name 'export-*' -mmin +60); do
    export_alive "\${d##*/export-}" || rm -rf -- "$d"
  done
fi`;

/** Makes the job's folder and takes its lock on fd 8, which the worker inherits and keeps. */
export const CLAIM_JOB = sh`mkdir -p -- "$jobs_root"
mkdir -- "$job_dir"
exec 8>>"$job_dir/lock"
flock -n 8 || __fail "export job $job is already running"`;

/**
 * Writes the worker to the job folder and starts it in its own session, detached from this SSH session. It keeps
 * fd 8 (the job lock) and not fd 9 (the VG lock, which ends with this script), and gets the default handling of
 * HUP and PIPE back (the start script ignores them to outlive its client), so its own traps apply.
 */
export const START_WORKER = sh`printf '%s\\n%s\\n' "$hash_lib" "$worker" > "$job_dir/worker.sh"
export vg tmp_lv src src_format out_format compress path marker partial marker_head job_dir vg_lock hash_chunk_bytes
(trap - HUP PIPE; exec setsid -f sh "$job_dir/worker.sh" </dev/null >"$job_dir/log" 2>&1 9>&-)`;

/**
 * hash_image FILE FORMAT CHUNK PROGRESS prints "<virtual size> <sha256>" of the raw bytes a VM reads from FILE.
 * A raw file is read by sha256sum itself (its read offset in /proc gives the progress). qemu-img cannot write to a
 * pipe (its file driver needs a regular file), so a qcow2 image is decoded in slices of $hash_chunk_bytes (the raw
 * driver's offset/size over the image) through the file CHUNK. PROGRESS receives the percentage done.
 */
export const HASH_LIB = sh`hash_image() {
  hi_file=$1 hi_format=$2 hi_chunk=$3 hi_progress=$4
  hi_size=$(qemu-img info --output=json -f "$hi_format" "$hi_file" | sed -n 's/^ *"virtual-size": *\\([0-9][0-9]*\\),*$/\\1/p')
  if [ -z "$hi_size" ]; then echo "qemu-img cannot read $hi_file as $hi_format" >&2; return 1; fi
  hi_escaped=$(printf '%s' "$hi_file" | sed 's/,/,,/g')
  rm -f -- "$hi_chunk.ok" "$hi_chunk.sum"
  if [ "$hi_format" = raw ]; then
    sha256sum < "$hi_file" > "$hi_chunk.sum" &
    hi_pid=$!
    while kill -0 "$hi_pid" 2>/dev/null; do
      hi_pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$hi_pid/fdinfo/0" 2>/dev/null || true)
      if [ -n "$hi_pos" ] && [ "$hi_size" -gt 0 ]; then echo $((hi_pos * 100 / hi_size)) > "$hi_progress"; fi
      sleep 1
    done
    wait "$hi_pid" && : > "$hi_chunk.ok"
  else
    { hash_slices && : > "$hi_chunk.ok"; } | sha256sum > "$hi_chunk.sum"
  fi
  hi_sum=$(cut -d ' ' -f 1 < "$hi_chunk.sum")
  rm -f -- "$hi_chunk" "$hi_chunk.sum"
  [ -e "$hi_chunk.ok" ] || return 1
  rm -f -- "$hi_chunk.ok"
  echo "$hi_size $hi_sum"
}
hash_slices() {
  hs_off=0
  while [ "$hs_off" -lt "$hi_size" ]; do
    hs_len=$hash_chunk_bytes
    if [ $((hi_size - hs_off)) -lt "$hs_len" ]; then hs_len=$((hi_size - hs_off)); fi
    qemu-img convert --image-opts \\
      "driver=raw,offset=$hs_off,size=$hs_len,file.driver=$hi_format,file.file.driver=file,file.file.filename=$hi_escaped" \\
      -O raw "$hi_chunk" >&2 || return 1
    cat -- "$hi_chunk" || return 1
    hs_off=$((hs_off + hs_len))
    echo $((hs_off * 100 / hi_size)) > "$hi_progress"
  done
}`;

/**
 * The detached worker: copy (qemu-img convert, which skips zeroes: raw output is sparse), checksum, then the marker
 * and the file put in place under their final names; a partial file never has the final name. Its trap removes the
 * partial file and the temporary snapshot (taking the VG lock only for that lvremove) however it ends, and writes
 * the result to the job folder last.
 */
export const WORKER = sh`set -u
echo "$$" > "$job_dir/pid"
created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
step=start
finished=
chunk=$partial.chunk

fail() { printf '%s\\n' "$1" > "$job_dir/message"; exit 1; }
phase() { step=$1; printf '%s\\n' "$1" > "$job_dir/phase"; }
# A signal interrupts "wait" at once, where it would wait for a foreground copy to end.
in_background() { "$@" & wait $!; }
snapshot_attr() { lvs --noheadings -o lv_attr -- "$vg/$tmp_lv" 2>/dev/null | tr -d ' '; }
overflowed() { [ -n "$tmp_lv" ] && case "$(snapshot_attr)" in ????I*) true ;; *) false ;; esac; }
OVERFLOW="the temporary snapshot $vg/$tmp_lv overflowed: the disk changed by more than the snapshot's size during the copy; raise snapshotSize"
last_error() { tail -n 3 -- "$job_dir/err" 2>/dev/null | tr '\\n' ' '; }

remove_temporary_snapshot() {
  (
    flock -w 600 9 || echo "waited 600 s for $vg_lock; removing the snapshot without it" >&2
    tries=0
    until lvremove --yes -- "$vg/$tmp_lv" >&2; do
      tries=$((tries + 1))
      [ "$tries" -lt 10 ] || exit 1
      sleep 1
    done
  ) 9>>"$vg_lock"
}

cleanup() {
  rc=$?
  trap '' TERM HUP INT
  kill -TERM 0 2>/dev/null
  wait
  rm -f -- "$chunk" "$chunk.ok" "$chunk.sum" "$partial.marker"
  cleaned=
  if [ -z "$finished" ] && [ -e "$partial" ]; then
    rm -f -- "$partial" && cleaned="removed the partial file $partial"
  fi
  if [ -n "$tmp_lv" ]; then
    if remove_temporary_snapshot; then
      cleaned="\${cleaned:+$cleaned; }removed the temporary snapshot $vg/$tmp_lv"
    else
      cleaned="\${cleaned:+$cleaned; }could not remove the temporary snapshot $vg/$tmp_lv (the next export of this disk removes it)"
    fi
  fi
  if [ -n "$finished" ] && [ "$rc" -eq 0 ]; then result=ok; else result=failed; fi
  if [ "$result" = failed ] && [ ! -s "$job_dir/message" ]; then
    echo "the export was stopped (exit status $rc: a signal, or the host shutting down)" > "$job_dir/message"
  fi
  printf '%s\\n' "$cleaned" > "$job_dir/cleaned"
  printf 'result=%s\\nstep=%s\\n' "$result" "$step" > "$job_dir/status.tmp"
  mv -f -- "$job_dir/status.tmp" "$job_dir/status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 130' INT

phase copy
if [ -n "$compress" ]; then set -- -c; else set --; fi
if ! in_background qemu-img convert -p -f "$src_format" -O "$out_format" "$@" "$src" "$partial" \\
    >"$job_dir/progress" 2>"$job_dir/err"; then
  if overflowed; then fail "$OVERFLOW"; fi
  case "$(last_error)" in
    *"No space left"*) fail "the destination filesystem is full: $(last_error)" ;;
    *) fail "copying failed: $(last_error)" ;;
  esac
fi
if overflowed; then fail "$OVERFLOW"; fi

# qemu-img convert's default cache mode for its output is "unsafe": it never flushes, and what it wrote may sit in the
# host's page cache for half a minute. A power loss then would leave a file that its marker vouches for, with its data
# lost: so the copy is made durable before the checksum is taken and the marker written, and the marker and the file's
# name before the job reports success (sync FILE fsyncs it; sync -f, the filesystem they are on, with its folders).
sync -- "$partial" || fail "could not flush the copy to disk: $partial"

phase checksum
in_background hash_image "$partial" "$out_format" "$chunk" "$job_dir/checksum_progress" >"$job_dir/sum" 2>"$job_dir/err" ||
  fail "computing the checksum failed: $(last_error)"
read -r virtual sha256 < "$job_dir/sum"

phase finish
size=$(stat -c %s -- "$partial")
blocks=$(stat -c %b -- "$partial")
block_size=$(stat -c %B -- "$partial")
mtime=$(date -r "$partial" +%s.%N)
if [ -e "$path" ] || [ -L "$path" ]; then fail "$path appeared while the export ran; it was left alone"; fi
printf '%s,"sha256":"%s","virtualSizeBytes":%s,"apparentSizeBytes":%s,"mtime":"%s","createdAt":"%s"}\\n' \\
  "$marker_head" "$sha256" "$virtual" "$size" "$mtime" "$created_at" > "$partial.marker" &&
  mv -f -- "$partial.marker" "$marker" || fail "could not write the marker $marker: $(last_error)"
# ln fails if $path exists (no race with a file created meanwhile); mv -n where hard links are not supported.
if ln -- "$partial" "$path" 2>/dev/null; then
  rm -f -- "$partial"
else
  mv -n -- "$partial" "$path"
  if [ -e "$partial" ]; then rm -f -- "$marker"; fail "could not put the export in place at $path"; fi
fi
sync -f -- "$path" || fail "could not flush the export's marker and name to disk: $path"
finished=1
printf 'sha256=%s\\nvirtual=%s\\nsize=%s\\nblocks=%s\\nblock_size=%s\\nmtime=%s\\ncreated=%s\\n' \\
  "$sha256" "$virtual" "$size" "$blocks" "$block_size" "$mtime" "$created_at" > "$job_dir/result"
exit 0`;

/**
 * The job as the provider sees it: finished (with its status, result, message and what was cleaned up), running
 * (with its phase and progress), or gone (no result and no live process: killed with SIGKILL, or a reboot). The lock
 * is looked at before the status: the worker writes its status before it lets go of the lock, so a free lock and no
 * status means no status will come.
 */
export const READ_JOB = sh`show() { if [ -f "$job_dir/$2" ]; then printf '%s=%s\\n' "$1" "$(tr '\\n' ' ' < "$job_dir/$2")"; fi; }
state=gone
if [ -f "$job_dir/lock" ] && ! flock -n "$job_dir/lock" true; then state=running; fi
if [ -f "$job_dir/status" ]; then state=finished; fi
if [ "$state" = finished ]; then
  echo state=finished
  cat -- "$job_dir/status"
  if [ -f "$job_dir/result" ]; then cat -- "$job_dir/result"; fi
  show message message
  show cleaned cleaned
elif [ "$state" = running ]; then
  echo state=running
  show phase phase
  if [ -f "$job_dir/progress" ]; then
    printf 'copied=%s\\n' "$(tail -c 200 -- "$job_dir/progress" | tr '\\r' '\\n' | sed -n 's/.*(\\([0-9.]*\\)\\/100%).*/\\1/p' | tail -n 1)"
  fi
  show checksummed checksum_progress
else
  echo state=gone
fi`;

/** Asks the worker to stop (its trap cleans up and writes the result). */
export const STOP_JOB = sh`if [ -f "$job_dir/pid" ]; then kill -TERM "$(cat -- "$job_dir/pid")" 2>/dev/null || true; fi`;

export const REMOVE_JOB = sh`rm -rf -- "$job_dir"`;

/** Deletes an export's file and its marker. */
export const REMOVE_EXPORT = sh`rm -f -- "$path" "$marker"`;
