import { Script } from "./script";
import { ScriptResult } from "./result";

/**
 * Runs whole operations on one target host. The SSH layer implements it for real hosts; unit tests use a fake.
 * `run` resolves with the captured sections or rejects with a HostCommandError.
 */
export interface CommandRunner {
  /** "user@host:port", used in errors and IDs. */
  readonly target: string;
  run(script: Script): Promise<ScriptResult>;
}
