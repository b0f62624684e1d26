/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for trace.c: QEMU's -T syntax, events files, output lines. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "trace.h"

static char out_text[4096], err_text[4096];

static enum trace_opt_result
apply(const char *arg)
{
	FILE *out = fmemopen(out_text, sizeof(out_text), "w");
	FILE *err = fmemopen(err_text, sizeof(err_text), "w");
	enum trace_opt_result r;

	memset(out_text, 0, sizeof(out_text));
	memset(err_text, 0, sizeof(err_text));
	r = trace_parse_option(arg, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static unsigned
enabled_mask(void)
{
	unsigned m = 0;

	for (int i = 0; i < TRACE_EVENT_COUNT; i++)
		if (trace_event_enabled((enum trace_event)i))
			m |= 1u << i;
	return m;
}

static char dir[] = "/tmp/prh-test-trace-XXXXXX";

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

int
main(void)
{
	char events[256], output[256], odd[256], line[1024];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 99;

	trace_reset();
	is_int(enabled_mask(), 0, "nothing enabled by default");
	is_int(apply("prh_conn_accept"), TRACE_OPT_OK, "plain event name");
	is_int(enabled_mask(), 1u << TRACE_CONN_ACCEPT, "only that event");

	trace_reset();
	is_int(apply("enable=prh_*"), TRACE_OPT_OK, "enable= with a wildcard");
	is_int(enabled_mask(), (1u << TRACE_EVENT_COUNT) - 1, "all events");
	is_int(apply("-prh_reply_sent"), TRACE_OPT_OK, "leading '-' disables");
	ok(!trace_event_enabled(TRACE_REPLY_SENT) &&
	   trace_event_enabled(TRACE_REQUEST_EXECUTED), "only the named one disabled");

	trace_reset();
	is_int(apply("prh_request_?????ed"), TRACE_OPT_OK, "'?' wildcard");
	is_int(enabled_mask(), 1u << TRACE_REQUEST_DECODED,
	       "'?' matches exactly one character each");

	trace_reset();
	is_int(apply("*accept"), TRACE_OPT_OK, "leading '*'");
	is_int(enabled_mask(), 1u << TRACE_CONN_ACCEPT, "'*' at the start matches a prefix");
	trace_reset();
	is_int(apply("prh_*_*"), TRACE_OPT_OK, "two '*'");
	is_int(enabled_mask(), (1u << TRACE_EVENT_COUNT) - 1, "'*' backtracks across '_'");
	trace_reset();
	is_int(apply("prh_conn_accept*"), TRACE_OPT_OK, "trailing '*' matching nothing more");
	is_int(enabled_mask(), 1u << TRACE_CONN_ACCEPT, "'*' may match the empty string");
	trace_reset();
	is_int(apply("prh_conn_accep"), TRACE_OPT_OK, "a prefix without '*'");
	is_int(enabled_mask(), 0, "matches nothing (whole names only)");
	is_int(apply("prh_conn_[a]ccept"), TRACE_OPT_OK, "brackets");
	is_int(enabled_mask(), 0, "are not wildcards, as in QEMU");

	trace_reset();
	is_int(apply("no_such_event"), TRACE_OPT_OK, "unknown name is not fatal");
	ok(strstr(err_text, "trace event 'no_such_event' does not exist") != NULL,
	   "but it draws a warning");
	is_int(apply("nomatch*"), TRACE_OPT_OK, "wildcard matching nothing");
	is_str(err_text, "", "draws no warning");

	is_int(apply("help"), TRACE_OPT_HELP, "help");
	ok(strstr(out_text, "prh_request_executed") != NULL, "help lists events");
	is_int(apply("enable=help"), TRACE_OPT_HELP, "enable=help");
	is_int(apply("?"), TRACE_OPT_HELP, "'?' is help too");

	is_int(apply("bogus=1"), TRACE_OPT_ERROR, "unknown key");
	ok(strstr(err_text, "invalid trace parameter 'bogus'") != NULL, "names the key");
	is_int(apply("prh_conn_accept,prh_conn_close"), TRACE_OPT_ERROR,
	       "second item without a key is an error, as in QEMU");

	/* events=FILE */
	trace_reset();
	snprintf(events, sizeof(events), "%s/events", dir);
	write_file(events, "# comment\n\nprh_conn_close\nprh_reply_*\r\n");
	snprintf(line, sizeof(line), "events=%s", events);
	is_int(apply(line), TRACE_OPT_OK, "events=FILE");
	is_int(enabled_mask(), (1u << TRACE_CONN_CLOSE) | (1u << TRACE_REPLY_SENT),
	       "events file: patterns applied, comments and blank lines skipped");
	snprintf(line, sizeof(line), "events=%s/missing", dir);
	is_int(apply(line), TRACE_OPT_ERROR, "missing events file is an error");

	/* file=FILE, output format, ",," escaping */
	trace_reset();
	snprintf(output, sizeof(output), "%s/out,,put", dir);
	snprintf(odd, sizeof(odd), "%s/out,put", dir);
	snprintf(line, sizeof(line), "prh_conn_accept,file=%s", output);
	is_int(apply(line), TRACE_OPT_OK, "pattern plus file=");
	is_int(trace_open(), 0, "trace_open creates the file");
	TRACE(TRACE_CONN_ACCEPT, "fd=%d pid=%d", 7, 42);
	TRACE(TRACE_CONN_CLOSE, "fd=%d", 7);   /* disabled: not written */
	f = fopen(odd, "r");
	ok(f != NULL, "',,' in a value is a literal comma");
	memset(line, 0, sizeof(line));
	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		ok(fgets(odd, sizeof(odd), f) == NULL, "disabled event not written");
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	{
		long tid;
		long long sec;
		long usec;
		char name[64], rest[64];
		int n = sscanf(line, "%ld@%lld.%6ld:%63s %63[^\n]", &tid, &sec, &usec,
		               name, rest);

		ok(n == 5 && tid > 0 && sec > 1700000000 && strcmp(name, "prh_conn_accept") == 0 &&
		   strcmp(rest, "fd=7 pid=42") == 0,
		   "line is TID@SECONDS.MICROS:EVENT args (got '%s')", line);
	}
	snprintf(line, sizeof(line), "file=%s/no/such/dir/out", dir);
	is_int(apply(line), TRACE_OPT_OK, "file= is only opened later");
	is_int(trace_open(), -1, "unwritable trace file fails trace_open");
	trace_reset();
	snprintf(line, sizeof(line), "rm -rf %s", dir);
	if (system(line) != 0)
		return 99;
	return tap_done();
}
