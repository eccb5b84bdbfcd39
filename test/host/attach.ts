import { describeHost, HostInfo, TestHost } from "./testHost";

/** Attaches to a guest kept running by `cli.js start`; stopping it is left to that process. */
export function attachTestHost(info: HostInfo): TestHost {
  return describeHost(info, async () => undefined);
}
