/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mpath_exec.h: running a guest's PERSISTENT RESERVE command on the paths
 * of a dm-multipath map (the I/O side of mpath_plan.h).
 */
#ifndef PRH_MPATH_EXEC_H
#define PRH_MPATH_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "sgio.h"

/* Maps whose memory (key, per-path repair marks) is kept at once; past
 * this the least recently used idle map forgets its memory. */
#define MPATH_EXEC_MAPS 256

/*
 * If the block device blk_dev behind dev_fd is a dm-multipath map with at
 * least two paths, run the command (cdb, len, data as for sgio_execute) on
 * its paths, fill *reply, data (PR IN payload) and *outcome, and return
 * true. Return false for anything else (not device-mapper, another dm
 * target, a map over one path, multipath support off): the caller sends
 * the command to dev_fd, exactly as without this module. t is the calling
 * worker's pass-through object. Any worker thread; commands on one map run
 * one at a time, commands on different maps in parallel.
 */
bool mpath_exec(struct sgio_thread *t, int dev_fd, uint64_t blk_dev,
                const uint8_t cdb[PRH_CDB_SIZE], uint16_t len, uint8_t *data,
                struct proto_reply *reply, struct sgio_outcome *outcome);

#endif /* PRH_MPATH_EXEC_H */
