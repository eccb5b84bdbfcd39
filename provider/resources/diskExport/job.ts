import { randomBytes } from "crypto";
import { posix } from "path";
import { HostCommandError, Script, vgLockFiles } from "../../command";
import { reportProgress } from "../../progress";
import { HostSession } from "../../resource";
import { activateLvs, CHECK_FREE, formatFreeVars, WAIT_FOR_DEVICE } from "../../storage/hostChecks";
import { addThickSnapshot } from "../../storage/snapshots";
import { TEMPORARY_TAG } from "../../storage/naming";
import { addThinSnapshot, checkThinPool, PoolLimits } from "../../storage/thin";
import { formatBytes } from "../../validate";
import { LOCK_TIMEOUT_SECONDS } from "../common";
import {
  CHECK_DESTINATION, CLAIM_JOB, EXPORT_ALIVE, HASH_LIB, READ_JOB, REMOVE_JOB, START_WORKER, STOP_JOB, SWEEP, WORKER,
} from "./host";
import { DiskExportInputs, JOB_ID_LENGTH, MARKER_SUFFIX, PARTIAL_SUFFIX, temporaryLvName } from "./inputs";
import { MarkerHead, markerHeadText } from "./marker";

/** How the provider follows a job; tests shorten the pauses. Progress is printed at least every 10 s. */
export const JOB_TIMING = { pollMs: 2000, reportEveryMs: 5000, connectionRetries: 8 };
/** Where job folders live: tmpfs, so a reboot (which kills every worker) leaves none behind. */
export const JOBS_ROOT = "/run/pulumi-lvm";
/** Slices a qcow2 image is decoded in for its checksum (see HASH_LIB). */
export const HASH_CHUNK_BYTES = 64 * 1024 * 1024;

/** What an export copies, as the inspection resolved it. */
export interface ExportSource {
  /** The LV whose content is copied: the snapshot's LV, or the disk (a temporary snapshot of it is copied). */
  lvName: string;
  /** The format of the image on that LV. */
  format: "raw" | "qcow2";
  /**
   * LVs to activate first if inactive (a chain snapshot and the older snapshots it is backed by; a thin snapshot,
   * which has the activation-skip flag).
   */
  activate: string[];
  /**
   * A temporary snapshot of the disk is taken: a thick one of this many bytes, or (for a thin disk) a thin one, under
   * its pool's guards.
   */
  temporary?: { bytes: number } | { thinPool: string; limits: PoolLimits };
  /** `vg/disk@snapshot` or `vg/disk (temporary snapshot)`. */
  state: string;
}

/** The facts of the finished file, as the worker measured them. */
export interface ExportResult {
  sha256: string;
  virtualSizeBytes: number;
  apparentSizeBytes: number;
  sizeBytes: number;
  mtime: string;
  createdAt: string;
}

type Facts = Record<string, string>;

/**
 * Runs one export on the host: a short locked script sweeps what dead exports left, takes the temporary snapshot
 * (if any) and starts the detached worker; the provider then polls the job until it has a result. The VG lock is
 * held only by that start script (and by the worker around its lvremove), never during the copy.
 */
export async function runExport(host: HostSession, inputs: DiskExportInputs, source: ExportSource, head: MarkerHead): Promise<ExportResult> {
  const job = randomBytes(JOB_ID_LENGTH / 2).toString("hex");
  const vars = jobVars(inputs, source, head, job);
  const operation = `export ${source.state} to ${inputs.path}`;
  const say = (what: string) => reportProgress(`DiskExport ${inputs.path}: ${what}`);

  let startLost = false;
  try {
    const { sections } = await host.run(startScript(operation, inputs, source, vars));
    for (const line of lines(sections["remove leftovers of earlier exports"])) say(line);
  } catch (e) {
    // Lost on the way back: the worker may have started. Following the job tells (and cleans up if it did not).
    if (!isTransient(e)) throw e;
    startLost = true;
  }
  say(`copying ${source.state} on ${host.target}`);
  return follow(host, inputs, source, vars, operation, say, startLost);
}

export function jobVars(inputs: DiskExportInputs, source: ExportSource, head: MarkerHead, job: string): Record<string, string> {
  const partial = `${inputs.path}${PARTIAL_SUFFIX}${job}`;
  return {
    vg: inputs.volumeGroup,
    lv: inputs.disk,
    tmp_prefix: temporaryLvName(inputs.disk, ""),
    tmp_lv: source.temporary !== undefined ? temporaryLvName(inputs.disk, job) : "",
    temporary_tag: TEMPORARY_TAG,
    path: inputs.path,
    dir: posix.dirname(inputs.path),
    marker: `${inputs.path}${MARKER_SUFFIX}`,
    partial,
    partial_prefix: `${inputs.path}${PARTIAL_SUFFIX}`,
    job,
    jobs_root: JOBS_ROOT,
    job_dir: `${JOBS_ROOT}/export-${job}`,
    src: `/dev/${inputs.volumeGroup}/${source.temporary !== undefined ? temporaryLvName(inputs.disk, job) : source.lvName}`,
    src_format: source.format,
    out_format: inputs.format,
    compress: inputs.compress ? "1" : "",
    marker_head: markerHeadText(head),
    vg_lock: vgLockFiles(inputs.volumeGroup).file,
    hash_chunk_bytes: String(HASH_CHUNK_BYTES),
    hash_lib: HASH_LIB.code,
    worker: WORKER.code,
  };
}

function startScript(operation: string, inputs: DiskExportInputs, source: ExportSource, vars: Record<string, string>): Script {
  const script = new Script(operation)
    .outliveClient() // a start cut short by a lost client removes its snapshot itself (or its worker does)
    .code("check the destination", CHECK_DESTINATION, vars)
    .lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS)
    .code("tell running exports", EXPORT_ALIVE, vars)
    .captureCode("remove leftovers of earlier exports", SWEEP, vars)
    .code("claim the job", CLAIM_JOB, vars)
    .undo(["rm", "-rf", "--", vars.job_dir]);
  let activate = source.activate;
  const temporary = source.temporary;
  if (temporary && "bytes" in temporary) {
    const bytes = temporary.bytes;
    script.code("check free space", CHECK_FREE, { vg: vars.vg, ...formatFreeVars(bytes, formatBytes(bytes), `the temporary snapshot of ${inputs.disk}`) });
    addThickSnapshot(script, "take the temporary snapshot", { vg: inputs.volumeGroup, origin: inputs.disk, lvName: vars.tmp_lv, bytes, tags: [TEMPORARY_TAG] })
      .undo(["lvremove", "--yes", "--", `${inputs.volumeGroup}/${vars.tmp_lv}`]);
    activate = [vars.tmp_lv];
  } else if (temporary) {
    // A thin disk gets a thin temporary snapshot: it cannot overflow, and takes room in the pool only as the disk is
    // rewritten during the copy. It is still a new thin LV, so the pool's fill guard applies.
    checkThinPool(script, { vg: vars.vg, pool: temporary.thinPool, limits: temporary.limits, fill: true,
      what: `the temporary thin snapshot of ${inputs.disk}` });
    addThinSnapshot(script, { vg: vars.vg, origin: inputs.disk, lvName: vars.tmp_lv, tags: [TEMPORARY_TAG], readOnly: true, activationSkip: true });
    activate = [vars.tmp_lv];
  }
  return activateLvs(script, "activate the source", vars.vg, activate)
    .code("wait for the source device", WAIT_FOR_DEVICE, { dev: vars.src })
    .code("start the copy on the host", START_WORKER, vars);
}

/** Polls the job until it has a result; prints progress; stops the worker at the deadline (commandTimeoutSeconds). */
async function follow(host: HostSession, inputs: DiskExportInputs, source: ExportSource, vars: Record<string, string>,
  operation: string, say: (what: string) => void, startLost: boolean): Promise<ExportResult> {
  const timeoutSeconds = inputs.connection.commandTimeoutSeconds;
  const started = Date.now();
  let lastReport = started;
  let lastPhase = "";
  let stopped = false;
  let lostContact = 0;
  const jobScript = (step: string, code: typeof READ_JOB) => new Script(operation).captureCode(step, code, { job_dir: vars.job_dir });

  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, JOB_TIMING.pollMs));
    let job: Facts;
    try {
      job = keyValues((await host.run(jobScript("job", READ_JOB))).sections.job);
      lostContact = 0;
    } catch (e) {
      if (isTransient(e) && ++lostContact <= JOB_TIMING.connectionRetries) continue;
      throw new HostCommandError(host.target, operation, "connection", undefined, null,
        `lost contact with the host while the export ran (${(e as Error).message}). The export goes on there on its own ` +
        `(job ${vars.job}): it removes its temporary snapshot and any partial file itself, and the next pulumi up adopts ` +
        `the finished file at ${inputs.path}`);
    }

    if (job.state === "running") {
      const elapsed = Math.round((Date.now() - started) / 1000);
      if (job.phase !== lastPhase || Date.now() - lastReport >= JOB_TIMING.reportEveryMs) {
        say(`${describePhase(job, source)} (${elapsed} s)`);
        lastReport = Date.now();
        lastPhase = job.phase ?? "";
      }
      if (!stopped && elapsed > timeoutSeconds) {
        say(`no result after ${timeoutSeconds} s (commandTimeoutSeconds): stopping the export`);
        await host.run(jobScript("stop", STOP_JOB)).catch(() => undefined);
        stopped = true;
      }
      continue;
    }

    if (job.state === "finished") {
      await host.run(jobScript("forget the job", REMOVE_JOB)).catch(() => undefined);
      const cleaned = job.cleaned?.trim();
      if (job.result === "ok") {
        if (cleaned?.includes("could not")) say(cleaned);
        return resultOf(job);
      }
      const why = stopped ? `no result after ${timeoutSeconds} s (commandTimeoutSeconds); the export was stopped` : job.message?.trim();
      throw new HostCommandError(host.target, operation, "failed", job.step, 1,
        `${why || "the export failed"}. Cleaned up: ${cleaned || "nothing was left behind"}.`);
    }

    // Gone: no result and no live process (killed with SIGKILL, or the host rebooted). Clean up in its place.
    const recovery = await host.run(sweepScript(operation, inputs, vars).code("forget the job", REMOVE_JOB, { job_dir: vars.job_dir }));
    const removed = lines(recovery.sections.sweep);
    const why = startLost ? "the connection was lost while the export was being started, and no export of it runs on the host"
      : "the export's worker on the host ended without a result (killed, or the host restarted)";
    throw new HostCommandError(host.target, operation, "failed", startLost ? "start" : "copy", null,
      `${why}. Cleaned up: ${removed.length ? removed.join("; ") : "nothing was left behind"}.`);
  }
}

/** A locked script that removes what dead exports of the disk left (SWEEP prints a line per thing removed, as "sweep"). */
function sweepScript(operation: string, inputs: DiskExportInputs, vars: Record<string, string>): Script {
  return new Script(`clean up after ${operation}`)
    .lock(inputs.volumeGroup, LOCK_TIMEOUT_SECONDS)
    .code("tell running exports", EXPORT_ALIVE, vars)
    .captureCode("sweep", SWEEP, vars);
}

/**
 * Removes what dead exports of the disk left, when a create takes over a finished export instead of running one (the
 * sweep in a new export's start script then never runs): a power loss while the worker removed its temporary snapshot
 * leaves the export whole and the snapshot behind. Returns a line per thing removed.
 */
export async function sweepLeftovers(host: HostSession, inputs: DiskExportInputs, source: ExportSource, head: MarkerHead): Promise<string[]> {
  const vars = jobVars(inputs, source, head, "0".repeat(JOB_ID_LENGTH));
  return lines((await host.run(sweepScript(`export ${source.state} to ${inputs.path}`, inputs, vars))).sections.sweep);
}

function describePhase(job: Facts, source: ExportSource): string {
  switch (job.phase) {
    case "copy": return `copying ${source.state}: ${job.copied ? `${Number(job.copied).toFixed(0)}%` : "starting"}`;
    case "checksum": return `computing the sha256 of the written image: ${job.checksummed ?? 0}%`;
    case "finish": return "putting the file in place";
    default: return "starting";
  }
}

function resultOf(job: Facts): ExportResult {
  const num = (k: string) => {
    const n = Number(job[k]);
    if (job[k] === undefined || !Number.isFinite(n)) throw new Error(`the export's result lacks ${k}: ${JSON.stringify(job)}`);
    return n;
  };
  return {
    sha256: job.sha256,
    virtualSizeBytes: num("virtual"),
    apparentSizeBytes: num("size"),
    sizeBytes: num("blocks") * num("block_size"),
    mtime: job.mtime,
    createdAt: job.created,
  };
}

const isTransient = (e: unknown) => e instanceof HostCommandError && (e.kind === "connection" || e.kind === "timeout");

const lines = (text: string | undefined) => (text ?? "").split("\n").map((l) => l.trim()).filter(Boolean);

/** `key=value` lines, as the host scripts print them (a value runs to the end of its line). */
export function keyValues(text: string | undefined): Facts {
  const facts: Facts = {};
  for (const line of lines(text)) {
    const eq = line.indexOf("=");
    if (eq > 0) facts[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return facts;
}
