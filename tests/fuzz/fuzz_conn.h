/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_conn.h: the byte encoding of a fuzz input, shared by the fuzzer and
 * the seed generator. An input is a list of operations on one connection:
 *
 *   OP_DATA  LEN FLAGS BYTES[LEN]   the client sends LEN bytes; FLAGS & 7
 *                                   fds ride on them, FLAGS & 8 marks the
 *                                   ancillary data truncated (MSG_CTRUNC)
 *   OP_WOULDBLOCK                   the next receive finds nothing yet
 *   OP_EOF                          the client shuts down its side
 *   OP_ADVANCE                      the loop calls conn_advance()
 *   OP_SEND_ROOM N                  later sends accept N bytes in total
 *                                   (0: EAGAIN until the next OP_SEND_ROOM)
 *   OP_RESET                        the client vanishes (EPIPE, ECONNRESET)
 *   OP_REPLY STATUS SIZE_HI SIZE_LO the executor's answer for the next
 *                                   request (size is cut to the rules)
 *
 * Operation codes are taken modulo OP_COUNT, so every input decodes.
 */
#ifndef PRH_FUZZ_CONN_H
#define PRH_FUZZ_CONN_H

enum fuzz_op {
	OP_DATA,
	OP_WOULDBLOCK,
	OP_EOF,
	OP_ADVANCE,
	OP_SEND_ROOM,
	OP_RESET,
	OP_REPLY,
	OP_COUNT
};

#define FUZZ_FLAG_FDS_MASK  0x07
#define FUZZ_FLAG_CTRUNC    0x08

#endif /* PRH_FUZZ_CONN_H */
