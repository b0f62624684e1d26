/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fdlimit.h: the process's file descriptor budget: the open file limit
 * and the size of the kernel's descriptor table.
 */
#ifndef PRH_FDLIMIT_H
#define PRH_FDLIMIT_H

/* The most descriptors the table is sized for up front (8 bytes each in
 * the kernel, plus bitmaps): 512 kB at most, whatever the limits say. */
#define FDLIMIT_TABLE_MAX 65536u

/* Descriptors the helper holds besides clients and their device fds:
 * standard streams, listener, signal pipe, wake-up, trace file, pid
 * file, with room to spare. */
#define FDLIMIT_FIXED 64u

/*
 * How many descriptors to size the table for: two per connection (the
 * socket and, while its request runs, the device fd it brought) and the
 * fixed ones, but never beyond the open file limit (0 means none) or
 * FDLIMIT_TABLE_MAX. Pure.
 */
unsigned long fdlimit_table_target(unsigned max_connections,
                                   unsigned long long open_file_limit);

/* Raise the soft open file limit to the hard one (no privilege needed);
 * say so when it may be reached before max_connections. */
void fdlimit_raise(unsigned max_connections);

/*
 * Grow the descriptor table to hold fdlimit_table_target() descriptors.
 * Call it while the process has a single thread: the kernel grows the
 * table of a multi-threaded process only after an RCU grace period,
 * milliseconds during which the thread that received the descriptor
 * (the poll() loop) stands still. The table never shrinks, so the wait
 * never comes. Returns the size reserved, 0 if it could not be done.
 */
unsigned long fdlimit_reserve_table(unsigned max_connections);

#endif /* PRH_FDLIMIT_H */
