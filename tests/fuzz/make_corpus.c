/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * make_corpus: writes the fuzzer's seed inputs (fuzz_conn.h encoding) into
 * a directory: the protocol test scenarios, valid and invalid, so fuzzing
 * starts from every state of the connection.
 *
 * usage: make_corpus DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_conn.h"

struct seed {
	uint8_t b[4096];
	size_t n;
};

static void put(struct seed *s, uint8_t v) { s->b[s->n++] = v; }

static void
data(struct seed *s, const uint8_t *p, size_t len, int fds, int ctrunc)
{
	put(s, OP_DATA);
	put(s, (uint8_t)len);
	put(s, (uint8_t)(fds | (ctrunc ? FUZZ_FLAG_CTRUNC : 0)));
	memcpy(s->b + s->n, p, len);
	s->n += len;
}

static void advance(struct seed *s) { put(s, OP_ADVANCE); }

static void
reply(struct seed *s, uint8_t status, unsigned size)
{
	put(s, OP_REPLY);
	put(s, status);
	put(s, (uint8_t)(size >> 8));
	put(s, (uint8_t)size);
}

static void
cdb(uint8_t out[16], uint8_t op, unsigned len)
{
	memset(out, 0, 16);
	out[0] = op;
	out[7] = (uint8_t)(len >> 8);
	out[8] = (uint8_t)len;
}

static const uint8_t zero4[4];

static void
hello(struct seed *s)
{
	s->n = 0;
	data(s, zero4, 4, 0, 0);
	advance(s);
}

static int
save(const char *dir, const char *name, const struct seed *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->b, 1, s->n, f) != s->n) {
		perror(path);
		return 1;
	}
	fclose(f);
	return 0;
}

int
main(int argc, char **argv)
{
	struct seed s;
	uint8_t c[16], param[24] = { 0 };
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus DIR\n");
		return 2;
	}

	hello(&s);
	cdb(c, 0x5e, 8192);
	reply(&s, 0, 40);
	data(&s, c, 16, 1, 0);
	advance(&s);
	data(&s, c, 16, 1, 0);
	advance(&s);
	rc |= save(argv[1], "pr-in-twice", &s);

	hello(&s);
	cdb(c, 0x5f, 24);
	data(&s, c, 5, 0, 0);
	advance(&s);
	data(&s, c + 5, 11, 1, 0);
	put(&s, OP_WOULDBLOCK);
	advance(&s);
	data(&s, param, 10, 0, 0);
	advance(&s);
	data(&s, param + 10, 14, 1, 0);
	advance(&s);
	rc |= save(argv[1], "pr-out-split", &s);

	hello(&s);
	cdb(c, 0x5e, 100);
	data(&s, c, 16, 0, 0);
	advance(&s);
	rc |= save(argv[1], "no-fd", &s);

	hello(&s);
	data(&s, c, 16, 2, 0);
	advance(&s);
	rc |= save(argv[1], "two-fds", &s);

	hello(&s);
	data(&s, c, 16, 7, 1);
	advance(&s);
	rc |= save(argv[1], "ctrunc", &s);

	hello(&s);
	cdb(c, 0x12, 36);
	data(&s, c, 16, 1, 0);
	advance(&s);
	rc |= save(argv[1], "bad-opcode", &s);

	hello(&s);
	cdb(c, 0x5f, 8193);
	data(&s, c, 16, 1, 0);
	advance(&s);
	rc |= save(argv[1], "too-long", &s);

	s.n = 0;
	data(&s, (const uint8_t *)"\0\0\0\1", 4, 0, 0);
	advance(&s);
	rc |= save(argv[1], "features-nonzero", &s);

	hello(&s);
	cdb(c, 0x5e, 8);
	data(&s, c, 9, 1, 0);
	put(&s, OP_EOF);
	advance(&s);
	rc |= save(argv[1], "eof-mid-cdb", &s);

	hello(&s);
	cdb(c, 0x5e, 8192);
	reply(&s, 0, 8192);
	put(&s, OP_SEND_ROOM);
	put(&s, 10);
	data(&s, c, 16, 1, 0);
	advance(&s);
	put(&s, OP_SEND_ROOM);
	put(&s, 255);
	advance(&s);
	put(&s, OP_SEND_ROOM);
	put(&s, 255);
	advance(&s);
	rc |= save(argv[1], "partial-reply", &s);

	hello(&s);
	reply(&s, 0, 8192);
	put(&s, OP_SEND_ROOM);
	put(&s, 1);
	data(&s, c, 16, 1, 0);
	advance(&s);
	put(&s, OP_RESET);
	advance(&s);
	rc |= save(argv[1], "reset-mid-reply", &s);

	hello(&s);
	cdb(c, 0x5f, 0);
	{
		uint8_t two[32];

		memcpy(two, c, 16);
		cdb(two + 16, 0x5e, 16);
		data(&s, two, 32, 1, 0);
	}
	advance(&s);
	advance(&s);
	rc |= save(argv[1], "pipelined", &s);

	s.n = 0;
	put(&s, OP_SEND_ROOM);
	put(&s, 0);
	advance(&s);
	put(&s, OP_SEND_ROOM);
	put(&s, 1);
	advance(&s);
	rc |= save(argv[1], "features-blocked", &s);
	return rc;
}
