import { Engine, Result } from "../../engine/driver";
import { TestHost } from "../../host/testHost";
import { mustSucceed, testEngine } from "../../support/engine";
import { measured, PhaseRow } from "./measure";
import { PHASES, PhaseName } from "./workload";

/**
 * A program's phases as a user runs them, through the engine driver and the real plugin (the engine's parallelism:
 * independent resources in flight at once), each measured on the guest: create, snapshot, refresh, an up that
 * changes nothing, destroy. `make` gives the program without or with the snapshots; `noted` sees each result.
 */
export async function phasesThroughEngine(h: TestHost, project: string, make: (snapshots: boolean) => () => void,
  noted: (phase: PhaseName, r: Result, run: { engine: Engine; stateFile: string }) => void = () => undefined): Promise<PhaseRow[]> {
  const run = testEngine(project);
  const { engine } = run;
  const work: Record<PhaseName, () => Promise<Result>> = {
    create: () => engine.up(make(false)),
    snapshot: () => engine.up(make(true)),
    refresh: () => engine.refresh(),
    unchanged: () => engine.up(make(true)),
    destroy: () => engine.destroy(),
  };
  const rows: PhaseRow[] = [];
  for (const phase of PHASES) rows.push(await measured(h, phase, async () => noted(phase, mustSucceed(await work[phase]()), run)));
  return rows;
}
