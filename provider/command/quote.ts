/**
 * POSIX single-quoting: the only way data enters a shell script in this project.
 * Inside single quotes nothing is special, so `'` is closed, escaped and reopened: `'` -> `'\''`.
 * NUL cannot be passed through a shell argument at all, so it is refused rather than silently cut.
 */
export function quote(arg: string): string {
  if (arg.includes("\0")) throw new Error("an argument contains a NUL byte, which no shell argument can carry");
  return "'" + arg.replace(/'/g, "'\\''") + "'";
}

/** Quotes every element of an argument vector and joins them into one command line. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("empty command");
  return argv.map(quote).join(" ");
}
