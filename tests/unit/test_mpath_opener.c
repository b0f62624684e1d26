/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for what the multipath path opener reads out of sysfs: device
 * numbers ("MAJ:MIN\n"), a dm map's uuid, and the SCSI host in a device
 * link. The process itself is tested by tests/integ/t_multipath.sh. */
#include <sys/sysmacros.h>

#include "mpath_opener.h"
#include "tap.h"

static long long
devnum(const char *text)
{
	uint64_t dev = 0;

	if (!mpath_parse_devnum(text, &dev))
		return -1;
	return (long long)dev;
}

int
main(void)
{
	is_int(devnum("8:16\n"), (long long)makedev(8, 16), "sysfs dev attribute with its newline");
	is_int(devnum("253:0"), (long long)makedev(253, 0), "without the newline");
	is_int(devnum("259:1048575"), (long long)makedev(259, 1048575),
	       "the largest minor the kernel hands out");
	is_int(devnum(""), -1, "empty: refused");
	is_int(devnum("8"), -1, "no minor: refused");
	is_int(devnum("8:"), -1, "empty minor: refused");
	is_int(devnum(":16"), -1, "empty major: refused");
	is_int(devnum("8:16 "), -1, "trailing junk: refused");
	is_int(devnum("8:16\n\n"), -1, "two newlines: refused");
	is_int(devnum("-8:16"), -1, "a sign: refused");
	is_int(devnum("8:+16"), -1, "a sign in the minor: refused");
	is_int(devnum("4096:0"), (long long)makedev(4096, 0), "a large major");
	is_int(devnum("99999999:0"), -1, "a major past the kernel's 12+8 bits: refused");

	ok(mpath_uuid_is_multipath("mpath-3600140512345678"), "multipath map uuid");
	ok(!mpath_uuid_is_multipath("LVM-abcdef"), "an LVM volume is not a map");
	ok(!mpath_uuid_is_multipath("part1-mpath-3600140512345678"),
	   "a partition of a map (kpartx) is not a map");
	ok(!mpath_uuid_is_multipath("CRYPT-LUKS2-x"), "a dm-crypt device is not a map");
	ok(!mpath_uuid_is_multipath(""), "no uuid is not a map");

	is_int(mpath_parse_scsi_host("../../devices/platform/host3/target3:0:1/3:0:1:0"), 3,
	       "the host of a SCSI device link");
	is_int(mpath_parse_scsi_host("12:0:0:7"), 12, "a bare H:C:T:L");
	is_int(mpath_parse_scsi_host("../../devices/virtual/block/loop0"), -1,
	       "not a SCSI device: no host");
	is_int(mpath_parse_scsi_host("../3:0:0"), -1, "three numbers: no host");
	is_int(mpath_parse_scsi_host("../3:0:0:0x"), -1, "trailing junk: no host");
	return tap_done();
}
