#!/usr/bin/env bash
# Builds the disposable Debian 12 test host once and caches it outside the repository, keyed by a hash of
# this recipe. Prints the cache directory on the last line of stdout. A second run with an unchanged
# recipe does nothing but print it.
#
# The cache directory holds:
#   root.img                       ext4 root filesystem (kept pristine; each boot uses a qcow2 overlay)
#   vmlinuz, initrd.img            the guest's kernel and initramfs, booted directly by QEMU
#   client_key, client_key.pub     the key that root and "tester" accept
#   host_ed25519.pub, host_ecdsa.pub  the guest's host keys, generated here so tests can pin them
#   tester.password                the password of the ordinary user "tester" (passwordless sudo)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${PULUMI_LVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-lvm}
recipe_hash=$(sha256sum "$here/build-image.sh" | cut -c1-16)
out="$cache_root/test-host-$recipe_hash"

if [ -f "$out/ready" ]; then
  echo "$out"
  exit 0
fi

for tool in mmdebstrap mkfs.ext4 ssh-keygen qemu-system-x86_64 qemu-img; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run .ci/run or apt-get install qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client" >&2; exit 1; }
done

start=$(date +%s)
mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/tree"

echo "building test host image in $work (about 2 minutes)..." >&2
# No mirror argument: mmdebstrap uses this machine's own apt sources.
mmdebstrap --quiet --variant=apt \
  --include=linux-image-amd64,lvm2,qemu-utils,thin-provisioning-tools,openssh-server,systemd-sysv,udev,iproute2,ifupdown,isc-dhcp-client,sudo,util-linux,e2fsprogs,kmod \
  bookworm "$tree" >&2

# Host keys: made here, so the tests know them before the first boot and can pin them.
rm -f "$tree"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C test-host -f "$tree/etc/ssh/ssh_host_ed25519_key"
ssh-keygen -q -t ecdsa -b 256 -N '' -C test-host -f "$tree/etc/ssh/ssh_host_ecdsa_key"
cp "$tree/etc/ssh/ssh_host_ed25519_key.pub" "$work/host_ed25519.pub"
cp "$tree/etc/ssh/ssh_host_ecdsa_key.pub" "$work/host_ecdsa.pub"

# Client key and users: root by key only; "tester" by key or password, with passwordless sudo.
ssh-keygen -q -t ed25519 -N '' -C pulumi-lvm-tests -f "$work/client_key"
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" > "$work/tester.password"
install -d -m 700 "$tree/root/.ssh"
install -m 600 "$work/client_key.pub" "$tree/root/.ssh/authorized_keys"
chroot "$tree" useradd --create-home --shell /bin/bash tester
printf 'tester:%s\n' "$password" | chroot "$tree" chpasswd
install -d -m 700 "$tree/home/tester/.ssh"
install -m 600 "$work/client_key.pub" "$tree/home/tester/.ssh/authorized_keys"
chroot "$tree" chown -R tester:tester /home/tester/.ssh
printf 'tester ALL=(ALL) NOPASSWD:ALL\n' > "$tree/etc/sudoers.d/tester"
chmod 440 "$tree/etc/sudoers.d/tester"

cat > "$tree/etc/ssh/sshd_config.d/test-host.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication yes
KbdInteractiveAuthentication no
UseDNS no
GSSAPIAuthentication no
CONF

# A second sshd on the guest's own loopback, reachable only through the first: the jump-host target.
cat > "$tree/etc/ssh/sshd_inner_config" <<'CONF'
Port 2200
ListenAddress 127.0.0.1
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd_inner.pid
PermitRootLogin prohibit-password
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
cat > "$tree/etc/systemd/system/ssh-inner.service" <<'UNIT'
[Unit]
Description=Second sshd on 127.0.0.1:2200 (jump-host target for tests)
After=ssh.service
[Service]
ExecStartPre=/bin/mkdir -p /run/sshd
ExecStart=/usr/sbin/sshd -D -f /etc/ssh/sshd_inner_config
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
chroot "$tree" systemctl enable ssh.service ssh-inner.service >&2

echo test-host > "$tree/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 test-host\n' > "$tree/etc/hosts"
printf 'auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n' > "$tree/etc/network/interfaces"
printf '/dev/vda / ext4 defaults 0 1\n' > "$tree/etc/fstab"
# Boot faster: nothing here needs these.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer systemd-timesyncd.service; do
  chroot "$tree" systemctl disable "$unit" >/dev/null 2>&1 || true
done
chroot "$tree" systemctl mask serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1 || true

cp "$tree"/boot/vmlinuz-* "$work/vmlinuz"
cp "$tree"/boot/initrd.img-* "$work/initrd.img"
rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
mkfs.ext4 -q -d "$tree" -L root "$work/root.img" 2G
rm -rf "$tree"

echo "$(( $(date +%s) - start ))" > "$work/build-seconds"
touch "$work/ready"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
echo "test host image built in $(cat "$out/build-seconds")s" >&2
echo "$out"
