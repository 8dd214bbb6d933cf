// SPDX-License-Identifier: Apache-2.0
/*
 * tests/unit/test_protocols.c: the protocol table (userspace/protocols.c) and the
 * classification of a connection's first bytes across all parsers: each protocol's first
 * messages, from real sessions (tests/unit/data/: psql and PostgreSQL 15, the mariadb
 * client and MariaDB 10.11, redis-cli and Redis 7.0), go to that protocol and direction,
 * including the messages where two detectors both claim the bytes; bytes of no protocol
 * go to none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "protocols.h"

struct sample {
	const char *what;
	const char *hex; /* the bytes; NULL: text is the bytes */
	const char *text;
	const char *protocol; /* NULL: none claims them */
	enum kspan_msg_dir dir;
};

static const struct sample samples[] = {
	{ "HTTP request", NULL, "GET /orders/7 HTTP/1.1\r\nHost: shop\r\n\r\n", "http/1.x",
	  KSPAN_MSG_REQUEST },
	{ "HTTP response", NULL, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "http/1.x",
	  KSPAN_MSG_RESPONSE },
	{ "pgwire StartupMessage (psql)",
	  "000000380003000075736572006b7370616e0064617461626173650073686f70006170706c6963617469"
	  "6f6e5f6e616d65007073716c0000",
	  NULL, "postgresql", KSPAN_MSG_REQUEST },
	{ "pgwire AuthenticationSASL", "52000000170000000a534352414d2d5348412d3235360000", NULL,
	  "postgresql", KSPAN_MSG_RESPONSE },
	{ "pgwire SSLRequest", "0000000804d2162f", NULL, "postgresql", KSPAN_MSG_REQUEST },
	/* MySQL detector: 80, pgwire: 95. */
	{ "pgwire CommandComplete + ReadyForQuery", "430000000a424547494e005a0000000554", NULL,
	  "postgresql", KSPAN_MSG_RESPONSE },
	/* pgwire detector: 50 for both of these MySQL packets. */
	{ "MySQL HandshakeResponse41 (deprecate_eof)",
	  "540000010ca28f01000000012100000000000000000000000000000000000000000000006170700014f4"
	  "626d2ad30099f0b6f71ddbede414bbd2b66f4973686f70006d7973716c5f6e61746976655f7061737377"
	  "6f726400",
	  NULL, "mysql", KSPAN_MSG_REQUEST },
	{ "MySQL ERR 1045 (login_error)",
	  "47000002ff15042332383030304163636573732064656e69656420666f72207573657220276170702740"
	  "276c6f63616c686f73742720287573696e672070617373776f72643a2059455329",
	  NULL, "mysql", KSPAN_MSG_RESPONSE },
	{ "MySQL COM_QUERY", "0900000003" "53454c45435420" "31", NULL, "mysql",
	  KSPAN_MSG_REQUEST },
	{ "RESP command", NULL, "*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n", "redis", KSPAN_MSG_REQUEST },
	{ "RESP inline command", NULL, "PING\r\n", "redis", KSPAN_MSG_REQUEST },
	{ "RESP simple string", NULL, "+OK\r\n", "redis", KSPAN_MSG_RESPONSE },
	{ "RESP error", NULL, "-ERR unknown command 'FOO'\r\n", "redis", KSPAN_MSG_RESPONSE },
	{ "TLS ClientHello start", "16030100f8010000f40303", NULL, NULL, 0 },
	{ "SSH banner", NULL, "SSH-2.0-OpenSSH_9.2p1\r\n", NULL, 0 },
	{ "zeros", "0000000000000000", NULL, NULL, 0 },
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	return n;
}

static void test_first_bytes_pick_the_protocol(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		enum kspan_msg_dir dir = 99;
		const struct kspan_protocol *p;
		uint8_t buf[256];
		size_t len;

		if (s->hex) {
			len = unhex(s->hex, buf, sizeof(buf));
		} else {
			len = strlen(s->text);
			memcpy(buf, s->text, len);
		}
		p = kspan_protocol_detect(buf, len, &dir);
		if (!s->protocol) {
			if (p)
				fail_msg("%s: claimed by %s", s->what, p->name);
			continue;
		}
		if (!p || strcmp(p->name, s->protocol))
			fail_msg("%s: %s, not %s", s->what, p ? p->name : "no protocol",
				 s->protocol);
		if (dir != s->dir)
			fail_msg("%s: direction %d, not %d", s->what, dir, s->dir);
	}
}

static void test_table(void **state)
{
	static const char *const names[] = { "http/1.x", "postgresql", "mysql", "redis" };

	(void)state;
	assert_int_equal(kspan_n_protocols, 4);
	for (size_t i = 0; i < kspan_n_protocols; i++) {
		const struct kspan_protocol *p = &kspan_protocols[i];

		assert_string_equal(p->name, names[i]);
		assert_non_null(p->ops->detect);
		assert_non_null(p->ops->create);
		assert_non_null(p->ops->feed);
		/* Database spans come from the client; HTTP from both sides. */
		assert_int_equal(p->client_only, p->family == KSPAN_FAMILY_DB);
		assert_int_equal(p->family, i ? KSPAN_FAMILY_DB : KSPAN_FAMILY_HTTP);
	}
	assert_ptr_equal(kspan_protocol_http1(), &kspan_protocols[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_first_bytes_pick_the_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
