# SPDX-License-Identifier: BSD-2-Clause
# prh-client --qtest, the guest driver the VM suite uses to make QEMU the
# helper's client without a guest OS (src/client/qtest.c, vscsi.c), checked
# here against a real QEMU on this host: emulated disks (scsi-hd on a file,
# no persistent reservations, so QEMU itself answers PR commands with
# 05/20/00), the controller set up once and reused by later processes, the
# ring past its size, missing targets, and the usage rules. The PR path
# through QEMU to a helper and a LUN is tested in the VM suite (qemu stage).
. "$(dirname "$0")/lib.sh"
require_root

command -v qemu-system-x86_64 >/dev/null ||
	{ not_ok "qemu-system-x86_64 is installed (scripts/setup.sh check)"; done_testing; }

Q=$T/qtest.sock
truncate -s 1M "$T/disk.img"
qemu-system-x86_64 -M pc -accel tcg -S -m 128 -nodefaults -display none \
	-qtest "unix:$Q,server=on,wait=off" -qtest-log none \
	-device virtio-scsi-pci,id=scsi0 \
	-blockdev "node-name=d3,driver=file,filename=$T/disk.img,locking=off" \
	-device scsi-hd,drive=d3,bus=scsi0.0,scsi-id=3,lun=0 \
	-blockdev "node-name=d5,driver=file,filename=$T/disk.img,locking=off,read-only=on" \
	-device scsi-hd,drive=d5,bus=scsi0.0,scsi-id=5,lun=0 \
	</dev/null >"$T/qemu.log" 2>&1 &
QEMU=$!
track "$QEMU"
qc() { "$CLIENT" --qtest "$Q" -t 60000 "$@"; }

out=$(qc --target 3 read-keys 2>&1)
is "before init: refused, exit 1" "$?" 1
contains "  with the reason" "$out" "run the 'init' command first"

out=$(qc init 2>&1)
is "init: exit 0" "$?" 0
contains "  finds the controller (legacy virtio-scsi, 256 entries, 32-byte CDBs, 96 sense bytes)" \
	"$out" "queue size 256, cdb 32, sense 96"
contains "  the disk at target 3, QEMU's power-on unit attention consumed" \
	"$out" "target 3: response OK status 0x02 sense 6/29/00"
contains "  and the one at target 5" "$out" "target 5: response OK status 0x02 sense 6/29/00"
is "  and no others" "$(printf '%s\n' "$out" | grep -c '^target ')" 2

out=$(qc --target 3 read-keys 2>&1)
is "PR IN to an emulated disk (another process, same controller): exit 0" "$?" 0
contains "  virtio-scsi response OK" "$out" "response: 0x00 OK"
contains "  QEMU's own answer: CHECK CONDITION, invalid opcode" "$out" \
	"sense key: 0x5 asc: 0x20 ascq: 0x00"
contains "  with 18 sense bytes" "$out" "sense length: 18"
out=$(qc --target 5 -S 1111 register 2>&1)
contains "PR OUT with a parameter list: the same answer" "$out" "sense key: 0x5 asc: 0x20 ascq: 0x00"
out=$(qc --target 4 read-keys 2>&1)
is "a target with no disk: exit 0" "$?" 0
is "  virtio-scsi BAD_TARGET" "$out" "response: 0x03 BAD_TARGET"
out=$(qc --target 3 -q -n 600 read-keys 2>&1)
is "600 commands on a 256-entry ring: 600 answers" \
	"$(printf '%s\n' "$out" | grep -c '^status: 0x02 CHECK CONDITION')" 600

out=$(qc --target 3 read-keys /dev/null 2>&1)
is "a DEVICE with --qtest: usage error (QEMU holds the device)" "$?" 2
out=$(qc --target 3 -r read-keys 2>&1)
is "--read-only with --qtest: usage error" "$?" 2
out=$(qc --target 3 handshake 2>&1)
is "a command without a guest form: usage error" "$?" 2

stop "$QEMU" TERM
out=$("$CLIENT" --qtest "$Q" -t 2000 --target 3 read-keys 2>&1)
is "QEMU gone: exit 1 (after waiting --timeout for its socket)" "$?" 1
contains "  with the reason" "$out" "connect to QEMU's qtest socket"
done_testing
