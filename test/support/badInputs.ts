// The bad input corpus: inputs every resource kind must refuse in `check`, before anything reaches a host. The unit
// test (test/unit/badInputs.test.ts) runs each case through each kind's check with no host; the e2e test
// (test/e2e/badInput.test.ts) runs them through the engine and Pulumi's real plugin against the test guest and proves
// there that nothing reached it. Each kind's own unit test keeps its narrower table; this corpus adds the hostile,
// absurd and conflicting inputs a user (or a program computing inputs) may send to any field of any kind.
import { kinds, KindName } from "../../provider";
import { dynamicProvider } from "../../provider/dynamic/provider";
import { ResourceKind } from "../../provider/resource";
import { HOSTILE_STRINGS } from "./hostile";
import { CONNECTION, noHost } from "./noHost";

/** One failure a case must produce: the field's path, and a pattern for the rule its reason states. */
export interface Expected {
  property: string;
  reason: RegExp;
}

export interface BadInput {
  kind: KindName;
  /** What is wrong, as a test title says it. */
  what: string;
  /** Fields over the kind's VALID inputs; an undefined value removes the field. */
  inputs?: Record<string, unknown>;
  /** Fields over the valid connection; an undefined value removes the field. */
  connection?: Record<string, unknown>;
  expected: Expected;
}

/** A change no existing resource may take (a shrink, a setting fixed at creation): refused in check, from the state. */
export interface BadChange {
  kind: KindName;
  what: string;
  /** The inputs the resource was created with, over VALID. */
  olds: Record<string, unknown>;
  /** The changed inputs, over the olds. */
  news: Record<string, unknown>;
  expected: Expected[];
}

/** The VG the e2e test makes for the changes, and the device it makes it on (one of the test guest's data disks). */
export const VG = "badinput";
export const DEVICE = "/dev/vdg";
export const DISK = "vm-900-disk-0";
/** Another VG the e2e test makes, on another device, and a device it leaves blank. */
export const OTHER_VG = "badother";
export const OTHER_DEVICE = "/dev/vdf";
export const FREE_DEVICE = "/dev/vde";

/** Inputs each kind accepts (with a valid connection): every case spoils them in one place. */
export const VALID: Record<KindName, Record<string, unknown>> = {
  VolumeGroup: { name: VG, devices: [DEVICE] },
  ThinPool: { volumeGroup: VG, name: "pool", size: "16MiB" },
  VmDisk: { volumeGroup: VG, name: DISK, size: "16MiB" },
  Snapshot: { volumeGroup: VG, disk: DISK, name: "golden" },
  Rollback: { volumeGroup: VG, disk: DISK, snapshot: "golden" },
  DiskExport: { volumeGroup: VG, disk: DISK, path: "/root/badinput.raw" },
};

const hostile = (s: string) => {
  if (!HOSTILE_STRINGS.includes(s)) throw new Error(`not one of HOSTILE_STRINGS: ${JSON.stringify(s)}`);
  return s;
};

const VG_CHARS = /^volume group name may contain only letters, digits and \+ _ \. -/;
const LV_CHARS = /^logical volume name may contain only letters, digits and \+ _ \. -/;
const SNAP_CHARS = /^snapshot name may contain only letters, digits and \+ _ \. -/;
const NOT_A_SIZE = /^not a size: use bytes or a number with a unit like "4MiB", "10G"/;
const TOO_LARGE = /^too large: a size must be at most 8 PiB/;
const NOT_A_SIZE_OR_PERCENT = /^not a size: use bytes, a number with a unit like "512MiB", or a percentage like "10%"/;
/** What a missing or mistyped name must be, as the messages say it (regular expression source). */
const VG_NAME = 'a volume group name like "vmdata": letters, digits and \\+ _ \\. -';
const LV_NAME = 'a logical volume name like "vm-100-disk-0": letters, digits and \\+ _ \\. -';
const SNAP_NAME = 'a snapshot name like "golden": letters, digits and \\+ _ \\. -';
const SIZE = 'a size: a number of bytes, or a number with a binary unit like "512MiB" or "32G"';
/** A size in decimal units ("32GB"), refused: LVM's units are binary. */
const decimal = (n: string, unit: string) =>
  new RegExp(`^decimal units like ${unit}B are refused, as LVM's units are binary: write "${n.replace(".", "\\.")}${unit}iB" or "${n.replace(".", "\\.")}${unit}" for ${n.replace(".", "\\.")} ${unit}iB, or a number of bytes`);
/** LVM's limit for a VG and an LV name together. */
const TOGETHER = "LVM allows 124 characters for a volume group and logical volume name together";
const NOT_BOOLEAN = /^expected true or false, got /;
/** A VG name that leaves LVM little room for LV names: 100 characters (LVM allows 124 for both together). */
const LONG_VG = "v".repeat(100);

export const BAD_INPUTS: readonly BadInput[] = [
  // VolumeGroup
  { kind: "VolumeGroup", what: "a name with $()", inputs: { name: hostile("$(touch /tmp/pwned-2)") }, expected: { property: "name", reason: VG_CHARS } },
  { kind: "VolumeGroup", what: "a name with a newline", inputs: { name: hostile("x\ntouch /tmp/pwned-4") }, expected: { property: "name", reason: VG_CHARS } },
  { kind: "VolumeGroup", what: "a name that is an option", inputs: { name: hostile("--help") }, expected: { property: "name", reason: /^volume group name must not start with '-'/ } },
  { kind: "VolumeGroup", what: "a name in unicode", inputs: { name: hostile("ünïcødé ✓ 日本") }, expected: { property: "name", reason: VG_CHARS } },
  { kind: "VolumeGroup", what: "a name LVM refuses as it is in /dev (mapper)", inputs: { name: "mapper" }, expected: { property: "name", reason: /^volume group name "mapper" is taken by \/dev\/mapper on every Linux host/ } },
  { kind: "VolumeGroup", what: "a device with ;", inputs: { devices: [hostile("; touch /tmp/pwned-1")] }, expected: { property: "devices.0", reason: /^a device must be an absolute path like \/dev\/sdb/ } },
  { kind: "VolumeGroup", what: "a device that is an option", inputs: { devices: [hostile("-rf")] }, expected: { property: "devices.0", reason: /^a device must be an absolute path/ } },
  { kind: "VolumeGroup", what: "a device path with $()", inputs: { devices: ["/dev/$(touch /tmp/pwned-2)"] }, expected: { property: "devices.0", reason: /^a device must be an absolute path/ } },
  { kind: "VolumeGroup", what: "a device path with a newline", inputs: { devices: ["/dev/vd\nb"] }, expected: { property: "devices.0", reason: /^a device must be an absolute path/ } },
  { kind: "VolumeGroup", what: "devices as one string", inputs: { devices: "/dev/vdb /dev/vdc" }, expected: { property: "devices", reason: /^expected a list of device paths like \["\/dev\/sdb"\], got "\/dev\/vdb \/dev\/vdc"$/ } },
  { kind: "VolumeGroup", what: "an extent size with a shell command", inputs: { extentSize: "4MiB; rm -rf /" }, expected: { property: "extentSize", reason: NOT_A_SIZE } },
  { kind: "VolumeGroup", what: "an extent size of zero", inputs: { extentSize: 0 }, expected: { property: "extentSize", reason: /^extentSize must be a power of two of at least 1KiB/ } },
  { kind: "VolumeGroup", what: "a metadata size in exponent notation", inputs: { metadataSize: "1e9" }, expected: { property: "metadataSize", reason: NOT_A_SIZE } },
  { kind: "VolumeGroup", what: "an absurd metadata size", inputs: { metadataSize: "99999999PiB" }, expected: { property: "metadataSize", reason: TOO_LARGE } },
  { kind: "VolumeGroup", what: "a tag with $()", inputs: { tags: [hostile("$(touch /tmp/pwned-2)")] }, expected: { property: "tags.0", reason: /^a tag may contain only letters, digits and/ } },
  { kind: "VolumeGroup", what: "a tag with a newline", inputs: { tags: ["ok", "a\nb"] }, expected: { property: "tags.1", reason: /^a tag may contain only letters, digits and/ } },
  { kind: "VolumeGroup", what: "a very long tag", inputs: { tags: ["t".repeat(1025)] }, expected: { property: "tags.0", reason: /^a tag must be at most 1024 characters/ } },
  { kind: "VolumeGroup", what: "wipeSignatures as text", inputs: { wipeSignatures: "yes" }, expected: { property: "wipeSignatures", reason: NOT_BOOLEAN } },
  { kind: "VolumeGroup", what: "forceDestroy as a number", inputs: { forceDestroy: 1 }, expected: { property: "forceDestroy", reason: NOT_BOOLEAN } },
  { kind: "VolumeGroup", what: "a metadata size in words", inputs: { metadataSize: "lots" }, expected: { property: "metadataSize", reason: NOT_A_SIZE } },
  { kind: "VolumeGroup", what: "a negative extent size with a unit", inputs: { extentSize: "-4MiB" }, expected: { property: "extentSize", reason: NOT_A_SIZE } },
  { kind: "VolumeGroup", what: "an absurd extent size", inputs: { extentSize: "100000PiB" }, expected: { property: "extentSize", reason: TOO_LARGE } },

  // ThinPool
  { kind: "ThinPool", what: "a name with ;", inputs: { name: "pool;reboot" }, expected: { property: "name", reason: LV_CHARS } },
  { kind: "ThinPool", what: "a name with a part LVM reserves", inputs: { name: "pool_cdata" }, expected: { property: "name", reason: /^logical volume name must not contain '_cdata' \(reserved by LVM for internal volumes\)/ } },
  { kind: "ThinPool", what: "a name with a prefix LVM reserves", inputs: { name: "pvmove0" }, expected: { property: "name", reason: /^logical volume name must not start with 'pvmove' \(reserved by LVM\)/ } },
  { kind: "ThinPool", what: "a name too long for its VG's name (its _tdata LV)", inputs: { volumeGroup: LONG_VG, name: "p".repeat(19) }, expected: { property: "name", reason: new RegExp(`^the thin pool's data LV v{100}/p{19}_tdata is too long: ${TOGETHER}; use shorter names`) } },
  { kind: "ThinPool", what: "a VG name LVM refuses as it is in /dev (null)", inputs: { volumeGroup: "null" }, expected: { property: "volumeGroup", reason: /^volume group name "null" is taken by \/dev\/null/ } },
  { kind: "ThinPool", what: "a VG name with a space", inputs: { volumeGroup: hostile(" leading and trailing ") }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "ThinPool", what: "a VG name '.'", inputs: { volumeGroup: "." }, expected: { property: "volumeGroup", reason: /^volume group name must not be '\.' or '\.\.'/ } },
  { kind: "ThinPool", what: "a negative size", inputs: { size: -1 }, expected: { property: "size", reason: /^not a size: a size cannot be negative/ } },
  { kind: "ThinPool", what: "a zero size with a unit", inputs: { size: "0MiB" }, expected: { property: "size", reason: /^must be greater than zero/ } },
  { kind: "ThinPool", what: "a fractional number of bytes", inputs: { size: 1.5 }, expected: { property: "size", reason: /^not a size: a number of bytes must be whole/ } },
  { kind: "ThinPool", what: "an absurd number of bytes of metadata", inputs: { metadataSize: 1e300 }, expected: { property: "metadataSize", reason: TOO_LARGE } },
  { kind: "ThinPool", what: "a metadata size of zero", inputs: { metadataSize: "0" }, expected: { property: "metadataSize", reason: /^metadataSize must be from 2MiB to 16GiB/ } },
  { kind: "ThinPool", what: "a chunk size under 64 KiB", inputs: { chunkSize: "32KiB" }, expected: { property: "chunkSize", reason: /^chunkSize must be a multiple of 64KiB from 64KiB to 1GiB/ } },
  { kind: "ThinPool", what: "an over-commit of zero", inputs: { maxOverCommit: 0 }, expected: { property: "maxOverCommit", reason: /^maxOverCommit must be greater than zero/ } },
  { kind: "ThinPool", what: "a fill limit of zero", inputs: { refuseAbovePercent: 0 }, expected: { property: "refuseAbovePercent", reason: /^refuseAbovePercent must be from 1 to 100/ } },
  { kind: "ThinPool", what: "zero as text", inputs: { zero: "false" }, expected: { property: "zero", reason: /^zero must be true or false/ } },
  { kind: "ThinPool", what: "a tag pulumi-lvm writes itself", inputs: { tags: ["pulumi-lvm/format=raw"] }, expected: { property: "tags.0", reason: /^tags starting with pulumi-lvm\/ are reserved/ } },
  { kind: "ThinPool", what: "a connection without a host", connection: { host: undefined }, expected: { property: "connection.host", reason: /^host is required: a host name or address like "192\.0\.2\.10"$/ } },
  { kind: "ThinPool", what: "port 0", connection: { port: 0 }, expected: { property: "connection.port", reason: /^port must be an integer between 1 and 65535/ } },
  { kind: "ThinPool", what: "a user with a shell command", connection: { user: "root;reboot" }, expected: { property: "connection.user", reason: /^user must be a user name: letters, digits and \. _ -/ } },
  { kind: "ThinPool", what: "a chunk size with two decimal points", inputs: { chunkSize: "1.5.3G" }, expected: { property: "chunkSize", reason: NOT_A_SIZE } },
  { kind: "ThinPool", what: "an infinite metadata size", inputs: { metadataSize: "Infinity" }, expected: { property: "metadataSize", reason: NOT_A_SIZE } },

  // VmDisk
  { kind: "VmDisk", what: "a thin pool name with a NUL", inputs: { thinPool: "pool\0x" }, expected: { property: "thinPool", reason: LV_CHARS } },
  { kind: "VmDisk", what: "a name with quoted $()", inputs: { name: hostile("\"$(touch /tmp/pwned-9)\"") }, expected: { property: "name", reason: LV_CHARS } },
  { kind: "VmDisk", what: "the name 'snapshot' (reserved by LVM)", inputs: { name: "snapshot" }, expected: { property: "name", reason: /^logical volume name must not start with 'snapshot' \(reserved by LVM\)/ } },
  { kind: "VmDisk", what: "a thin pool name with _rimage (reserved by LVM)", inputs: { thinPool: "pool_rimage_0" }, expected: { property: "thinPool", reason: /^logical volume name must not contain '_rimage'/ } },
  { kind: "VmDisk", what: "a name that is an option", inputs: { name: hostile("-n") }, expected: { property: "name", reason: /^logical volume name must not start with '-'/ } },
  { kind: "VmDisk", what: "a name too long for its VG's name", inputs: { volumeGroup: LONG_VG, name: "d".repeat(30) }, expected: { property: "name", reason: new RegExp(`^the disk's LV v{100}/d{30} is too long: ${TOGETHER}; use shorter names`) } },
  { kind: "VmDisk", what: "a VG name that is $HOME", inputs: { volumeGroup: hostile("$HOME") }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "VmDisk", what: "a VG name that is an option", inputs: { volumeGroup: "-vg" }, expected: { property: "volumeGroup", reason: /^volume group name must not start with '-'/ } },
  { kind: "VmDisk", what: "a VG name with a slash", inputs: { volumeGroup: "vg/sub" }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "VmDisk", what: "a thin pool name with $()", inputs: { thinPool: "pool$(id)" }, expected: { property: "thinPool", reason: LV_CHARS } },
  { kind: "VmDisk", what: "an empty thin pool name", inputs: { thinPool: "" }, expected: { property: "thinPool", reason: /^logical volume name must not be empty/ } },
  { kind: "VmDisk", what: "zero bytes", inputs: { size: "0B" }, expected: { property: "size", reason: /^must be greater than zero/ } },
  { kind: "VmDisk", what: "a negative size", inputs: { size: -1024 }, expected: { property: "size", reason: /^not a size: a size cannot be negative/ } },
  { kind: "VmDisk", what: "a size with a shell command", inputs: { size: "10MiB && reboot" }, expected: { property: "size", reason: NOT_A_SIZE } },
  { kind: "VmDisk", what: "a size that is a boolean", inputs: { size: true }, expected: { property: "size", reason: NOT_A_SIZE } },
  { kind: "VmDisk", what: "a format in capitals", inputs: { format: "QCOW2" }, expected: { property: "format", reason: /^format must be "raw" or "qcow2"/ } },
  { kind: "VmDisk", what: "a format with a shell command", inputs: { format: "raw; touch /tmp/pwned-1" }, expected: { property: "format", reason: /^format must be "raw" or "qcow2"/ } },
  { kind: "VmDisk", what: "an unknown preallocation", inputs: { format: "qcow2", qcow2: { preallocation: "full; reboot" } }, expected: { property: "qcow2.preallocation", reason: /^preallocation must be one of off, metadata, falloc, full/ } },
  { kind: "VmDisk", what: "a source path that is relative", inputs: { source: { path: "images/$(touch /tmp/pwned-2).qcow2" } }, expected: { property: "source.path", reason: /^source\.path must be an absolute path on the host/ } },
  { kind: "VmDisk", what: "a source path with a newline", inputs: { source: { path: "/srv/a\nb.qcow2" } }, expected: { property: "source.path", reason: /^source\.path must not contain NUL or line breaks/ } },
  { kind: "VmDisk", what: "a source file name over 255 bytes", inputs: { source: { path: `/srv/${"x".repeat(256)}` } }, expected: { property: "source.path", reason: /^source\.path must not have a part longer than 255 bytes \(the longest file name\)/ } },
  { kind: "VmDisk", what: "a source path that names a directory", inputs: { source: { path: "/srv/images/" } }, expected: { property: "source.path", reason: /^source\.path must name a file, not end with '\/'/ } },
  { kind: "VmDisk", what: "an unknown source format", inputs: { source: { path: "/srv/debian.iso", format: "ISO" } }, expected: { property: "source.format", reason: /^source\.format must be one of raw, qcow2, vmdk/ } },
  { kind: "VmDisk", what: "a source given as a string", inputs: { source: "/srv/debian.qcow2" }, expected: { property: "source", reason: /^expected an object like \{ path: "\/var\/lib\/images\/debian-12.qcow2" \}, got "\/srv\/debian.qcow2"$/ } },
  { kind: "VmDisk", what: "wipeOnDelete as text", inputs: { wipeOnDelete: "true" }, expected: { property: "wipeOnDelete", reason: NOT_BOOLEAN } },
  { kind: "VmDisk", what: "tags as one string", inputs: { tags: "pve" }, expected: { property: "tags", reason: /^expected a list of tags like \["pve", "env=prod"\], got "pve"$/ } },
  { kind: "VmDisk", what: "wipeOnDelete on a thin disk", inputs: { thinPool: "pool", wipeOnDelete: true }, expected: { property: "wipeOnDelete", reason: /^wipeOnDelete applies to thick disks/ } },
  { kind: "VmDisk", what: "qcow2 options on a raw disk", inputs: { format: "raw", qcow2: { extendedL2: true } }, expected: { property: "qcow2", reason: /^qcow2 options apply only to format: "qcow2" \(format is "raw"\)/ } },

  // Snapshot
  { kind: "Snapshot", what: "an LV name with backticks", inputs: { lvName: hostile("`touch /tmp/pwned-3`") }, expected: { property: "lvName", reason: LV_CHARS } },
  { kind: "Snapshot", what: "a name with ;", inputs: { name: "golden; reboot" }, expected: { property: "name", reason: SNAP_CHARS } },
  { kind: "Snapshot", what: "a name with backticks", inputs: { name: "`id`" }, expected: { property: "name", reason: SNAP_CHARS } },
  { kind: "Snapshot", what: "a name with a NUL", inputs: { name: "gold\0en" }, expected: { property: "name", reason: SNAP_CHARS } },
  { kind: "Snapshot", what: "a disk name with $()", inputs: { disk: hostile("$(touch /tmp/pwned-2)") }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "Snapshot", what: "a disk name with a trailing space", inputs: { disk: "vm-900-disk-0 " }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "Snapshot", what: "a disk named by another VG's path", inputs: { disk: "othervg/vm-900-disk-0" }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "Snapshot", what: "a VG name with quotes", inputs: { volumeGroup: hostile("a'b\"c") }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "Snapshot", what: "an LV name with ;", inputs: { lvName: "snap;reboot" }, expected: { property: "lvName", reason: LV_CHARS } },
  { kind: "Snapshot", what: "an LV name LVM reserves", inputs: { lvName: "pvmove_snap" }, expected: { property: "lvName", reason: /^logical volume name must not start with 'pvmove' \(reserved by LVM\)/ } },
  { kind: "Snapshot", what: "a method in capitals", inputs: { method: "THICK" }, expected: { property: "method", reason: /^method must be one of auto, chain, thick, thin/ } },
  { kind: "Snapshot", what: "an empty method", inputs: { method: "" }, expected: { property: "method", reason: /^method must be one of auto, chain, thick, thin/ } },
  { kind: "Snapshot", what: "a negative percentage", inputs: { size: "-10%" }, expected: { property: "size", reason: NOT_A_SIZE_OR_PERCENT } },
  { kind: "Snapshot", what: "a percentage of zero", inputs: { size: "0%" }, expected: { property: "size", reason: /^a percentage must be more than 0% and at most 100%/ } },
  { kind: "Snapshot", what: "a doubled percent sign", inputs: { size: "10%%" }, expected: { property: "size", reason: NOT_A_SIZE_OR_PERCENT } },
  { kind: "Snapshot", what: "a quiesce hook list as a shell string", inputs: { quiesce: { before: "virsh domfsfreeze vm1" } }, expected: { property: "quiesce.before", reason: /^expected a list of commands, each an argument list like \["virsh", "domfsfreeze", "vm1"\], got "virsh domfsfreeze vm1"$/ } },
  { kind: "Snapshot", what: "a quiesce hook with an empty program", inputs: { quiesce: { after: [["", "x"]] } }, expected: { property: "quiesce.after.0", reason: /^a hook's program must not be empty/ } },
  { kind: "Snapshot", what: "an unknown quiesce phase", inputs: { quiesce: { during: [["sync"]] } }, expected: { property: "quiesce.during", reason: /^unknown key "during" in quiesce; the keys of quiesce are before, after$/ } },
  { kind: "Snapshot", what: "a thick snapshot of a disk too long for its VG's name (its -real device)", inputs: { volumeGroup: "v".repeat(90), disk: "d".repeat(32), name: "s", method: "thick", lvName: "s" }, expected: { property: "disk", reason: /^a thick snapshot's origin v{90}\/d{32} is too long: its device-mapper name v{90}-d{32}-real has 128 characters, at most 127 \(LVM doubles each '-'\); use shorter names/ } },

  // Rollback
  { kind: "Rollback", what: "a snapshot name with a tab", inputs: { snapshot: hostile("\t\r") }, expected: { property: "snapshot", reason: SNAP_CHARS } },
  { kind: "Rollback", what: "a disk name of 200 characters", inputs: { disk: "d".repeat(200) }, expected: { property: "disk", reason: /^logical volume name must be at most 127 characters \(has 200\)/ } },
  { kind: "Rollback", what: "a VG name in CJK characters", inputs: { volumeGroup: "日本" }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "Rollback", what: "a snapshot name with a newline", inputs: { snapshot: "golden\nreboot" }, expected: { property: "snapshot", reason: SNAP_CHARS } },
  { kind: "Rollback", what: "a snapshot name with arithmetic", inputs: { snapshot: hostile("$((1+1))") }, expected: { property: "snapshot", reason: SNAP_CHARS } },
  { kind: "Rollback", what: "a disk name that is a glob", inputs: { disk: hostile("*") }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "Rollback", what: "a disk name that is ~", inputs: { disk: hostile("~") }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "Rollback", what: "a VG name that is ${IFS}", inputs: { volumeGroup: hostile("${IFS}") }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "Rollback", what: "a VG name LVM refuses as it is in /dev (stdin)", inputs: { volumeGroup: "stdin" }, expected: { property: "volumeGroup", reason: /^volume group name "stdin" is taken by \/dev\/stdin/ } },
  { kind: "Rollback", what: "triggers as an object", inputs: { triggers: { run: 1 } }, expected: { property: "triggers", reason: /^triggers must be an array of JSON values/ } },
  { kind: "Rollback", what: "a NUL in a quiesce argument", inputs: { quiesce: { before: [["virsh", "shutdown\0"]] } }, expected: { property: "quiesce.before.0.1", reason: /^an argument must not contain a NUL byte/ } },
  { kind: "Rollback", what: "a disk whose new overlay's LV is too long for its VG's name", inputs: { volumeGroup: LONG_VG, disk: "d".repeat(10) }, expected: { property: "disk", reason: new RegExp(`^the rollback's new overlay LV v{100}/pulumi-lvm-new_d{10} is too long: ${TOGETHER}; use shorter names`) } },
  { kind: "Rollback", what: "no connection", inputs: { connection: undefined }, expected: { property: "connection", reason: /^none given: set connection on the resource, or \(with the lvm provider plugin\) give the provider one, the default of its resources: in the stack config \(pulumi config set --path lvm:connection\.host <host>, .*\) or on an explicit provider \(new lvm\.Provider\("p", \{ connection: \{ host: \.\.\. \} \}\), and the resource's provider option\)$/ } },
  { kind: "Rollback", what: "a private key given as a path", connection: { privateKey: "~/.ssh/id_ed25519" }, expected: { property: "connection.privateKey", reason: /^privateKey must be the text of a private key/ } },
  { kind: "Rollback", what: "a host key that is neither a key nor a fingerprint", connection: { hostKey: "ssh-rsa" }, expected: { property: "connection.hostKey", reason: /^hostKey must be an OpenSSH public key line/ } },
  { kind: "Rollback", what: "a negative command timeout", connection: { commandTimeoutSeconds: -1 }, expected: { property: "connection.commandTimeoutSeconds", reason: /^commandTimeoutSeconds must be greater than 0/ } },
  { kind: "Rollback", what: "a jump host without a host", connection: { proxy: { port: 22 } }, expected: { property: "connection.proxy.host", reason: /^host is required: a host name or address like "192\.0\.2\.10"$/ } },

  // DiskExport
  { kind: "DiskExport", what: "a snapshot name that is a quote", inputs: { snapshot: hostile("'") }, expected: { property: "snapshot", reason: SNAP_CHARS } },
  { kind: "DiskExport", what: "a disk name with ; and spaces", inputs: { disk: "vm-1-disk-0.qcow2 ; rm -rf /" }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "DiskExport", what: "a relative path with ;", inputs: { path: "out.raw; touch /tmp/pwned-1" }, expected: { property: "path", reason: /^path must be an absolute path on the host/ } },
  { kind: "DiskExport", what: "a path with a carriage return", inputs: { path: "/root/x\rb.raw" }, expected: { property: "path", reason: /^path must not contain NUL or line breaks/ } },
  { kind: "DiskExport", what: "the root directory", inputs: { path: "/" }, expected: { property: "path", reason: /^path must name a file, not end with '\/'/ } },
  { kind: "DiskExport", what: "a path longer than the host allows", inputs: { path: `/root/${"d/".repeat(2100)}x.raw` }, expected: { property: "path", reason: /^path must be at most 4095 bytes/ } },
  { kind: "DiskExport", what: "an empty path", inputs: { path: "" }, expected: { property: "path", reason: /^path must be an absolute path on the host/ } },
  { kind: "DiskExport", what: "a format with a shell command", inputs: { format: "qcow2; reboot" }, expected: { property: "format", reason: /^format must be "raw" or "qcow2"/ } },
  { kind: "DiskExport", what: "a snapshot name with $()", inputs: { snapshot: "$(reboot)" }, expected: { property: "snapshot", reason: SNAP_CHARS } },
  { kind: "DiskExport", what: "a snapshot name that is an option", inputs: { snapshot: "-golden" }, expected: { property: "snapshot", reason: /^snapshot name must not start with '-'/ } },
  { kind: "DiskExport", what: "a disk name with a space", inputs: { disk: "vm 900" }, expected: { property: "disk", reason: LV_CHARS } },
  { kind: "DiskExport", what: "the disk name 'pvmove' (reserved by LVM)", inputs: { disk: "pvmove" }, expected: { property: "disk", reason: /^logical volume name must not start with 'pvmove' \(reserved by LVM\)/ } },
  { kind: "DiskExport", what: "a VG name in Greek", inputs: { volumeGroup: "δίσκοι" }, expected: { property: "volumeGroup", reason: VG_CHARS } },
  { kind: "DiskExport", what: "a temporary snapshot of zero bytes", inputs: { snapshotSize: "0" }, expected: { property: "snapshotSize", reason: NOT_A_SIZE_OR_PERCENT } },
  { kind: "DiskExport", what: "a negative temporary snapshot size", inputs: { snapshotSize: "-1GiB" }, expected: { property: "snapshotSize", reason: NOT_A_SIZE_OR_PERCENT } },
  { kind: "DiskExport", what: "a temporary snapshot over 100%", inputs: { snapshotSize: "100.5%" }, expected: { property: "snapshotSize", reason: /^a percentage must be more than 0% and at most 100%/ } },
  { kind: "DiskExport", what: "a disk whose temporary snapshot is too long for its VG's name (its -cow device)", inputs: { volumeGroup: "v".repeat(60), disk: "d".repeat(30) }, expected: { property: "disk", reason: /^the disk's temporary snapshot v{60}\/snap_d{30}_pulumi-lvm-export-0{8} is too long: its device-mapper name v{60}-snap_d{30}_pulumi--lvm--export--0{8}-cow has 130 characters, at most 127 \(LVM doubles each '-'\); use shorter names/ } },
  { kind: "DiskExport", what: "a host with $()", connection: { host: "$(reboot)" }, expected: { property: "connection.host", reason: /^host must be a host name or address: letters, digits/ } },
  { kind: "DiskExport", what: "a host that is an option", connection: { host: "-oProxyCommand=reboot" }, expected: { property: "connection.host", reason: /^host must not start with '-'/ } },
  { kind: "DiskExport", what: "a host name of 300 characters", connection: { host: "h".repeat(300) }, expected: { property: "connection.host", reason: /^host must be at most 253 characters/ } },
  { kind: "DiskExport", what: "a user that is an option", connection: { user: "-oProxyCommand=reboot" }, expected: { property: "connection.user", reason: /^user must not start with '-'/ } },
  { kind: "DiskExport", what: "an empty known_hosts path", connection: { knownHostsPath: "" }, expected: { property: "connection.knownHostsPath", reason: /^knownHostsPath must not be empty/ } },
  { kind: "DiskExport", what: "sudo as text", connection: { sudo: "yes" }, expected: { property: "connection.sudo", reason: /^sudo must be true or false/ } },
  { kind: "DiskExport", what: "a misspelt connection field", connection: { passwd: "x" }, expected: { property: "connection.passwd", reason: /^unknown key "passwd" in connection; did you mean "password"\?$/ } },

  // Every kind: a field missing, a value of the wrong type, a misspelt key, a size in decimal units
  { kind: "VolumeGroup", what: "no name", inputs: { name: undefined }, expected: { property: "name", reason: new RegExp(`^required: ${VG_NAME}$`) } },
  { kind: "VolumeGroup", what: "a name that is a number", inputs: { name: 42 }, expected: { property: "name", reason: new RegExp(`^expected ${VG_NAME}, got 42$`) } },
  { kind: "VolumeGroup", what: "no devices", inputs: { devices: undefined }, expected: { property: "devices", reason: /^required: a list of device paths like \["\/dev\/sdb"\]$/ } },
  { kind: "VolumeGroup", what: "a device that is a number", inputs: { devices: [7] }, expected: { property: "devices.0", reason: /^expected a device path like "\/dev\/sdb", got 7$/ } },
  { kind: "VolumeGroup", what: "a misspelt extentSize", inputs: { extentSzie: "4MiB" }, expected: { property: "extentSzie", reason: /^unknown key "extentSzie" in the inputs; did you mean "extentSize"\?$/ } },
  { kind: "VolumeGroup", what: "a connection field beside the inputs", inputs: { host: "192.0.2.11" }, expected: { property: "host", reason: /^unknown key "host" in the inputs; "host" is a field of connection: put it inside connection$/ } },
  { kind: "VolumeGroup", what: "an extent size in decimal megabytes", inputs: { extentSize: "4MB" }, expected: { property: "extentSize", reason: decimal("4", "M") } },
  { kind: "VolumeGroup", what: "tags as a number", inputs: { tags: 3 }, expected: { property: "tags", reason: /^expected a list of tags like \["pve", "env=prod"\], got 3$/ } },
  { kind: "ThinPool", what: "no size", inputs: { size: undefined }, expected: { property: "size", reason: new RegExp(`^required: ${SIZE}$`) } },
  { kind: "ThinPool", what: "a size in decimal gigabytes", inputs: { size: "1GB" }, expected: { property: "size", reason: decimal("1", "G") } },
  { kind: "ThinPool", what: "a metadata size in lower-case decimal megabytes", inputs: { metadataSize: "4mb" }, expected: { property: "metadataSize", reason: decimal("4", "M") } },
  { kind: "ThinPool", what: "a name that is a list", inputs: { name: ["pool"] }, expected: { property: "name", reason: new RegExp(`^expected ${LV_NAME}, got \\["pool"\\]$`) } },
  { kind: "ThinPool", what: "a misspelt chunkSize", inputs: { chunksize: "64KiB" }, expected: { property: "chunksize", reason: /^unknown key "chunksize" in the inputs; did you mean "chunkSize"\?$/ } },
  { kind: "ThinPool", what: "an over-commit as text", inputs: { maxOverCommit: "2" }, expected: { property: "maxOverCommit", reason: /^maxOverCommit must be a number, like 2 or 1\.5/ } },
  { kind: "VmDisk", what: "no name", inputs: { name: undefined }, expected: { property: "name", reason: new RegExp(`^required: ${LV_NAME}$`) } },
  { kind: "VmDisk", what: "a name that is a number", inputs: { name: 100 }, expected: { property: "name", reason: new RegExp(`^expected ${LV_NAME}, got 100$`) } },
  { kind: "VmDisk", what: "a size in decimal gigabytes", inputs: { size: "32GB" }, expected: { property: "size", reason: decimal("32", "G") } },
  { kind: "VmDisk", what: "a size in decimal terabytes", inputs: { size: "1.5TB" }, expected: { property: "size", reason: decimal("1.5", "T") } },
  { kind: "VmDisk", what: "a misspelt thinPool", inputs: { thinpool: "pool" }, expected: { property: "thinpool", reason: /^unknown key "thinpool" in the inputs; did you mean "thinPool"\?$/ } },
  { kind: "VmDisk", what: "a misspelt qcow2 option", inputs: { format: "qcow2", qcow2: { clustersize: "64KiB" } }, expected: { property: "qcow2.clustersize", reason: /^unknown key "clustersize" in qcow2; did you mean "clusterSize"\?$/ } },
  { kind: "VmDisk", what: "a source without a path", inputs: { source: { format: "qcow2" } }, expected: { property: "source.path", reason: /^required: an absolute path on the host like "\/var\/lib\/images\/debian-12\.qcow2"$/ } },
  { kind: "VmDisk", what: "a cluster size in decimal kilobytes", inputs: { format: "qcow2", qcow2: { clusterSize: "64KB" } }, expected: { property: "qcow2.clusterSize", reason: decimal("64", "K") } },
  { kind: "Snapshot", what: "no name", inputs: { name: undefined }, expected: { property: "name", reason: new RegExp(`^required: ${SNAP_NAME}$`) } },
  { kind: "Snapshot", what: "no disk", inputs: { disk: undefined }, expected: { property: "disk", reason: new RegExp(`^required: ${LV_NAME}$`) } },
  { kind: "Snapshot", what: "a name that is a number", inputs: { name: 7 }, expected: { property: "name", reason: new RegExp(`^expected ${SNAP_NAME}, got 7$`) } },
  { kind: "Snapshot", what: "a size in decimal megabytes", inputs: { size: "512MB" }, expected: { property: "size", reason: decimal("512", "M") } },
  { kind: "Snapshot", what: "a misspelt method", inputs: { methd: "thick" }, expected: { property: "methd", reason: /^unknown key "methd" in the inputs; did you mean "method"\?$/ } },
  { kind: "Snapshot", what: "a method that is a boolean", inputs: { method: true }, expected: { property: "method", reason: /^method must be one of auto, chain, thick, thin; got true$/ } },
  { kind: "Rollback", what: "no snapshot", inputs: { snapshot: undefined }, expected: { property: "snapshot", reason: new RegExp(`^required: ${SNAP_NAME}$`) } },
  { kind: "Rollback", what: "a VG name that is null (as an engine sends an unset value)", inputs: { volumeGroup: null }, expected: { property: "volumeGroup", reason: new RegExp(`^required: ${VG_NAME}$`) } },
  { kind: "VmDisk", what: "a null connection (as the SDK sends an unset one)", inputs: { connection: null }, expected: { property: "connection", reason: /^none given: set connection on the resource/ } },
  { kind: "Rollback", what: "a disk name that is an object", inputs: { disk: { name: "vm-900-disk-0" } }, expected: { property: "disk", reason: new RegExp(`^expected ${LV_NAME}, got \\{"name":"vm-900-disk-0"\\}$`) } },
  { kind: "Rollback", what: "a misspelt triggers", inputs: { trigers: [1] }, expected: { property: "trigers", reason: /^unknown key "trigers" in the inputs; did you mean "triggers"\?$/ } },
  { kind: "Rollback", what: "a quiesce hook that is a string", inputs: { quiesce: { before: ["virsh shutdown vm1"] } }, expected: { property: "quiesce.before.0", reason: /^expected an argument list like \["virsh", "domfsfreeze", "vm1"\], got "virsh shutdown vm1"$/ } },
  { kind: "Rollback", what: "a connection given as a string", inputs: { connection: "root:hunter2-in-a-string@192.0.2.10" }, expected: { property: "connection", reason: /^expected an object with at least a host, like \{ host: "192\.0\.2\.10" \}, got a string$/ } },
  { kind: "DiskExport", what: "no path", inputs: { path: undefined }, expected: { property: "path", reason: /^required: an absolute path on the host like "\/var\/lib\/exports\/vm-100\.qcow2"$/ } },
  { kind: "DiskExport", what: "a path that is a number", inputs: { path: 42 }, expected: { property: "path", reason: /^expected an absolute path on the host like "\/var\/lib\/exports\/vm-100\.qcow2", got 42$/ } },
  { kind: "DiskExport", what: "compress as text", inputs: { compress: "yes" }, expected: { property: "compress", reason: /^compress must be true or false; got "yes"$/ } },
  { kind: "DiskExport", what: "a temporary snapshot size in decimal gigabytes", inputs: { snapshotSize: "1GB" }, expected: { property: "snapshotSize", reason: decimal("1", "G") } },
  { kind: "DiskExport", what: "a misspelt format", inputs: { fromat: "qcow2" }, expected: { property: "fromat", reason: /^unknown key "fromat" in the inputs; did you mean "format"\?$/ } },

  // Secrets: a connection's password, private key and key password are never shown, even of the wrong type or
  // under a misspelt key
  { kind: "VolumeGroup", what: "a password that is a number", connection: { password: 31415926 }, expected: { property: "connection.password", reason: /^password must be a string$/ } },
  { kind: "ThinPool", what: "a private key password that is a list", connection: { privateKeyPassword: ["hunter2-in-a-list"] }, expected: { property: "connection.privateKeyPassword", reason: /^privateKeyPassword must be a string$/ } },
  { kind: "VmDisk", what: "a jump host's password that is a number", connection: { proxy: { host: "192.0.2.1", password: 27182818 } }, expected: { property: "connection.proxy.password", reason: /^password must be a string$/ } },
  { kind: "Snapshot", what: "a password under a misspelt key", connection: { pasword: "hunter2-misspelt" }, expected: { property: "connection.pasword", reason: /^unknown key "pasword" in connection; did you mean "password"\?$/ } },
  { kind: "Rollback", what: "a private key that is not one", connection: { privateKey: "hunter2-not-a-key" }, expected: { property: "connection.privateKey", reason: /^privateKey must be the text of a private key/ } },
  { kind: "DiskExport", what: "a password beside the inputs", inputs: { password: "hunter2-at-the-top" }, expected: { property: "password", reason: /^unknown key "password" in the inputs; "password" is a field of connection: put it inside connection$/ } },
  { kind: "DiskExport", what: "a password with a bad host", connection: { password: "hunter2-beside-a-bad-host", host: "hunter2-beside-a-bad-host;x" }, expected: { property: "connection.host", reason: /^host must be a host name or address/ } },
];

/** Changes refused from the state: the e2e test makes the VG, the pool and the disk first, then tries each. */
export const BAD_CHANGES: readonly BadChange[] = [
  {
    kind: "VolumeGroup", what: "a new extent size and metadata size for an existing VG",
    olds: {}, news: { extentSize: "8MiB", metadataSize: "2MiB" },
    expected: [
      { property: "extentSize", reason: /^extentSize is fixed when a volume group is created and cannot change on an existing one \(default -> 8388608\)/ },
      { property: "metadataSize", reason: /^metadataSize is fixed when a volume group is created/ },
    ],
  },
  {
    kind: "ThinPool", what: "a shrink of the pool and its metadata, and another chunk size",
    olds: { metadataSize: "4MiB", chunkSize: "64KiB" }, news: { size: "8MiB", metadataSize: "2MiB", chunkSize: "128KiB" },
    expected: [
      { property: "size", reason: /^a thin pool cannot shrink: size 16 MiB -> 8 MiB/ },
      { property: "metadataSize", reason: /^a thin pool cannot shrink: metadataSize 4 MiB -> 2 MiB/ },
      { property: "chunkSize", reason: /^chunkSize is fixed when a thin pool is created/ },
    ],
  },
  {
    kind: "VmDisk", what: "a shrink of a disk",
    olds: {}, news: { size: "8MiB" },
    expected: [{ property: "size", reason: /^shrinking destroys data: size 16 MiB -> 8 MiB; a disk can only grow/ }],
  },
];

/**
 * Inputs check cannot refuse, as only the host knows what they name: what exists there. Each passes check and
 * preview; create refuses it with nothing changed. The e2e test makes VG with DISK on DEVICE, and OTHER_VG on
 * OTHER_DEVICE, and leaves FREE_DEVICE blank.
 */
export interface HostDecided {
  kind: KindName;
  what: string;
  inputs: Record<string, unknown>;
  refusal: RegExp;
}

export const HOST_DECIDED: readonly HostDecided[] = [
  { kind: "Snapshot", what: "a snapshot of a disk in another VG", inputs: { volumeGroup: OTHER_VG, disk: DISK },
    refusal: new RegExp(`disk ${OTHER_VG}/${DISK} does not exist on this host`) },
  { kind: "VolumeGroup", what: "a VG named after a device of the host", inputs: { name: "vdc", devices: [FREE_DEVICE] },
    refusal: /\/dev\/vdc exists on this host, and LVM refuses a volume group named after anything in \/dev; choose another name/ },
  { kind: "VmDisk", what: "a disk of 7 PiB, larger than its VG", inputs: { name: "vm-901-disk-0", size: "7PiB" },
    refusal: new RegExp(`not enough free space in volume group ${VG}: disk vm-901-disk-0 needs 7 PiB`) },
];

/** The inputs a program sends for a case: VALID with the case's fields, undefined fields left out (as the SDK does). */
export function inputsOf(kind: KindName, patch: Record<string, unknown>, connection: Record<string, unknown>,
  connectionPatch: Record<string, unknown> = {}): Record<string, unknown> {
  return defined({ ...VALID[kind], connection: defined({ ...connection, ...connectionPatch }), ...patch });
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Several cases of one kind sent as one resource: their failures must all appear, each once. */
export interface Bundle {
  kind: KindName;
  cases: BadInput[];
  inputs: Record<string, unknown>;
  connection: Record<string, unknown>;
  expected: Expected[];
}

/**
 * Packs the cases into as few resources as it can, so an engine run (which stops at the first invalid resource, as
 * Pulumi's does) checks many at once. A case joins the first bundle of its kind where it spoils other fields and
 * where the kind's check (no host) then still reports exactly the failures of every case in it: a rule across
 * fields (say compress with format) can hide or add a failure when another case spoils one of its fields.
 */
export async function bundles(cases: readonly BadInput[] = BAD_INPUTS): Promise<Bundle[]> {
  const out: Bundle[] = [];
  // Cases that spoil several fields are the hardest to fit: they go first.
  for (const c of [...cases].sort((a, b) => paths(b).length - paths(a).length)) {
    let joined = false;
    for (const b of out.filter((x) => x.kind === c.kind && !x.cases.some((y) => overlaps(y, c)))) {
      const candidate = { ...b, cases: [...b.cases, c], inputs: merged(b.inputs, c.inputs ?? {}),
        connection: merged(b.connection, c.connection ?? {}), expected: [...b.expected, c.expected] };
      const found = await checkWithoutHost(c.kind, inputsOf(c.kind, candidate.inputs, CONNECTION, candidate.connection));
      if (mismatches(found, candidate.expected).length === 0) {
        out[out.indexOf(b)] = candidate;
        joined = true;
        break;
      }
    }
    if (!joined) out.push({ kind: c.kind, cases: [c], inputs: { ...c.inputs }, connection: { ...c.connection }, expected: [c.expected] });
  }
  return out;
}

/** The failures a kind's check reports, with a host resolver that fails if anything tries to reach a host. */
export async function checkWithoutHost(kind: KindName, news: Record<string, unknown>, olds: Record<string, unknown> = {}):
  Promise<Array<{ property: string; reason: string }>> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own input type
  const provider = dynamicProvider(kinds[kind] as ResourceKind<any, any>, noHost);
  return (await provider.check!(olds, news)).failures ?? [];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields a case spoils, as dotted paths (into objects such as source or quiesce; a list is one field). */
const paths = (c: BadInput) => [...leaves(c.inputs ?? {}), ...leaves(c.connection ?? {}, "connection.")];
const leaves = (o: Record<string, unknown>, prefix = ""): string[] =>
  Object.entries(o).flatMap(([k, v]) => (isObject(v) && Object.keys(v).length > 0 ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`]));

/** Two cases' fields together, objects merged field by field. */
function merged(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(v) && isObject(out[k]) ? merged(out[k], v) : v;
  return out;
}

/** Whether two cases spoil the same field (or one inside the other). */
function overlaps(a: BadInput, b: BadInput): boolean {
  return paths(a).some((p) => paths(b).some((q) => p === q || p.startsWith(`${q}.`) || q.startsWith(`${p}.`)));
}

/**
 * What is wrong with a set of check failures against the expected ones: each expected failure must be matched by
 * exactly one reported failure of its property whose reason fits its pattern, and nothing else may be reported.
 * Empty when they agree.
 */
export function mismatches(found: ReadonlyArray<{ property?: string; reason: string }>, expected: readonly Expected[]): string[] {
  const left = [...found];
  const problems: string[] = [];
  for (const e of expected) {
    const at = left.findIndex((f) => f.property === e.property && e.reason.test(f.reason));
    if (at < 0) problems.push(`missing ${e.property}: ${e.reason}`);
    else left.splice(at, 1);
  }
  return [...problems, ...left.map((f) => `unexpected ${f.property}: ${f.reason}`)];
}
