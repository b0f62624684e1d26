/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.h: the pure codec of QEMU's pr-manager-helper protocol: request
 * validation, the reply header, helper-generated sense data and the
 * mapping of SG_IO outcomes (errno, host status, driver status, device
 * status) to the SCSI status and sense the guest sees.
 */
#ifndef PRH_PROTO_H
#define PRH_PROTO_H

#include <stdint.h>

#include "prh.h"

/* Why a complete CDB is refused (the connection is then closed). */
enum proto_verdict {
	PROTO_OK,
	PROTO_BAD_OPCODE,    /* neither PERSISTENT RESERVE IN nor OUT */
	PROTO_TOO_LONG       /* transfer length above PRH_MAX_DATA */
};

/* What the helper answers: status, sense and the PR IN payload size. */
struct proto_reply {
	uint8_t status;
	uint32_t size;
	uint8_t sense[PRH_SENSE_SIZE];
};

/*
 * The transfer length both ends derive from a PR CDB: big-endian bytes 7-8
 * (the allocation length for PR IN, the parameter list length for PR OUT).
 * Bytes 5-6 of PR OUT's 32-bit field are ignored, exactly as QEMU's client
 * computes it; reading more than it sends would hang the client.
 */
uint16_t proto_transfer_length(const uint8_t cdb[PRH_CDB_SIZE]);

/* Check a complete CDB; stores the transfer length in *len when valid. */
enum proto_verdict proto_check_cdb(const uint8_t cdb[PRH_CDB_SIZE], uint16_t *len);

/* Encode status, size and all 96 sense bytes (big-endian) into out. */
void proto_encode_reply(const struct proto_reply *reply,
                        uint8_t out[PRH_REPLY_HDR_SIZE]);

/* Decode a reply header (for the client and the tests). */
void proto_decode_reply(const uint8_t in[PRH_REPLY_HDR_SIZE],
                        uint32_t *status, uint32_t *size,
                        uint8_t sense[PRH_SENSE_SIZE]);

/* Start a reply: GOOD, size 0, all sense bytes zero. */
void proto_reply_init(struct proto_reply *reply);

/* CHECK CONDITION with 18 bytes of fixed-format sense (the rest zero). */
void proto_reply_check_condition(struct proto_reply *reply, uint8_t key,
                                 uint8_t asc, uint8_t ascq);

/* The reply for a failed SG_IO ioctl (or a check that stands in for one). */
void proto_reply_from_errno(struct proto_reply *reply, int err);

/* Map a non-zero SG_IO host_status. Unknown values give CHECK CONDITION
 * 0B/00/06, where QEMU 7.2 would report GOOD. Sense bytes past the 18 the
 * helper writes are kept (they hold whatever the kernel returned). */
void proto_reply_from_host_status(struct proto_reply *reply, unsigned host_status);

/* Does this SG_IO driver_status mean "the driver timed out" (BUSY)? */
int proto_driver_status_is_timeout(unsigned driver_status);

/* Put a 16/32-bit big-endian value; read one back. */
void proto_put_be32(uint8_t *p, uint32_t v);
uint32_t proto_get_be32(const uint8_t *p);
uint16_t proto_get_be16(const uint8_t *p);

/* Sense keys, ASC/ASCQ pairs and Linux SG_IO codes used by the mapping. */
#define SENSE_KEY_NO_SENSE          0x00
#define SENSE_KEY_NOT_READY         0x02
#define SENSE_KEY_MEDIUM_ERROR      0x03
#define SENSE_KEY_HARDWARE_ERROR    0x04
#define SENSE_KEY_ILLEGAL_REQUEST   0x05
#define SENSE_KEY_UNIT_ATTENTION    0x06
#define SENSE_KEY_DATA_PROTECT      0x07
#define SENSE_KEY_ABORTED_COMMAND   0x0b

#define HOST_DID_NO_CONNECT          0x01
#define HOST_DID_BUS_BUSY            0x02
#define HOST_DID_TIME_OUT            0x03
#define HOST_DID_BAD_TARGET          0x04
#define HOST_DID_ABORT               0x05
#define HOST_DID_RESET               0x08
#define HOST_DID_TRANSPORT_DISRUPTED 0x0e
#define HOST_DID_TARGET_FAILURE      0x10
#define HOST_DID_NEXUS_FAILURE       0x11
#define HOST_DID_ALLOC_FAILURE       0x12
#define HOST_DID_MEDIUM_ERROR        0x13

#define DRIVER_STATUS_TIMEOUT_MASK   0x06   /* SG_ERR_DRIVER_TIMEOUT */

#endif /* PRH_PROTO_H */
