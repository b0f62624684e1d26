# SPDX-License-Identifier: BSD-2-Clause
# The command line as users type it: help, version, bad options, exit codes.
. "$(dirname "$0")/lib.sh"

out=$("$HELPER" --help 2>"$T/err"); st=$?
is "--help exits 0" "$st" 0
# (argv[0] as given is printed; compare its last part, as wrappers differ)
contains "--help starts with a usage line" "$(echo "$out" | head -n 1)" "qemu-pr-helper [OPTION]..."
for opt in -h, -V, -d, -f, -k, -T, -u, -g, -v, -q, --max-connections; do
	contains "--help lists $opt" "$out" "  $opt" 
done
contains "--help shows the default socket" "$out" "/var/run/qemu-pr-helper.sock"
contains "--help shows the default pid file" "$out" "/var/run/qemu-pr-helper.pid"
is "--help prints nothing on stderr" "$(cat "$T/err")" ""
is "-h is --help" "$("$HELPER" -h)" "$out"

out=$("$HELPER" -V); st=$?
is "-V exits 0" "$st" 0
contains "-V names the program, project and version" "$out" "qemu-pr-helper (static-pr-helper) "
contains "-V names the protocol" "$out" "pr-manager-helper protocol"
is "--version is -V" "$("$HELPER" --version)" "$out"
is "-V -h prints only the version" "$("$HELPER" -V -h)" "$out"

err=$("$HELPER" -x 2>&1 >/dev/null); st=$?
is "unknown short option exits 1" "$st" 1
contains "it is named" "$err" "invalid option -- 'x'"
contains "with a pointer to --help" "$err" "qemu-pr-helper --help' for more information."

err=$("$HELPER" --no-such-option 2>&1 >/dev/null); st=$?
is "unknown long option exits 1" "$st" 1
contains "it is named" "$err" "unrecognized option '--no-such-option'"

err=$("$HELPER" -k 2>&1 >/dev/null); st=$?
is "missing argument exits 1" "$st" 1
contains "it is named" "$err" "option requires an argument -- 'k'"

err=$("$HELPER" -k relative.sock 2>&1 >/dev/null); st=$?
is "relative socket path exits 1" "$st" 1
contains "with QEMU's reason" "$err" "socket path must be absolute"

err=$("$HELPER" -u no-such-user-x 2>&1); st=$?
is "unknown user exits 1" "$st" 1
contains "it is named" "$err" "invalid user 'no-such-user-x'"
err=$("$HELPER" -g no-such-group-x 2>&1); st=$?
is "unknown group exits 1" "$st" 1
contains "it is named" "$err" "invalid group 'no-such-group-x'"

out=$("$HELPER" -T help 2>&1); st=$?
is "-T help exits 0" "$st" 0
for ev in prh_conn_accept prh_conn_close prh_request_decoded prh_request_running prh_request_executed prh_reply_sent; do
	contains "-T help lists $ev" "$out" "$ev"
done
err=$("$HELPER" -T bogus=1 2>&1); st=$?
is "bad -T parameter exits 1" "$st" 1
contains "and says why" "$err" "invalid trace parameter 'bogus'"

err=$("$HELPER" --max-connections=0 2>&1); st=$?
is "--max-connections=0 exits 1" "$st" 1

err=$("$HELPER" -k "/$(printf 'x%.0s' $(seq 1 120))" 2>&1); st=$?
is "socket path over 108 bytes exits 1" "$st" 1
contains "and says why" "$err" "is too long"

# Messages carry the program prefix.
contains "errors are prefixed 'qemu-pr-helper: '" "$err" "qemu-pr-helper: socket path"

done_testing
