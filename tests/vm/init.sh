#!/bin/busybox sh
# SPDX-License-Identifier: BSD-2-Clause
#
# /init of both test guests (busybox sh). The kernel command line passes
# PRH_MODE (and the kernel turns unknown key=value words into environment
# variables for init):
#   PRH_MODE=l1  the outer guest: load the modules, mount the host's root
#                read-only over 9p (tag hostroot) and the run directory
#                read-write (tag run) at /run/vm, chroot into the host root
#                and run /run/vm/guest/main.sh with bash;
#   PRH_MODE=l2  the nested guest: load the modules and run /agent.sh.
# Either way the guest ends itself (off, below), so the VM always exits
# (the command line also has panic=-1 and QEMU -no-reboot).

# (busybox applets are symlinks in the image: mkinitrd.sh)
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# No forks where a builtin does: every process costs about a second in
# the nested guest.
stamp() {
	read -r up rest </proc/uptime
	echo "init: T+$up $*"
}
stamp "start ($PRH_MODE)"
read -r names </modules.names
# shellcheck disable=SC2086 # a list of module names
modprobe -a $names || stamp "modprobe -a $names failed"
# target_core_mod asks for its optional backends through the usermode
# modprobe; there is none here (and none is needed: rd_mcp is built in).
echo /bin/true >/proc/sys/kernel/modprobe
stamp "modules loaded"

# The guest "reboots" to end: QEMU runs with -no-reboot, so it exits (0);
# a power-off needs ACPI, which the nested guest boots without.
off() {
	sync
	stamp "power off"
	reboot -f
}

if [ "$PRH_MODE" = l2 ]; then
	sh /agent.sh
	off
fi

mount -t configfs configfs /sys/kernel/config
# LIO writes its PR metadata file (even without APTPL) from a kworker,
# whose root is this initramfs, not the chroot, and fails the PR OUT if it
# cannot: keep both default database roots writable here.
mkdir -p /var/target/pr /run/target/pr /etc/target

R=/host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot $R; then
	stamp "cannot mount the host root over 9p"
	off
fi
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mount -t configfs configfs $R/sys/kernel/config
mkdir -p $R/dev/shm $R/dev/pts
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd $R/dev/fd
ln -s /proc/self/fd/0 $R/dev/stdin
ln -s /proc/self/fd/1 $R/dev/stdout
ln -s /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs tmpfs $R/dev/shm
mount -t devpts devpts $R/dev/pts
for d in tmp run var/tmp root; do
	mount -t tmpfs tmpfs $R/$d
done
# The run directory goes on the chroot's tmpfs /run, not at its host path:
# the tmpfs mounts above would hide a checkout under /tmp or /root, and
# everything the guest needs from the build is copied into it.
RUN=/run/vm
mkdir -p "$R$RUN"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 run "$R$RUN"; then
	stamp "cannot mount the run directory over 9p"
	off
fi
stamp "host root ready"
chroot $R /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	TERM=dumb LANG=C.UTF-8 PRH_RUN="$RUN" /bin/bash "$RUN/guest/main.sh"
stamp "main.sh exited with status $?"
# Leftovers (a helper stuck in the kernel) may keep it busy: detach.
umount -l "$R$RUN"
off
