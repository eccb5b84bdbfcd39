import { z } from "zod";
import { CommandRunner } from "./command";
import { Capabilities, Connection, Tool } from "./ssh";

/** What a resource kind needs of a host: run whole operations, and know what the host can do. */
export interface HostSession extends CommandRunner {
  capabilities(): Promise<Capabilities>;
}

/** A Pulumi check failure: the field (dotted path) and the rule it broke. */
export interface Failure {
  property: string;
  reason: string;
}

/** Every kind's inputs carry the connection to its host. */
export interface BaseInputs {
  connection: Connection;
}

/**
 * The small set of operations every resource kind implements, in the spirit of libvirt's storage backends and
 * Proxmox's storage plugins. The glue (glue/operations.ts) does validation, diffing, host lookup and error hygiene
 * once for all kinds, for both faces (the dynamic provider and the provider plugin); a kind only says what is
 * different about it.
 */
export interface ResourceKind<I extends BaseInputs, O extends I> {
  /** The Pulumi type name, e.g. "VolumeGroup" (token lvm:index:VolumeGroup in the plugin's schema). */
  readonly type: string;
  /** Input schema: validates, names fields in failures, fills defaults. Must be an object schema. */
  readonly inputs: z.ZodObject<z.ZodRawShape>;
  /**
   * The fields outputs add to the inputs (the outputs type is the inputs and these): the plugin's schema is made of
   * both, so a new field appears there without a second edit.
   */
  readonly outputs: z.ZodObject<z.ZodRawShape>;
  /** Input fields whose change replaces the resource. A change of `connection.host` always does. */
  readonly replaceOn: readonly (keyof I & string)[];
  /**
   * Whether a replacement must delete the old object first because the new one needs something it holds (its
   * devices, its name). Default: when both have the same ID, i.e. the same host and name.
   */
  deleteBeforeReplace?(olds: I, news: I): boolean;
  /** Input fields that only steer future operations (e.g. forceDestroy): a change is recorded, nothing runs. */
  readonly stateOnly: readonly (keyof I & string)[];
  /**
   * Inputs the provider resolves on the host, with the value that asks for it (an `"auto"`, or undefined for a
   * default name): the outputs record what it resolved to, so when the program still asks the same, the old
   * output stands in for the new input and an unchanged program diffs clean.
   */
  readonly resolvedOnHost?: Partial<Record<keyof I & string, unknown>>;
  /** Host programs the kind's operations need; checked once per connection before anything changes. */
  readonly tools?: readonly Tool[];
  /** Rules about a change from the previous inputs (e.g. no shrinking); run at preview too, on no host. */
  checkChange?(olds: I, news: I): Failure[];
  /** The resource ID: names the host and the object on it. */
  id(inputs: I): string;
  create(host: HostSession, inputs: I): Promise<O>;
  /** The resource as it is now on the host, or undefined when it is gone. */
  read(host: HostSession, olds: O): Promise<O | undefined>;
  update(host: HostSession, olds: O, news: I): Promise<O>;
  /**
   * Finishes a create whose outcome the client never heard (glue/unconfirmed.ts): takes the object if that create
   * made it (exactly the one asked for), else creates it, finishing or undoing first what a journal recorded. Kinds
   * without it fail such a create plainly, as before.
   */
  finishCreate?(host: HostSession, inputs: I): Promise<O>;
  delete(host: HostSession, olds: O): Promise<void>;
  /**
   * For `pulumi import`: the resource an ID names (its path, the part after `host:port/`, e.g. `vg/lv`), read from
   * the host, or undefined when there is none. Kinds that cannot be identified from their ID alone leave it out.
   */
  importFrom?(host: HostSession, path: string, connection: Connection): Promise<O | undefined>;
}
