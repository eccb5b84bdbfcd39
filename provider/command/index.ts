export { quote, quoteArgv } from "./quote";
export { Script, sh, ShellCode, Argv, MARK, EXIT, vgLockFiles, ProgressFormat, PROGRESS_LOOK_SECONDS } from "./script";
export { HostCommandError, FailureKind, RawOutput, ScriptResult, interpret, parseSections, readStderr } from "./result";
export { CommandRunner } from "./runner";
export { batchedReads } from "./batch";
export { ProgressLines } from "./progressLines";
