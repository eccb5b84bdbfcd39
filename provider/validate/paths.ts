/** The longest path the kernel takes (PATH_MAX less its NUL), and the longest part of one (NAME_MAX). */
const PATH_MAX = 4095;
const NAME_MAX = 255;

/**
 * What is wrong with a path to a file on the host, whatever the file is for: `field` names it in the message, and
 * `example` shows a good one. The checks a command would fail on later, made before anything reaches the host.
 */
export function hostFilePathProblem(path: string, field: string, example: string): string | undefined {
  if (!path.startsWith("/")) return `${field} must be an absolute path on the host, like ${example}`;
  if (/[\0\n\r]/.test(path)) return `${field} must not contain NUL or line breaks`;
  if (path.endsWith("/")) return `${field} must name a file, not end with '/'`;
  if (Buffer.byteLength(path) > PATH_MAX) return `${field} must be at most ${PATH_MAX} bytes`;
  if (path.split("/").some((part) => Buffer.byteLength(part) > NAME_MAX)) return `${field} must not have a part longer than ${NAME_MAX} bytes (the longest file name)`;
  return undefined;
}
