import { z } from "zod";
import { Script } from "../command";
import { hinted } from "../validate";

/**
 * Hooks a user runs on the host around an operation that needs a quiet disk (a snapshot, a rollback): argument
 * lists, never shell strings, e.g. `virsh domfsfreeze vm1` and `virsh domfsthaw vm1`, or stopping and starting a VM.
 */

/** A command run on the host as an argument list (never a shell string), e.g. ["virsh", "domfsfreeze", "vm1"]. */
const Hook = hinted(z.array(z.string().refine((a) => !a.includes("\0"), "an argument must not contain a NUL byte"))
  .min(1, "a hook is an argument list: the program, then its arguments")
  .refine((argv) => argv[0] !== "", "a hook's program must not be empty"), 'an argument list like ["virsh", "domfsfreeze", "vm1"]');

const Hooks = hinted(z.array(Hook), 'a list of commands, each an argument list like ["virsh", "domfsfreeze", "vm1"]');

export const Quiesce = z.strictObject({
  before: Hooks.default([]),
  after: Hooks.default([]),
}).meta({ title: "Quiesce" });
export type Quiesce = z.infer<typeof Quiesce>;

/**
 * Runs `act` between the hooks, in the same host operation: `before` hooks first (a failing one aborts with nothing
 * done), `after` hooks right after `act`, and also when `act` (or a check it starts with) failed.
 */
export function withQuiesce(script: Script, quiesce: Quiesce | undefined, act: () => void): void {
  const { before = [], after = [] } = quiesce ?? {};
  before.forEach((argv, i) => script.run(`quiesce.before[${i}]`, argv));
  for (const argv of after) script.finally(argv);
  act();
  if (after.length > 0) script.runFinally("quiesce.after");
}
