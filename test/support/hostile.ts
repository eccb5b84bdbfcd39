/** Strings that would do something if any layer let a shell interpret them. */
export const HOSTILE_STRINGS: readonly string[] = [
  "'", "\"", "''", "a'b\"c", "; touch /tmp/pwned-1", "$(touch /tmp/pwned-2)", "`touch /tmp/pwned-3`",
  "x\ntouch /tmp/pwned-4", "&& touch /tmp/pwned-5", "| touch /tmp/pwned-6", "> /tmp/pwned-7", "--help", "-n",
  "-rf", "*", "~", "$HOME", "${IFS}", "\\", "\\'", "ünïcødé ✓ 日本", "\t\r", " leading and trailing ",
  "'; touch /tmp/pwned-8; echo '", "\"$(touch /tmp/pwned-9)\"", "%s%n%d", "$((1+1))", "!!", "#comment",
];
