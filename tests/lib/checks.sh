# SPDX-License-Identifier: BSD-2-Clause
#
# The checks every shell test uses (sourced; POSIX sh, so that both the
# host's integration tests and the VM guest's bash stages can share it).
# The sourcing library defines how results are reported:
#   ok DESC, not_ok DESC   one result line each
#   diag TEXT              TEXT as "# " comment lines (one per line of TEXT)

# check DESC COMMAND...: passes when the command succeeds.
check() {
	_check_desc=$1
	shift
	if "$@"; then ok "$_check_desc"; else not_ok "$_check_desc"; fi
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "got:  '$2'"
		diag "want: '$3'"
	fi
}

# contains DESC TEXT NEEDLE
contains() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) not_ok "$1"; diag "'$3' not found in:"; diag "$2" ;;
	esac
}

# lacks DESC TEXT NEEDLE
lacks() {
	case $2 in
	*"$3"*) not_ok "$1"; diag "'$3' unexpectedly found in:"; diag "$2" ;;
	*) ok "$1" ;;
	esac
}
