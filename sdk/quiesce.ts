import * as pulumi from "@pulumi/pulumi";

/**
 * Commands run on the host right before and right after an operation that needs a quiet disk (a snapshot, a
 * rollback), as argument lists: never shell strings.
 */
export interface QuiesceArgs {
  /** e.g. [["virsh", "domfsfreeze", "vm1"]]. A failing one aborts with nothing done. */
  before?: pulumi.Input<pulumi.Input<string>[][]>;
  /** e.g. [["virsh", "domfsthaw", "vm1"]]. Run also when the operation failed. */
  after?: pulumi.Input<pulumi.Input<string>[][]>;
}
