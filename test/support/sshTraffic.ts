import { TestHost } from "../host/testHost";
import { installWrapper, removeWrappers } from "./guest";

// What reached the test guest over SSH, as the guest itself records it: sshd's journal, and a count of the scripts the
// provider started there. The test's own commands (TestHost.exec) ride one multiplexed connection opened before, and
// add nothing to either.

// The guest's sshd, and the further ones that stand in for further hosts (startExtraSshd).
const SSHD_JOURNAL = "journalctl -u ssh -u 'pulumi-lvm-sshd-*' --no-pager -o cat";

/** Everything sshd has logged so far: any connection attempt adds lines, even one refused before it logs in. */
export async function sshdJournal(h: TestHost): Promise<string[]> {
  return (await h.exec(SSHD_JOURNAL)).split("\n").filter(Boolean);
}

/** Logins sshd accepted so far (OpenSSH logs one "Accepted" line per login). */
export async function acceptedLogins(h: TestHost): Promise<number> {
  return Number((await h.exec(`${SSHD_JOURNAL} | grep -c '^Accepted ' || true`)).trim());
}

/** One line per script the provider started while counting. */
const SCRIPTS = "/run/pulumi-lvm-test-scripts";

/**
 * Counts the scripts the provider starts over SSH from now on. It runs each as `sh -s` with the script on stdin
 * (ssh/pool.ts): root's login shell finds `sh` first on its PATH in /usr/local/sbin, where this puts a wrapper that
 * logs the call and runs the real sh.
 */
export async function countScripts(h: TestHost): Promise<void> {
  await h.exec(`rm -f ${SCRIPTS}; ${installWrapper("sh", `#!/bin/sh
if [ "\${1:-}" = "-s" ]; then echo "$$" >> ${SCRIPTS}; fi
exec /bin/sh "$@"
`)}`);
}

export async function scriptsStarted(h: TestHost): Promise<number> {
  return Number((await h.exec(`[ -f ${SCRIPTS} ] && wc -l < ${SCRIPTS} || echo 0`)).trim());
}

export async function stopCountingScripts(h: TestHost): Promise<void> {
  await h.exec(`${removeWrappers(["sh"])} ${SCRIPTS}`);
}
