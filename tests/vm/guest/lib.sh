# SPDX-License-Identifier: BSD-2-Clause
#
# Shared helpers of the guest stages (bash, sourced inside the L1 chroot).
#
# Results: every check appends one line to $RESULTS, "ok - DESC" or
# "not ok - DESC", with "# ..." diagnostics; the host numbers them and
# prints them as its TAP stream. The same lines also go to stdout, which
# main.sh keeps in logs/STAGE.log next to every command's full output.
#
# Processes: helpers and clients started here are remembered by PID and
# killed (by PID) when the stage exits, whatever happened.

set -u

RUN=${PRH_RUN:?}
RESULTS=$RUN/results.tap
LOGS=$RUN/logs
BIN=$RUN/bin
OURS=$BIN/qemu-pr-helper
CLIENT=$BIN/prh-client
QEMU_HELPER=/usr/bin/qemu-pr-helper
SOCKS=/run/prh
mkdir -p "$SOCKS" "$LOGS"

# shellcheck source=/dev/null
. "$RUN/guest/lio.sh"
# The devices made by the lio stage (lio_make_set's variables).
if [ -f "$RUN/lio.env" ]; then
	# shellcheck source=/dev/null
	. "$RUN/lio.env"
fi

STARTED=""
cleanup_started() {
	local p
	for p in $STARTED; do
		kill -KILL "$p" 2>/dev/null
	done
}
trap cleanup_started EXIT

# ---- TAP ----------------------------------------------------------------

diag() {
	local line
	printf '%s\n' "$*" | while IFS= read -r line; do
		echo "# $line" | tee -a "$RESULTS"
	done
}
FAILED=0
ok() { echo "ok - $*" | tee -a "$RESULTS"; }
not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $*" | tee -a "$RESULTS"
}

# finish: the stage's exit status, 1 if any check failed.
finish() { exit $((FAILED > 0)); }

# check, is, contains, lacks (tests/lib/checks.sh, copied here by run.sh)
# shellcheck source=/dev/null
. "$RUN/guest/checks.sh"

# ---- time ---------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# scaled SECONDS: a time limit for this machine: SECONDS (what suffices
# several times over on the machine the suite was written on, at half
# speed) times the speed factor main.sh measured (PRH_SCALE_PCT, >= 100).
# Limits only bound hangs; no check depends on them.
scaled() { echo $(($1 * ${PRH_SCALE_PCT:-100} / 100)); }

# ---- helpers ------------------------------------------------------------

# start_helper VAR NAME BINARY SOCK [ARG...]: run a helper in the
# foreground (in the background of this shell) with stderr in
# $LOGS/NAME.err; its PID goes into VAR. Waits until it answers.
start_helper() {
	local var=$1 name=$2 bin=$3 sock=$4 pid
	shift 4
	rm -f "$sock"
	"$bin" -k "$sock" "$@" 2>>"$LOGS/$name.err" &
	pid=$!
	STARTED="$STARTED $pid"
	printf -v "$var" '%s' "$pid"
	wait_socket "$sock"
}

# wait_socket SOCK [SECONDS]: until a helper completes the feature exchange
# (SECONDS, default 60, scaled to the machine's speed).
wait_socket() {
	local tries=$(($(scaled "${2:-60}") * 10))
	while ! "$CLIENT" -k "$1" -t 1000 handshake >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && return 1
		sleep 0.1
	done
}

# alive PID: running and not a zombie.
alive() {
	local state
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

# wait_exit PID SECONDS: wait for our child PID to exit; its status goes
# into EXIT_STATUS ("timeout" if it did not exit in SECONDS, scaled to the
# machine's speed).
wait_exit() {
	local tries=$(($(scaled "$2") * 10))
	while alive "$1"; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			EXIT_STATUS=timeout
			return 1
		fi
		sleep 0.1
	done
	wait "$1" 2>/dev/null
	EXIT_STATUS=$?
}

# gone PID SECONDS: wait for any process (not only a child) to end; 1 if it
# is still there after SECONDS (scaled to the machine's speed).
gone() {
	local tries=$(($(scaled "$2") * 10))
	while alive "$1"; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && return 1
		sleep 0.1
	done
}

# stop_helper PID: SIGTERM and wait (status in EXIT_STATUS).
stop_helper() {
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 60 || kill -KILL "$1" 2>/dev/null
}

# ---- the protocol client ------------------------------------------------
#
# Under TCG every process costs tens of milliseconds, so replies are parsed
# with bash builtins only, into variables the checks use directly.

# pr SOCK ARG...: one prh-client call; its output in OUT, exit status in
# RC, and parsed (see parse_reply). Every call is logged with its output.
# N_PR counts the calls.
N_PR=0
pr() {
	local sock=$1
	shift
	N_PR=$((N_PR + 1))
	OUT=$("$CLIENT" -k "$sock" -t 20000 "$@" 2>&1)
	RC=$?
	{
		echo "\$ prh-client $* (exit $RC)"
		printf '%s\n' "$OUT"
	} >&2
	parse_reply
}

# parse_reply: from OUT, prh-client's reply lines, set
#   R_STATUS "0x02"   R_SIZE "0"   R_SENSE "70 00 ..." (96 bytes)
#   R_TRIPLE "5/24/00" (decoded sense, empty if none)   R_PAYLOAD "00 ..."
#   R_GEN "0x00000002"   R_KEYS "1111 2222" (sorted, leading zeros cut)
#   R_RESV "key=1111 scope=0 type=3" or "none" (READ RESERVATION)
#   R_RESPONSE "OK" (virtio-scsi response, only as a guest: gpr)
parse_reply() {
	local line k keys=() v
	R_STATUS="" R_SIZE="" R_SENSE="" R_TRIPLE="" R_PAYLOAD="" R_GEN="" R_KEYS="" R_RESV=none
	R_RESPONSE=""
	while IFS= read -r line; do
		case $line in
		"status: "*) v=${line#status: }; R_STATUS=${v%% *} ;;
		"size: "*) R_SIZE=${line#size: } ;;
		"sense: "*) R_SENSE=${line#sense: } ;;
		"sense key: 0x"*)
			if [[ $line =~ ^sense\ key:\ 0x(.)\ asc:\ 0x(..)\ ascq:\ 0x(..) ]]; then
				R_TRIPLE=${BASH_REMATCH[1]}/${BASH_REMATCH[2]}/${BASH_REMATCH[3]}
			fi
			;;
		"payload: "*) R_PAYLOAD=${line#payload: } ;;
		"response: "*) v=${line#response: }; R_RESPONSE=${v#* } ;;
		"generation: "*) R_GEN=${line#generation: } ;;
		"key: 0x"*)
			k=${line#key: 0x}
			k=${k#"${k%%[!0]*}"}
			keys+=("${k:-0}")
			;;
		"reservation key: 0x"*)
			k=${line#reservation key: 0x}
			k=${k#"${k%%[!0]*}"}
			R_RESV="key=${k:-0}"
			;;
		"scope: "*)
			[[ $line =~ ^scope:\ ([0-9]+)\ type:\ ([0-9]+) ]] &&
				R_RESV="$R_RESV scope=${BASH_REMATCH[1]} type=${BASH_REMATCH[2]}"
			;;
		esac
	done <<<"$OUT"
	if [ "${#keys[@]}" -gt 0 ]; then
		# A handful of keys: a simple insertion into sorted order.
		local sorted=() i
		for k in "${keys[@]}"; do
			for ((i = ${#sorted[@]}; i > 0; i--)); do
				[[ ${sorted[i - 1]} > $k ]] || break
				sorted[i]=${sorted[i - 1]}
			done
			sorted[i]=$k
		done
		R_KEYS="${sorted[*]}"
	fi
}

# expect DESC STATUS [K/AA/QQ]: the last reply came, with this status (and
# sense), and as a guest (gpr) with virtio-scsi response OK; prints the
# reply on failure.
expect() {
	local desc=$1 want=$2 want_sense=${3:-}
	if [ "$RC" -eq 0 ] && [ "$R_STATUS" = "$want" ] &&
		{ [ -z "$R_RESPONSE" ] || [ "$R_RESPONSE" = OK ]; } &&
		{ [ -z "$want_sense" ] || [ "$R_TRIPLE" = "$want_sense" ]; }; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "want status $want${want_sense:+ sense $want_sense}; client exit $RC, reply:"
		diag "$OUT"
	fi
}

# hex_zeros N: N zero bytes as " 00 00 ..." (prh-client's hex format).
hex_zeros() {
	local i z=""
	for ((i = 0; i < $1; i++)); do z="$z 00"; done
	printf '%s' "$z"
}

# ---- QEMU as the client, without a guest OS --------------------------------
#
# QEMU runs stopped (-S, nothing boots) with its qtest socket open; prh-client
# --qtest plays the guest's virtio-scsi driver (src/client/vscsi.c), so each
# PR command takes QEMU's real path: virtio-scsi, scsi-block or scsi-generic,
# file-posix, the pr-manager-helper client, the helper. Its QMP monitor is a
# pair of FIFOs (QEMU's pipe chardev), read here with bash builtins.

# qemu_start NAME HELPER-SOCK DISK...: start QEMU NAME with pr-manager-helper
# "pr0" on HELPER-SOCK and one disk per DISK, the Nth at SCSI target N.
# DISK is KIND:PATH[:ro] with KIND block (scsi-block) or generic
# (scsi-generic). Sets QPID (its pid), QT (its qtest socket) and QMP (the
# FIFOs' base name); stderr goes to $LOGS/NAME.qemu. Waits until the qtest
# socket answers and returns 1 if QEMU does not start.
qemu_start() {
	local name=$1 hsock=$2 spec kind path ro n=0 args=()
	shift 2
	for spec in "$@"; do
		n=$((n + 1))
		kind=${spec%%:*} path=${spec#*:} ro=off
		case $path in *:ro) path=${path%:ro} ro=on ;; esac
		args+=(-blockdev "node-name=d$n,driver=host_device,filename=$path,pr-manager=pr0,locking=off,read-only=$ro"
			-device "scsi-$kind,drive=d$n,bus=scsi0.0,scsi-id=$n,lun=0")
	done
	QT=$SOCKS/$name.qtest
	QMP=/tmp/$name.qmp
	rm -f "$QT" "$QMP.in" "$QMP.out"
	mkfifo "$QMP.in" "$QMP.out"
	qemu-system-x86_64 -M pc -accel tcg -S -m 128 -nodefaults -display none \
		-qtest "unix:$QT,server=on,wait=off" -qtest-log none \
		-chardev "pipe,id=qmp,path=$QMP" -mon chardev=qmp,mode=control \
		-object "pr-manager-helper,id=pr0,path=$hsock" \
		-device virtio-scsi-pci,id=scsi0 "${args[@]}" \
		</dev/null >"$LOGS/$name.qemu" 2>&1 &
	QPID=$!
	STARTED="$STARTED $QPID"
	# init connects as soon as the socket exists (prh-client waits for it).
	if ! "$CLIENT" --qtest "$QT" -t 60000 init >"$LOGS/$name.init" 2>&1; then
		diag "QEMU $name did not start: $(cat "$LOGS/$name.init" "$LOGS/$name.qemu")"
		return 1
	fi
	QINIT=$(cat "$LOGS/$name.init")
}

# gpr TARGET ARG...: one PR command as the guest, to the disk at TARGET of
# the QEMU qemu_start made last; parsed like pr. Bounded by a long timeout:
# with the helper down QEMU itself retries for about 5 s. N_GPR counts the
# calls.
N_GPR=0
gpr() {
	local target=$1
	shift
	N_GPR=$((N_GPR + 1))
	OUT=$("$CLIENT" --qtest "$QT" --target "$target" -t 120000 "$@" 2>&1)
	RC=$?
	{
		echo "\$ prh-client --qtest ... --target $target $* (exit $RC)"
		printf '%s\n' "$OUT"
	} >&2
	parse_reply
}

# qmp_open: QEMU's QMP monitor (QMP's FIFOs) on fds 7 and 8, capabilities
# negotiated. Events read meanwhile collect in QMP_EVENTS, one per line.
qmp_open() {
	local line
	exec 7<>"$QMP.out" 8<>"$QMP.in"
	QMP_EVENTS=""
	while IFS= read -r -t 60 -u 7 line; do
		case $line in *'"QMP"'*) break ;; esac
	done
	qmp '{"execute":"qmp_capabilities"}'
}

# qmp JSON: one command; its answer line in QMP_REPLY (1 if none came).
qmp() {
	local line
	printf '%s\n' "$1" >&8
	echo "qmp> $1" >&2
	QMP_REPLY="(no answer)"
	while IFS= read -r -t 60 -u 7 line; do
		line=${line%$'\r'}
		echo "qmp< $line" >&2
		case $line in
		*'"event"'*) QMP_EVENTS="$QMP_EVENTS$line"$'\n' ;;
		'{"return"'* | '{"error"'*)
			QMP_REPLY=$line
			return 0
			;;
		esac
	done
	return 1
}

# pr_manager_events: the PR_MANAGER_STATUS_CHANGED events so far, as
# "connected=true connected=false ...", and forget them.
pr_manager_events() {
	local line out=""
	qmp '{"execute":"query-status"}'
	while IFS= read -r line; do
		case $line in
		*PR_MANAGER_STATUS_CHANGED*'"connected": true'*) out="$out connected=true" ;;
		*PR_MANAGER_STATUS_CHANGED*'"connected": false'*) out="$out connected=false" ;;
		esac
	done <<<"$QMP_EVENTS"
	QMP_EVENTS=""
	PRM_EVENTS=${out# }
}

# qemu_quit: QMP quit, then wait for QEMU (status in EXIT_STATUS).
qemu_quit() {
	qmp '{"execute":"quit"}'
	wait_exit "$QPID" 60 || kill -KILL "$QPID" 2>/dev/null
	exec 7>&- 8>&-
}

# ---- the nested guest's agent (l2-agent.sh) -------------------------------
#
# A stage that boots the nested guest (l2_start) opens the agent's serial
# port as fd 5 (its output) and fd 6 (its input), and sets AGENT_PID to a
# process that lives as long as that guest's QEMU.

# l2_start NAME HELPER-SOCK DISK: boot the nested guest (t_guest.sh says how
# its boot is made cheap) with DISK, a block node of this guest, as its
# scsi-block disk /dev/sda, whose PR commands go to pr-manager-helper "pr0"
# on HELPER-SOCK. Its console goes to $LOGS/NAME-console.log, its QEMU's
# stderr to $LOGS/NAME-qemu.log. Sets L2_PID (timeout's pid, which lives as
# long as QEMU), L2_QPID (QEMU's), BOOT_LIMIT; returns 1 if the agent does
# not answer within BOOT_LIMIT (800 s scaled to the machine's speed).
l2_start() {
	local name=$1 sock=$2 disk=$3 ctl=/tmp/$1ctl tsc_khz lpj append
	L2_NAME=$name
	if [ -z "${L2_VMLINUX:-}" ]; then
		# shellcheck source=/dev/null
		. "$RUN/vm.env"
	fi
	# The outer guest's calibration, so the nested kernel skips its own.
	tsc_khz=$(dmesg | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9]*\)\.\([0-9]\{3\}\) MHz.*/\1\2/p' | tail -n 1)
	[ -n "$tsc_khz" ] ||
		tsc_khz=$(dmesg | sed -n 's/.*tsc: Detected \([0-9]*\)\.\([0-9]\{3\}\) MHz processor.*/\1\2/p' | tail -n 1)
	lpj=$(dmesg | sed -n 's/.*(lpj=\([0-9]*\)).*/\1/p' | head -n 1)
	append="console=ttyS0 quiet panic=-1 PRH_MODE=l2 acpi=off pci=nomsi mitigations=off"
	append="$append lsm=capability audit=0 cryptomgr.notests nowatchdog nosoftlockup"
	append="$append tsc=reliable no_timer_check scsi_mod.scan=manual"
	append="$append${tsc_khz:+ tsc_early_khz=$tsc_khz}${lpj:+ lpj=$lpj}"
	# The images from tmpfs: QEMU reads 50 MB of vmlinux, slowly over 9p.
	[ -f /tmp/l2-vmlinux ] || cp "$L2_VMLINUX" /tmp/l2-vmlinux
	[ -f /tmp/l2.cpio.gz ] || cp "$L2_INITRD" /tmp/l2.cpio.gz
	BOOT_LIMIT=$(scaled 800)
	diag "nested guest: boot bound ${BOOT_LIMIT} s (800 s at this machine's speed factor ${PRH_SCALE_PCT:-100}%)"

	# -M pc (microvm hangs nested: no usable clock source for calibration),
	# 1 vCPU, 256 MiB; ttyS0 is its console, ttyS1 the agent's.
	rm -f "$ctl.in" "$ctl.out"
	mkfifo "$ctl.in" "$ctl.out"
	timeout -k 5 "$((BOOT_LIMIT + $(scaled 300)))" qemu-system-x86_64 -M pc -accel tcg -cpu max \
		-smp 1 -m 256 -nodefaults -display none -no-reboot \
		-serial "file:$LOGS/$name-console.log" -serial "pipe:$ctl" \
		-kernel /tmp/l2-vmlinux -initrd /tmp/l2.cpio.gz -append "$append" \
		-object "pr-manager-helper,id=pr0,path=$sock" \
		-blockdev "node-name=disk0,driver=host_device,filename=$disk,pr-manager=pr0" \
		-device virtio-scsi-pci,id=scsi0 -device scsi-block,drive=disk0,bus=scsi0.0 \
		</dev/null >"$LOGS/$name-qemu.log" 2>&1 &
	L2_PID=$!
	STARTED="$STARTED $L2_PID"
	# Read-write opens of the FIFOs never block, whatever QEMU is doing.
	exec 5<>"$ctl.out" 6<>"$ctl.in"
	AGENT_PID=$L2_PID
	l2_read_until "@@ready" "$BOOT_LIMIT" || return 1
	# The QEMU process is timeout's child.
	L2_QPID=$(pgrep -P "$L2_PID" qemu-system-x86 | head -n 1)
}

# l2_read_until PREFIX SECONDS: read agent lines into L2_OUT until one
# starts with PREFIX (left in L2_LAST); 1 on timeout or QEMU's exit.
l2_read_until() {
	local deadline=$((EPOCHSECONDS + $2)) line
	L2_OUT=""
	L2_LAST=""
	while [ "$EPOCHSECONDS" -lt "$deadline" ]; do
		if IFS= read -r -t 5 -u 5 line; then
			case $line in
			"$1"*) L2_LAST=$line; return 0 ;;
			esac
			L2_OUT="$L2_OUT$line
"
		elif ! alive "$AGENT_PID"; then
			return 1
		fi
	done
	return 1
}

# l2 DESC COMMAND: run COMMAND in the nested guest; passes if it exits 0.
# Its output is left in L2_OUT.
l2() {
	local desc=$1 t
	t=$(now_ms)
	printf '%s\n' "$2" >&6
	echo "l2\$ $2" >&2
	if ! l2_read_until "@@rc " "$(scaled 120)"; then
		not_ok "$desc (no answer from the nested guest)"
		printf '%s' "$L2_OUT" >&2
		return 1
	fi
	printf '%s(exit %s, %d ms)\n' "$L2_OUT" "${L2_LAST#@@rc }" $(($(now_ms) - t)) >&2
	if [ "${L2_LAST#@@rc }" = 0 ]; then
		ok "$desc"
	else
		not_ok "$desc (exit status ${L2_LAST#@@rc })"
		diag "$L2_OUT"
	fi
}

# tail_of FILE N: its last N lines without carriage returns, or "(empty)".
tail_of() {
	if [ -s "$1" ]; then
		tail -n "$2" "$1" | tr -d '\r'
	else
		echo "(empty)"
	fi
}

# l2_diagnose: for a failure, what the nested guest and its QEMU said:
# QEMU's stderr, the end of the (quiet) console, and, if the agent still
# answers, the guest kernel's last messages (console output is too slow
# nested to print them all the time).
l2_diagnose() {
	local n=${L2_NAME:-l2}
	diag "nested QEMU's stderr ($LOGS/$n-qemu.log):"
	diag "$(tail_of "$LOGS/$n-qemu.log" 10)"
	diag "nested guest's console ($LOGS/$n-console.log):"
	diag "$(tail_of "$LOGS/$n-console.log" 20)"
	if alive "$AGENT_PID"; then
		printf 'dmesg | tail -n 40\n' >&6
		if l2_read_until "@@rc " "$(scaled 120)"; then
			diag "nested guest's kernel messages (dmesg | tail -n 40):"
			diag "$L2_OUT"
		else
			diag "(the nested guest's agent does not answer; no dmesg)"
		fi
	fi
}

# ---- libvirt's managed mode (t_libvirt.sh says why it is set up so) ----------

# libvirt_start W NAME: libvirtd with our helper as its pr_helper, for a
# stage already in a private mount namespace (unshare -m): tmpfs over
# /etc/libvirt (a copy of the host's), /var/lib, /var/log and /var/cache,
# the libvirt-qemu user, qemu.conf; W is a scratch directory, the daemon's
# log goes to $LOGS/NAME.log. The helper libvirt starts is our binary
# through a wrapper that adds a trace ($W/helper.trace) and records its
# arguments ($W/helper.args); it execs, so the process libvirt starts and
# tracks is the helper itself. Sets LVD (libvirtd's pid) and QEMU_UID;
# waits (bounded) for libvirtd's socket.
libvirt_start() {
	local w=$1 name=$2 d tries
	mkdir -p "$w"
	cp -a /etc/libvirt "$w/etc-libvirt"
	for d in /etc/libvirt /var/lib /var/log /var/cache; do
		mount -t tmpfs tmpfs "$d"
	done
	cp -a "$w/etc-libvirt/." /etc/libvirt/
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
	cat >"$w/prh-wrap" <<EOW
#!/bin/sh
echo "\$*" >>$w/helper.args
exec $OURS -v -T 'prh_*,file=$w/helper.trace' "\$@"
EOW
	chmod 0755 "$w/prh-wrap"
	cat >/etc/libvirt/qemu.conf <<EOC
pr_helper = "$w/prh-wrap"
stdio_handler = "file"
cgroup_controllers = [ ]
security_driver = "none"
namespaces = [ ]
EOC
	libvirtd >"$LOGS/$name.log" 2>&1 &
	LVD=$!
	STARTED="$STARTED $LVD"
	tries=$(scaled 600)
	while [ ! -S /run/libvirt/libvirt-sock ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
}

# libvirt_domain_xml FILE NAME DISK: a domain without a guest OS (it is
# created paused) whose disk at virtio-scsi target 1 is the block node DISK
# as <disk device='lun'> with managed reservations, and whose QEMU opens a
# qtest socket, $(dirname FILE)/qt/qtest.sock (set as QT), for prh-client
# --qtest (gpr).
libvirt_domain_xml() {
	local qtd
	qtd=$(dirname "$1")/qt
	# Where libvirt-qemu can create it.
	mkdir -p "$qtd"
	chmod 0777 "$qtd"
	QT=$qtd/qtest.sock
	cat >"$1" <<EOD
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$2</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='block' device='lun'>
      <driver name='qemu' type='raw'/>
      <source dev='$3'>
        <reservations managed='yes'/>
      </source>
      <target dev='sda' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='1' unit='0'/>
    </disk>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-qtest'/>
    <qemu:arg value='unix:$QT,server=on,wait=off'/>
    <qemu:arg value='-qtest-log'/>
    <qemu:arg value='none'/>
  </qemu:commandline>
</domain>
EOD
}

virsh_() { virsh -q -c qemu:///system "$@"; }
# monitor JSON: a QMP command to domain $DOM's QEMU, through virsh.
monitor() { virsh_ qemu-monitor-command "$DOM" "$1" 2>&1; }
