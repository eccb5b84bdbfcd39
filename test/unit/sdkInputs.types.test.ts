// The SDK's argument types (sdk/*.ts, written for users) against the inputs each kind validates (its zod schema):
// compiled by the unit tier's build, so a field missing, extra, optional on one side only, or of another type fails
// the build. No test runs here but the one that says so.
import * as assert from "assert";
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type * as sdk from "../../sdk";
import type { DiskExportInputs } from "../../provider/resources/diskExport/inputs";
import type { RollbackInputs } from "../../provider/resources/rollback/inputs";
import type { SnapshotInputs } from "../../provider/resources/snapshot/inputs";
import type { ThinPoolInputs } from "../../provider/resources/thinPool";
import type { VmDiskInputs } from "../../provider/resources/vmDisk/inputs";
import type { VolumeGroupInputs } from "../../provider/resources/volumeGroup";

/** What a user may pass, with every pulumi.Input resolved, as the provider receives it. */
type Plain<T> = pulumi.Unwrap<T>;
/**
 * The inputs a schema accepts (before defaults), less the connection, whose SDK type is checked on its own, and
 * `triggers`, any JSON array to the schema, which the SDK types as `unknown[]` (Pulumi serializes what it is given).
 */
type Accepted<S extends z.ZodType> = Omit<z.input<S>, "connection" | "triggers">;
type Given<T> = Omit<Plain<T>, "connection" | "triggers">;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
/** Same field names, the same ones required, and each field's type the same. */
type Agree<A, B> = Equal<keyof A, keyof B> extends true
  ? Equal<RequiredKeys<A>, RequiredKeys<B>> extends true
    ? { [K in keyof A & keyof B]-?: Equal<NonNullable<A[K]>, NonNullable<B[K]>> }[keyof A & keyof B] extends true ? true : { differ: { [K in keyof A & keyof B as Equal<NonNullable<A[K]>, NonNullable<B[K]>> extends true ? never : K]: [A[K], B[K]] } }
    : { required: [RequiredKeys<A>, RequiredKeys<B>] }
  : { keys: [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] };
const agree = <T extends true>(t: T) => t;

agree<Agree<Given<sdk.VolumeGroupArgs>, Accepted<typeof VolumeGroupInputs>>>(true);
agree<Agree<Given<sdk.ThinPoolArgs>, Accepted<typeof ThinPoolInputs>>>(true);
agree<Agree<Given<sdk.VmDiskArgs>, Accepted<typeof VmDiskInputs>>>(true);
agree<Agree<Given<sdk.SnapshotArgs>, Accepted<typeof SnapshotInputs>>>(true);
agree<Agree<Given<sdk.RollbackArgs>, Accepted<typeof RollbackInputs>>>(true);
agree<Agree<Given<sdk.DiskExportArgs>, Accepted<typeof DiskExportInputs>>>(true);

// The connection: every field the schema takes, the SDK offers, of the same type.
type SchemaConnection = NonNullable<z.input<typeof VolumeGroupInputs>["connection"]>;
agree<Agree<Omit<Plain<sdk.ConnectionArgs>, "proxy">, Omit<Exclude<SchemaConnection, string>, "proxy">>>(true);

describe("the SDK's argument types", () => {
  it("agree with every kind's schema, field by field (checked when the unit tier compiles)", () => assert.ok(true));
});
