/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prh.h: the constants both ends of QEMU's pr-manager-helper protocol agree
 * on (wire sizes, opcodes, SCSI status codes) and the helper's exit codes.
 * Shared by the daemon, the protocol client and the tests; holds no code.
 */
#ifndef PRH_PRH_H
#define PRH_PRH_H

/* Wire sizes (all integers on the wire are big-endian). */
#define PRH_FEATURES_SIZE   4     /* feature word, each way, on connect */
#define PRH_CDB_SIZE        16    /* every request starts with a 16-byte CDB */
#define PRH_SENSE_SIZE      96    /* sense bytes in every reply */
#define PRH_REPLY_HDR_SIZE  (4 + 4 + PRH_SENSE_SIZE)  /* status, size, sense */
#define PRH_MAX_DATA        8192  /* parameter list / payload limit */

/* The only two opcodes the protocol carries. */
#define PRH_OP_PR_IN        0x5e  /* PERSISTENT RESERVE IN */
#define PRH_OP_PR_OUT       0x5f  /* PERSISTENT RESERVE OUT */

/* SAM status codes used in replies. */
#define PRH_STATUS_GOOD 0x00
#define PRH_STATUS_CHECK_CONDITION 0x02
#define PRH_STATUS_CONDITION_MET 0x04
#define PRH_STATUS_BUSY 0x08
#define PRH_STATUS_RESERVATION_CONFLICT 0x18
#define PRH_STATUS_TASK_SET_FULL 0x28

/* Exit codes, as QEMU's helper uses them. */
#define PRH_EXIT_OK       0   /* clean stop, --help, --version, -T help */
#define PRH_EXIT_FAILURE  1   /* bad usage or any start-up failure */

#endif /* PRH_PRH_H */
