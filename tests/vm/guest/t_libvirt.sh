#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Stage "libvirt": libvirt's managed mode runs our helper. libvirtd (the
# host's, Debian 12's 9.0) is configured with pr_helper naming our binary,
# and starts a transient domain whose disk is path1 of LUN "LV" as a
# <disk device='lun'> with <reservations managed='yes'/>: libvirt itself
# launches the helper (its own command line, daemonizing, pid file and
# cgroup/namespace placement), gives QEMU the socket, and stops the helper
# with the domain. QEMU runs as an unprivileged user (libvirt-qemu), so
# every PR command the nested guest's sg_persist sends must go through the
# helper; path2 verifies the LUN's state from outside.
#
# Everything libvirt writes lives in a private mount namespace on tmpfs
# (the host's root is read-only here): /etc/libvirt, /var/lib, /var/log,
# /var/cache, and a passwd/group with the libvirt-qemu user that Debian's
# libvirt-daemon-system would create. No private mount namespace for QEMU
# (namespaces = [ ]): libvirt would move the helper into it with setns(),
# which resets a process's root to the namespace's, and this guest's
# userland is a chroot (init.sh), so the helper would land outside it. On a
# real host the namespace changes nothing for the helper, which opens no
# device itself.

. "$PRH_RUN/guest/lib.sh"
# shellcheck source=/dev/null
. "$RUN/vm.env"

if [ -z "${PRH_LV_NS:-}" ]; then
	PRH_LV_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

W=/tmp/lv
KEY=1ab5
DOM=prh-lv
mkdir -p "$W"
cp -a /etc/libvirt "$W/etc-libvirt"
for d in /etc/libvirt /var/lib /var/log /var/cache; do
	mount -t tmpfs tmpfs "$d"
done
cp -a "$W/etc-libvirt/." /etc/libvirt/
if ! getent passwd libvirt-qemu >/dev/null; then
	mkdir -p /var/lib/libvirt
	cp /etc/passwd /etc/group /var/lib/libvirt/
	echo "libvirt-qemu:x:64055:64055:libvirt qemu:/var/lib/libvirt:/usr/sbin/nologin" \
		>>/var/lib/libvirt/passwd
	echo "libvirt-qemu:x:64055:" >>/var/lib/libvirt/group
	mount --bind /var/lib/libvirt/passwd /etc/passwd
	mount --bind /var/lib/libvirt/group /etc/group
fi
QEMU_UID=$(id -u libvirt-qemu)

# pr_helper: our binary, through a wrapper that adds a trace (it execs, so
# the process libvirt starts and tracks is the helper itself).
cat >"$W/prh-wrap" <<EOW
#!/bin/sh
echo "\$*" >>$W/helper.args
exec $OURS -v -T 'prh_*,file=$W/helper.trace' "\$@"
EOW
chmod 0755 "$W/prh-wrap"
cat >/etc/libvirt/qemu.conf <<EOC
pr_helper = "$W/prh-wrap"
stdio_handler = "file"
cgroup_controllers = [ ]
security_driver = "none"
namespaces = [ ]
EOC

libvirtd >"$LOGS/libvirtd.log" 2>&1 &
LVD=$!
STARTED="$STARTED $LVD"
tries=300
while [ ! -S /run/libvirt/libvirt-sock ] && [ "$tries" -gt 0 ]; do
	sleep 0.1
	tries=$((tries - 1))
done
check "libvirtd runs and listens" test -S /run/libvirt/libvirt-sock || finish

# The nested guest's files where libvirt may give them to libvirt-qemu.
cp "$VMLINUX" "$W/vmlinux"
cp "$L2_INITRD" "$W/l2.cpio.gz"
CTL=$W/ctl
mkfifo "$CTL.in" "$CTL.out"
cat >"$W/dom.xml" <<EOD
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$W/vmlinux</kernel>
    <initrd>$W/l2.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 PRH_MODE=l2</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='block' device='lun'>
      <driver name='qemu' type='raw'/>
      <source dev='$LV_P1_BLK'>
        <reservations managed='yes'/>
      </source>
      <target dev='sda' bus='scsi'/>
    </disk>
    <serial type='file'><source path='$W/console.log'/><target port='0'/></serial>
    <serial type='pipe'><source path='$CTL'/><target port='1'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOD

virsh_() { virsh -q -c qemu:///system "$@"; }

t_boot=$(now_ms)
exec 5<>"$CTL.out" 6<>"$CTL.in"
if virsh_ create "$W/dom.xml" >"$W/create.out" 2>&1; then
	ok "virsh create: libvirt starts the domain ($(($(now_ms) - t_boot)) ms, capability probing included)"
else
	not_ok "virsh create: libvirt starts the domain"
	diag "$(cat "$W/create.out")"
	diag "$(tail -n 20 "$LOGS/libvirtd.log")"
	cp "/var/log/libvirt/qemu/$DOM.log" "$LOGS/libvirt-qemu.log" 2>/dev/null
	finish
fi
cp "/var/log/libvirt/qemu/$DOM.log" "$LOGS/libvirt-qemu.log" 2>/dev/null
QPID=$(cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null)
AGENT_PID=$QPID

# The helper libvirt started: its pid file, its binary, its arguments.
HPID=$(cat /run/libvirt/qemu/*"$DOM"-pr-helper0.pid 2>/dev/null)
check "libvirt recorded a pr-helper pid ($HPID)" test -n "$HPID"
is "  that process runs our binary" "$(readlink "/proc/$HPID/exe" 2>/dev/null)" "$(readlink -f "$OURS")"
args=$(cat "$W/helper.args" 2>/dev/null)
contains "  started by libvirt with -k and a socket in the domain's directory" \
	"$args" "-k /var/lib/libvirt/qemu/domain-"
is "  with CAP_SYS_RAWIO only" "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$HPID/status")" \
	0000000000020000
is "  QEMU runs as libvirt-qemu" "$(stat -c %u "/proc/$QPID" 2>/dev/null)" "$QEMU_UID"

if ! l2_read_until "@@ready" 300; then
	not_ok "the domain boots and its agent answers"
	diag "console: $(tail -n 15 "$W/console.log" 2>/dev/null)"
	virsh_ destroy "$DOM" >/dev/null 2>&1
	finish
fi
ok "the domain boots and its agent answers ($(($(now_ms) - t_boot)) ms)"

p2_keys() { sg_persist --in --read-keys "$LV_P2_BLK" 2>&1; }
p2_resv() { sg_persist --in --read-reservation "$LV_P2_SG" 2>&1; }

l2 "domain: REGISTER 0x$KEY" "sg_persist --out --register --param-sark=0x$KEY /dev/sda"
l2 "domain: RESERVE Exclusive Access" \
	"sg_persist --out --reserve --param-rk=0x$KEY --prout-type=3 /dev/sda"
l2 "domain: READ RESERVATION" "sg_persist --in --read-reservation /dev/sda"
contains "  it holds the reservation" "$L2_OUT" "Key=0x$KEY"
contains "path2 sees the domain's key" "$(p2_keys)" "0x$KEY"
contains "path2 sees its Exclusive Access reservation" "$(p2_resv)" "Exclusive Access"
# QEMU's connection in the helper's trace, with QEMU's credentials.
check "the helper's trace shows QEMU (pid $QPID, uid $QEMU_UID) connecting" \
	grep -q "prh_conn_accept fd=[0-9]* pid=$QPID uid=$QEMU_UID " "$W/helper.trace"
n=$(grep -c 'prh_request_executed .*opcode=0x5[ef] .*status=0x00' "$W/helper.trace")
is "  and running the domain's 3 PR commands, all GOOD" "$n" 3
l2 "domain: RELEASE" "sg_persist --out --release --param-rk=0x$KEY --prout-type=3 /dev/sda"
l2 "domain: unregister" "sg_persist --out --register --param-rk=0x$KEY --param-sark=0 /dev/sda"
contains "path2 sees no keys" "$(p2_keys)" "there are NO registered reservation keys"

# Power off: libvirt destroys the domain and stops the helper with it.
printf '@@quit\n' >&6
tries=600
while alive "$QPID" && [ "$tries" -gt 0 ]; do sleep 0.1; tries=$((tries - 1)); done
check "the domain powers off" test "$tries" -gt 0
tries=200
while alive "$HPID" && [ "$tries" -gt 0 ]; do sleep 0.1; tries=$((tries - 1)); done
check "libvirt stopped the helper with the domain" test "$tries" -gt 0
is "no domain is left" "$(virsh_ list --all --name | tr -d '\n')" ""
check "the helper's trace ends with the connection's close" \
	grep -q "prh_conn_close" "$W/helper.trace"
cp "$W/helper.trace" "$LOGS/libvirt-helper.trace" 2>/dev/null
cp "$W/console.log" "$LOGS/libvirt-console.log" 2>/dev/null
diag "libvirt domain: $(($(now_ms) - t_boot)) ms from virsh create to the helper's exit"

kill -TERM "$LVD"
wait_exit "$LVD" 30
is "libvirtd stops on SIGTERM" "$EXIT_STATUS" 0
finish
