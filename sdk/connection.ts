import * as pulumi from "@pulumi/pulumi";

/**
 * How to reach a host over SSH; field names follow pulumi-command's `connection`. Host keys are verified:
 * pin `hostKey` or have the host in `knownHostsPath` (default ~/.ssh/known_hosts).
 */
export interface ConnectionArgs {
  host: pulumi.Input<string>;
  /** Default 22. */
  port?: pulumi.Input<number>;
  /** Default "root". */
  user?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  /** The text of a private key (not a path). */
  privateKey?: pulumi.Input<string>;
  privateKeyPassword?: pulumi.Input<string>;
  /** Default: $SSH_AUTH_SOCK. */
  agentSocketPath?: pulumi.Input<string>;
  /** The host's public key line (`ssh-ed25519 AAAA...`) or its `SHA256:` fingerprint. */
  hostKey?: pulumi.Input<string>;
  /** Default ~/.ssh/known_hosts. */
  knownHostsPath?: pulumi.Input<string>;
  /** Accept any host key. Unsafe; for throwaway hosts only. */
  insecureSkipHostKeyCheck?: pulumi.Input<boolean>;
  /** A jump host to connect through. */
  proxy?: pulumi.Input<ConnectionArgs>;
  /** Run every command through `sudo -n` (for a non-root user with passwordless sudo). */
  sudo?: pulumi.Input<boolean>;
  /** Default 30. */
  connectTimeoutSeconds?: pulumi.Input<number>;
  /** Default 1800. */
  commandTimeoutSeconds?: pulumi.Input<number>;
}
