export { Connection, ConnectionArgs, ConnectionFailure, ConnectionSchema, checkConnection, parseConnection, connectionTarget, hostAndPort } from "./connection";
export { fingerprint, parseKnownHosts, parsePublicKeyLine } from "./hostKeys";
export { Host, hostFor, poolStats, PoolStats, closeAll } from "./pool";
export { Capabilities, Tool, requireTool } from "./capabilities";
export { connectionSecrets, scrubError, scrubText } from "./secrets";
