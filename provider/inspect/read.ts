import { CommandRunner, Script, sh } from "../command";
import { HostLvm, parseHostLvm } from "../lvm/hostState";
import { reportArgv } from "../lvm/report";
import { EXPORT_ALIVE, RUNNING_EXPORTS } from "../resources/diskExport/host";
import { JOBS_ROOT } from "../resources/diskExport/job";
import { formatTag } from "../storage/naming";

/** Everything inspect reads from a host, raw where a parser of its own takes it from here. */
export interface HostReading {
  hostname: string;
  lvm: HostLvm;
  /** `qemu-img info --backing-chain` output (or its error) by "vg/lv": every active qcow2 LV not already in a chain. */
  chains: Map<string, string>;
  /** `qemu-img measure` of the top image of each chain read: the arguments it ran with, and its output. */
  measures: Map<string, { args: string; output: string }>;
  /** Ids of the export jobs running on the host. */
  runningExports: string[];
}

/**
 * For every active qcow2 LV of the host (or of those "$@" selects, e.g. `-S vg_name=data`), newest first: its backing
 * chain, and the fully-allocated measure of its top image in the image's own layout; one section each. The format is
 * decided as diskFormatOf does (the tag pulumi-lvm/format=..., whose prefix is $format_tag, else a `.qcow2` name): an
 * LV is never probed, as a raw disk's guest may have written a qcow2 header. LVs already seen in a chain are not read
 * again (a chain's top is its newest LV, so its snapshots come later). Nothing is activated: inspect changes nothing.
 *
 * The measure needs the image's virtual size, cluster size and extended_l2, which only the image says; they are picked
 * from the first image of qemu-img's JSON by its indentation. That is not parsed here for meaning: the section carries
 * the arguments the measure ran with, and only a measure whose arguments equal measureArgv of the parsed image counts.
 */
export const INSPECT_IMAGES = sh`list=$(lvs --noheadings --separator '|' -o vg_name,lv_name,lv_attr,lv_tags -O -lv_time "$@")
seen='|'
while IFS='|' read -r vg lv attr tags; do
  vg=\${vg#"\${vg%%[! ]*}"}
  [ -n "$lv" ] || continue
  case "$attr" in [sS]*) continue ;; ????a*) ;; *) continue ;; esac
  case ",$tags," in
    *",\${format_tag}qcow2,"*) ;;
    *",$format_tag"*) continue ;;
    *) case "$lv" in *.qcow2) ;; *) continue ;; esac ;;
  esac
  case "$seen" in *"|$vg/$lv|"*) continue ;; esac
  if chain=$(qemu-img info --output=json -U -f qcow2 --backing-chain "/dev/$vg/$lv" </dev/null 2>&1); then read_ok=1; else read_ok=; fi
  __section "chain $vg/$lv"
  printf '%s\\n' "$chain"
  __end
  [ -n "$read_ok" ] || continue
  for image in $(printf '%s\\n' "$chain" | sed -n 's|^ *"filename": "/dev/\\([^"]*\\)",\\{0,1\\}$|\\1|p'); do seen="$seen$image|"; done
  vsize=$(printf '%s\\n' "$chain" | sed -n 's/^        "virtual-size": \\([0-9][0-9]*\\),\\{0,1\\}$/\\1/p' | head -n 1)
  csize=$(printf '%s\\n' "$chain" | sed -n 's/^        "cluster-size": \\([0-9][0-9]*\\),\\{0,1\\}$/\\1/p' | head -n 1)
  l2=$(printf '%s\\n' "$chain" | sed -n 's/^                "extended-l2": \\([a-z]*\\),\\{0,1\\}$/\\1/p' | head -n 1)
  if [ -z "$vsize" ] || [ -z "$csize" ]; then continue; fi
  if [ "$l2" = true ]; then l2=on; else l2=off; fi
  set -- measure --output=json --size "$vsize" -O qcow2 -o "cluster_size=$csize,extended_l2=$l2,preallocation=metadata"
  __section "measure $vg/$lv"
  printf '%s\\n' "$*"
  qemu-img "$@" </dev/null 2>&1 || true
  __end
done <<EOF
$list
EOF`;

const CHAIN = "chain ";
const MEASURE = "measure ";

/**
 * The one script that reads a whole host (or one VG): its name, every VG, PV and LV (`lvs --all`: a snapshot whose
 * merge LVM deferred is hidden from a plain `lvs`), the running exports and, when the host has qemu-img, every qcow2
 * image chain with its measure. Read-only.
 */
export function inspectScript(opts: { vg?: string; qemuImg: boolean }): Script {
  const select = opts.vg === undefined ? undefined : `vg_name=${opts.vg}`;
  const script = new Script(`inspect ${opts.vg ?? "the host"}`)
    .capture("hostname", ["uname", "-n"])
    .capture("vgs", reportArgv("vg", select))
    .capture("pvs", reportArgv("pv", select))
    .capture("lvs", [...reportArgv("lv", select), "--all"])
    .code("tell running exports", EXPORT_ALIVE, { jobs_root: JOBS_ROOT })
    .captureCode("running exports", RUNNING_EXPORTS, { jobs_root: JOBS_ROOT });
  if (opts.qemuImg) script.code("read the qcow2 images", INSPECT_IMAGES, { format_tag: formatTag("") }, select ? ["-S", select] : []);
  return script;
}

export function parseReading(sections: Record<string, string>): HostReading {
  const chains = new Map<string, string>();
  const measures = new Map<string, { args: string; output: string }>();
  for (const [name, text] of Object.entries(sections)) {
    if (name.startsWith(CHAIN)) chains.set(name.slice(CHAIN.length), text);
    if (name.startsWith(MEASURE)) {
      const newline = text.indexOf("\n");
      measures.set(name.slice(MEASURE.length), newline < 0 ? { args: text, output: "" } : { args: text.slice(0, newline), output: text.slice(newline + 1) });
    }
  }
  return {
    hostname: sections.hostname.trim(),
    lvm: parseHostLvm(sections),
    chains,
    measures,
    runningExports: sections["running exports"].split("\n").map((l) => l.trim()).filter(Boolean),
  };
}

/** One round trip: the whole host as inspect shows it. */
export async function readHost(host: CommandRunner, opts: { vg?: string; qemuImg: boolean }): Promise<HostReading> {
  return parseReading((await host.run(inspectScript(opts))).sections);
}
