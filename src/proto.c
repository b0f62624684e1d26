/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.c: pure functions only: no I/O, no globals, no errno changes. Every
 * byte the helper puts on the wire is decided here, which is what the unit
 * tests pin down against the protocol's reference tables.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"

#define FIXED_SENSE_LEN           18
#define FIXED_SENSE_CURRENT       0x70
#define FIXED_SENSE_ADDITIONAL    0x0a   /* additional length: bytes 8-17 */

void
proto_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
proto_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint16_t
proto_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint16_t
proto_transfer_length(const uint8_t cdb[PRH_CDB_SIZE])
{
	return proto_get_be16(&cdb[7]);
}

enum proto_verdict
proto_check_cdb(const uint8_t cdb[PRH_CDB_SIZE], uint16_t *len)
{
	uint16_t n;

	/* The same order as QEMU's helper: opcode first, then length. */
	if (cdb[0] != PRH_OP_PR_IN && cdb[0] != PRH_OP_PR_OUT)
		return PROTO_BAD_OPCODE;
	n = proto_transfer_length(cdb);
	if (n > PRH_MAX_DATA)
		return PROTO_TOO_LONG;
	*len = n;
	return PROTO_OK;
}

void
proto_encode_reply(const struct proto_reply *reply, uint8_t out[PRH_REPLY_HDR_SIZE])
{
	proto_put_be32(&out[0], reply->status);
	proto_put_be32(&out[4], reply->size);
	memcpy(&out[8], reply->sense, PRH_SENSE_SIZE);
}

void
proto_decode_reply(const uint8_t in[PRH_REPLY_HDR_SIZE], uint32_t *status,
                   uint32_t *size, uint8_t sense[PRH_SENSE_SIZE])
{
	*status = proto_get_be32(&in[0]);
	*size = proto_get_be32(&in[4]);
	memcpy(sense, &in[8], PRH_SENSE_SIZE);
}

void
proto_reply_init(struct proto_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	reply->status = PRH_STATUS_GOOD;
}

/* Write fixed-format sense into the first 18 bytes only. */
static void
put_fixed_sense(uint8_t sense[PRH_SENSE_SIZE], uint8_t key, uint8_t asc,
                uint8_t ascq)
{
	memset(sense, 0, FIXED_SENSE_LEN);
	sense[0] = FIXED_SENSE_CURRENT;
	sense[2] = key;
	sense[7] = FIXED_SENSE_ADDITIONAL;
	sense[12] = asc;
	sense[13] = ascq;
}

void
proto_reply_check_condition(struct proto_reply *reply, uint8_t key,
                            uint8_t asc, uint8_t ascq)
{
	memset(reply->sense, 0, sizeof(reply->sense));
	put_fixed_sense(reply->sense, key, asc, ascq);
	reply->status = PRH_STATUS_CHECK_CONDITION;
	reply->size = 0;
}

/* Status only, no sense: zero the sense so nothing stale is sent. */
static void
status_only(struct proto_reply *reply, uint8_t status)
{
	memset(reply->sense, 0, sizeof(reply->sense));
	reply->status = status;
	reply->size = 0;
}

void
proto_reply_from_errno(struct proto_reply *reply, int err)
{
	switch (err) {
	case 0:
		status_only(reply, PRH_STATUS_GOOD);
		break;
	case EDOM:
		status_only(reply, PRH_STATUS_TASK_SET_FULL);
		break;
	case EBADE:
		status_only(reply, PRH_STATUS_RESERVATION_CONFLICT);
		break;
	case ENODEV:      /* as QEMU >= 10.1; 7.2 fell through to 0B/00/06 */
	case EREMOTEIO:
	case ENOMEM:
		proto_reply_check_condition(reply, SENSE_KEY_HARDWARE_ERROR, 0x44, 0x00);
		break;
	case ENODATA:
		proto_reply_check_condition(reply, SENSE_KEY_MEDIUM_ERROR, 0x11, 0x00);
		break;
	case ENOMEDIUM:
		proto_reply_check_condition(reply, SENSE_KEY_NOT_READY, 0x3a, 0x00);
		break;
	case EINVAL:
		proto_reply_check_condition(reply, SENSE_KEY_ILLEGAL_REQUEST, 0x24, 0x00);
		break;
	case ENOSPC:
		proto_reply_check_condition(reply, SENSE_KEY_DATA_PROTECT, 0x27, 0x07);
		break;
	default:          /* ENOTTY, EIO, EPERM, EBADF, ... */
		proto_reply_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x00, 0x06);
		break;
	}
}

/* Host-status sense overwrites bytes 0-17; 18-95 keep what the kernel
 * wrote, as QEMU's helper does. */
static void
host_check_condition(struct proto_reply *reply, uint8_t key, uint8_t asc,
                     uint8_t ascq)
{
	put_fixed_sense(reply->sense, key, asc, ascq);
	reply->status = PRH_STATUS_CHECK_CONDITION;
	reply->size = 0;
}

void
proto_reply_from_host_status(struct proto_reply *reply, unsigned host_status)
{
	switch (host_status) {
	case HOST_DID_NO_CONNECT:
		host_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x05, 0x00);
		break;
	case HOST_DID_BUS_BUSY:
		reply->status = PRH_STATUS_BUSY;
		reply->size = 0;
		break;
	case HOST_DID_TIME_OUT:
		host_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x2e, 0x02);
		break;
	case HOST_DID_BAD_TARGET:
		host_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x08, 0x00);
		break;
	case HOST_DID_ABORT:
		host_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x2f, 0x02);
		break;
	case HOST_DID_RESET:
		host_check_condition(reply, SENSE_KEY_UNIT_ATTENTION, 0x29, 0x00);
		break;
	case HOST_DID_TRANSPORT_DISRUPTED:
		host_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x29, 0x07);
		break;
	case HOST_DID_TARGET_FAILURE:
		host_check_condition(reply, SENSE_KEY_HARDWARE_ERROR, 0x44, 0x00);
		break;
	case HOST_DID_NEXUS_FAILURE:
		reply->status = PRH_STATUS_RESERVATION_CONFLICT;
		reply->size = 0;
		break;
	case HOST_DID_ALLOC_FAILURE:
		host_check_condition(reply, SENSE_KEY_DATA_PROTECT, 0x27, 0x07);
		break;
	case HOST_DID_MEDIUM_ERROR:
		host_check_condition(reply, SENSE_KEY_MEDIUM_ERROR, 0x11, 0x00);
		break;
	default:
		/* QEMU 7.2 answers GOOD here, so a PR OUT that never reached
		 * the device would look successful to the guest. An error the
		 * guest may retry is the safe answer. */
		host_check_condition(reply, SENSE_KEY_ABORTED_COMMAND, 0x00, 0x06);
		break;
	}
}

int
proto_driver_status_is_timeout(unsigned driver_status)
{
	/* QEMU tests the value as a mask, so any of 2-7 in the low bits
	 * counts; keep that so both helpers agree on every value. */
	return (driver_status & DRIVER_STATUS_TIMEOUT_MASK) != 0;
}
