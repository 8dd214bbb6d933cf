// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/proto_resp.c: Redis RESP2/RESP3, seen from the client, as a kspan
 * parser. It owns command framing (arrays of bulk strings and inline lines),
 * reply framing (every RESP2 and RESP3 type, streamed strings and aggregates,
 * attributes), pairing replies with commands in order (pipelines), and the
 * connection state that changes what a reply means: transactions, pub/sub
 * subscriptions, RESP3 pushes, CLIENT REPLY, SELECT, MONITOR/replication.
 *
 * Why not hiredis's reader (DESIGN.md §5 prefers it where it fits): Debian
 * bookworm ships hiredis 0.14.1, whose reader knows only the six RESP2 reply
 * types (RESP3 came with hiredis 1.0.0), nests at most a handful of levels, and
 * buffers each reply whole as an object tree, so it needs every byte: it cannot
 * skip the bytes the kernel did not capture (a large value is mostly such a
 * gap), and a 100 MB reply would be 100 MB in the agent. The reader here keeps
 * no reply: it frames values as they stream past (bulk payloads by their
 * length, so a gap only advances a counter), with a stack of element counters
 * per open aggregate and the first bytes of the few values a span needs.
 *
 * Each direction is a byte-driven state machine, so a message split over any
 * number of reads gives the same events as one read. Losing our place (a gap
 * inside a header line, or at a message boundary) is survivable: commands
 * resync at a read that starts with an array of bulk strings; replies resync at
 * a read that starts like a reply once a command sent after the loss waits for
 * one. Bytes that are not RESP stop the parser for good.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proto_resp.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define REQ KSPAN_MSG_REQUEST
#define RESP KSPAN_MSG_RESPONSE

#define TOK_MAX 31 /* bytes of an argument kept to recognise it */
#define NUM_MAX 21 /* a length, count or integer: "-9223372036854775808" */
#define KIND_MAX 15 /* first element of a push: "punsubscribe" */
#define STATUS_KEEP 15 /* bytes of a top-level simple string: "QUEUED", "RESET" */
#define NS_MAX 23
#define USER_MAX 63
#define DEPTH_MIN 8

enum phase {
	PH_IDLE, /* request: between commands (blank bytes skipped) */
	PH_TYPE, /* a type byte comes next: a reply, an element, a bulk argument */
	PH_LINE, /* the rest of a line after its type byte, up to CR LF */
	PH_BULK, /* `remaining` payload bytes of a bulk string */
	PH_BULK_END, /* the CR LF after a payload */
	PH_INLINE, /* request: an inline command line */
	PH_UNSYNCED, /* place lost: skip until a read starts with a message */
};

/* Commands whose replies change the connection's state, or are not one plain reply. */
enum kind {
	K_PLAIN,
	K_MULTI,
	K_EXEC,
	K_DISCARD,
	K_SELECT,
	K_HELLO,
	K_AUTH,
	K_MONITOR,
	K_SYNC,
	K_RESET,
	K_PING,
	K_QUIT,
	K_CLIENT_REPLY,
	K_SUB,
	K_PSUB,
	K_SSUB,
	K_UNSUB,
	K_PUNSUB,
	K_SUNSUB,
};

/* Which arguments of the command being read are credentials. */
enum secret {
	SEC_NONE,
	SEC_ALL, /* AUTH: every argument */
	SEC_AFTER_AUTH, /* HELLO: the user and password after AUTH */
	SEC_MIGRATE, /* MIGRATE: AUTH password, AUTH2 user password */
	SEC_PASS_PARAM, /* CONFIG SET, SENTINEL SET/CONFIG: the value of a *pass* / *auth* name */
	SEC_RULES, /* ACL SETUSER: every rule */
};

enum reply_mode { RM_ON, RM_OFF, RM_SKIP_NEXT };

/* Inline command splitting (Redis sdssplitargs): quotes, escapes. */
enum isplit { IS_WS, IS_ARG, IS_DQ, IS_DQ_ESC, IS_DQ_X, IS_DQ_X1, IS_SQ, IS_SQ_ESC, IS_CLOSED };

/* A command, from its end until its reply is reported. */
struct resp_cmd {
	struct resp_cmd *next;
	uint64_t seq; /* kspan_parser_event.req_seq */
	uint64_t first_ns, last_ns;
	uint64_t resp_first_ns, resp_last_ns; /* first confirmation, or its +QUEUED */
	uint32_t pflags; /* KSPAN_PEF_* */
	uint32_t dbflags; /* KSPAN_DB_F_* */
	uint32_t batch;
	uint32_t untracked_after; /* untracked commands sent right after this one */
	uint64_t sub_expect, sub_got; /* (un)subscribe confirmations; expect 0: all */
	enum kind kind;
	uint8_t proto; /* HELLO: protocol version asked for; 0: none */
	bool no_reply; /* CLIENT REPLY OFF/SKIP: the server will not answer */
	bool changed; /* SELECT/AUTH/HELLO changed ns/user when sent */
	uint8_t ns_len, user_len, prev_len;
	uint16_t cmd_len;
	uint32_t query_len;
	char cmd[KSPAN_RESP_COMMAND_MAX + 1];
	char ns[NS_MAX + 1];
	char user[USER_MAX + 1];
	char prev[USER_MAX + 1]; /* the ns or user it replaced */
	char query[];
};

struct cmd_list {
	struct resp_cmd *head, *tail;
	uint32_t len;
};

/* The command being read. */
struct cmd_build {
	bool active; /* reading one */
	bool tracked; /* it has a seq and will be reported */
	bool head; /* its name (first argument) is complete */
	bool is_inline;
	bool container;
	uint64_t seq, first_ns;
	uint64_t nargs; /* announced by the array header; 0 for inline */
	uint64_t args_left;
	uint64_t argi; /* index of the argument being read */
	enum kind kind;
	enum secret secret;
	uint32_t skip; /* arguments still to redact */
	bool user_next; /* the next argument is a user name */
	bool arg_skip, arg_user, arg_gap;
	enum isplit is;
	uint8_t hex;
	uint8_t tok_len, a1_len, a2_len, user_len;
	bool tok_cut;
	uint16_t cmd_len;
	uint32_t pflags, dbflags;
	uint32_t query_len, arg0_len;
	char tok[TOK_MAX + 1];
	char a1[TOK_MAX + 1], a2[TOK_MAX + 1]; /* arguments 1 and 2 when not redacted */
	char user[USER_MAX + 1];
	char cmd[KSPAN_RESP_COMMAND_MAX + 1];
	char query[KSPAN_DB_QUERY_MAX + 1];
};

/* The first bytes and shape of a reply (depth 0) or one of its elements (depth 1). */
struct rval {
	uint8_t type; /* RESP type byte; 0 while only attributes were seen */
	bool null, is_error, text_cut, num_ok;
	uint16_t text_len, cap;
	int64_t num; /* ':' */
	uint64_t count; /* elements of an aggregate (map: pairs) */
	uint64_t first_ns, last_ns;
	char text[KSPAN_RESP_ERROR_MAX + 1];
};

/* An open aggregate. */
struct level {
	uint64_t left; /* elements still to come (not for streamed ones) */
	uint64_t idx; /* elements complete */
	uint8_t type;
	bool streamed;
};

/* One direction's framing. */
struct rdir {
	enum phase phase;
	uint8_t type; /* type byte of the current line */
	bool cr; /* the line's CR was the last byte read */
	bool tentative; /* resynced on a guess: a bad byte means "not yet", not "not RESP" */
	uint8_t num_len, end_seen;
	uint32_t line_len, content_len;
	uint64_t remaining;
	uint64_t skipped;
	uint64_t first_ns; /* ts of the current line's first byte */
	uint64_t last_ns; /* ts of the last read */
	char num[NUM_MAX + 1];
};

struct resp {
	struct kspan_parser base;
	unsigned int flags;
	struct rdir dir[2];
	uint64_t last_seq; /* of the newest command; never reset */

	/* Commands: completed in the current read, waiting for replies, queued in MULTI. */
	struct cmd_list batch, fifo, queued;
	uint32_t batch_wait; /* commands in the batch that will get a reply */
	size_t pending_text;
	uint64_t skip_replies; /* replies owed to untracked commands before the fifo head */
	uint64_t lost_at; /* replies to commands up to this seq may have been in lost bytes */
	uint64_t barrier; /* command bytes after this seq were lost ... */
	bool barrier_set; /* ... so replies past its reply belong to unknown commands */

	/* What the next command runs under (request side). */
	char ns[NS_MAX + 1];
	char user[USER_MAX + 1];
	uint8_t ns_len, user_len;
	enum reply_mode reply_mode;

	/* Reply side. */
	bool resp3, in_multi;
	uint32_t txn; /* commands queued in the open transaction */
	int64_t chanpat, npat, nshard; /* subscriptions, from the confirmations' counts */

	/* Reply reader. */
	struct level *stk;
	uint32_t depth, cap, in_attr;
	bool in_sstr; /* inside a streamed string ($?): ';' chunks follow */
	bool msg_open;
	bool exec_resolving; /* the reply being read is EXEC's array */
	struct rval top, elem;
	struct rval *cur; /* where the current value's bytes go, or NULL */
	char kind[KIND_MAX + 1];
	uint8_t kind_len;
	bool kind_ok, sub_count_ok;
	int64_t sub_count;

	struct cmd_build cmd;
};

static struct resp *to_resp(struct kspan_parser *p)
{
	return (struct resp *)((char *)p - offsetof(struct resp, base));
}

/* ---------------------------------------------------------------- tables */

/* A word to compare with, and its length. */
struct word {
	const char *s;
	uint8_t len;
};

#define W(lit)                       \
	{                            \
		lit, sizeof(lit) - 1 \
	}

static const struct {
	struct word name;
	enum kind kind;
} kind_names[] = {
	{ W("MULTI"), K_MULTI },
	{ W("EXEC"), K_EXEC },
	{ W("DISCARD"), K_DISCARD },
	{ W("SELECT"), K_SELECT },
	{ W("HELLO"), K_HELLO },
	{ W("AUTH"), K_AUTH },
	{ W("MONITOR"), K_MONITOR },
	{ W("SYNC"), K_SYNC },
	{ W("PSYNC"), K_SYNC },
	{ W("RESET"), K_RESET },
	{ W("PING"), K_PING },
	{ W("QUIT"), K_QUIT },
	{ W("SUBSCRIBE"), K_SUB },
	{ W("PSUBSCRIBE"), K_PSUB },
	{ W("SSUBSCRIBE"), K_SSUB },
	{ W("UNSUBSCRIBE"), K_UNSUB },
	{ W("PUNSUBSCRIBE"), K_PUNSUB },
	{ W("SUNSUBSCRIBE"), K_SUNSUB },
	{ W("CLIENT REPLY"), K_CLIENT_REPLY },
};

/* Commands whose first argument is a subcommand (Redis 7.0 COMMAND, plus SENTINEL). */
static const struct word containers[] = {
	W("ACL"),      W("CLIENT"),  W("CLUSTER"), W("COMMAND"), W("CONFIG"), W("FUNCTION"),
	W("LATENCY"),  W("MEMORY"),  W("MODULE"),  W("OBJECT"),	 W("PUBSUB"), W("SCRIPT"),
	W("SENTINEL"), W("SLOWLOG"), W("XGROUP"),  W("XINFO"),
};

/* Pub/sub pushes: the first element names the kind. */
static const struct {
	struct word name;
	enum kind confirms; /* the command a confirmation answers; K_PLAIN: a message */
	uint8_t elements;
} push_kinds[] = {
	{ W("message"), K_PLAIN, 3 },	    { W("pmessage"), K_PLAIN, 4 },
	{ W("smessage"), K_PLAIN, 3 },	    { W("subscribe"), K_SUB, 3 },
	{ W("psubscribe"), K_PSUB, 3 },	    { W("ssubscribe"), K_SSUB, 3 },
	{ W("unsubscribe"), K_UNSUB, 3 },   { W("punsubscribe"), K_PUNSUB, 3 },
	{ W("sunsubscribe"), K_SUNSUB, 3 },
};

/* Commands detect() accepts as the first word of an inline command line. */
static const struct word inline_commands[] = {
	W("APPEND"),  W("AUTH"),     W("BGSAVE"),     W("CLIENT"),    W("CLUSTER"),
	W("COMMAND"), W("CONFIG"),   W("DBSIZE"),     W("DECR"),      W("DEL"),
	W("ECHO"),    W("EVAL"),     W("EVALSHA"),    W("EXEC"),      W("EXISTS"),
	W("EXPIRE"),  W("FLUSHALL"), W("FLUSHDB"),    W("HDEL"),      W("HELLO"),
	W("HGET"),    W("HGETALL"),  W("HSET"),	      W("INCR"),      W("INCRBY"),
	W("INFO"),    W("KEYS"),     W("LASTSAVE"),   W("LLEN"),      W("LPOP"),
	W("LPUSH"),   W("LRANGE"),   W("MGET"),	      W("MONITOR"),   W("MSET"),
	W("MULTI"),   W("PING"),     W("PSUBSCRIBE"), W("PSYNC"),     W("PUBLISH"),
	W("QUIT"),    W("REPLCONF"), W("REPLICAOF"),  W("ROLE"),      W("RPOP"),
	W("RPUSH"),   W("SADD"),     W("SAVE"),	      W("SCAN"),      W("SCARD"),
	W("SCRIPT"),  W("SELECT"),   W("SET"),	      W("SETEX"),     W("SHUTDOWN"),
	W("SLAVEOF"), W("SMEMBERS"), W("STRLEN"),     W("SUBSCRIBE"), W("SYNC"),
	W("TIME"),    W("TTL"),	     W("TYPE"),	      W("UNLINK"),    W("WATCH"),
	W("XADD"),    W("XREAD"),    W("ZADD"),	      W("ZRANGE"),    W("ZSCORE"),
};

/* ---------------------------------------------------------------- byte helpers */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static bool is_word_byte(uint8_t c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

static uint8_t to_upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static bool eq_nocase(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && !strncasecmp(s, lit, n);
}

static bool eq_word(const char *s, size_t n, struct word w)
{
	return n == w.len && !strncasecmp(s, w.s, n);
}

/* s[0..n) contains lit, case-insensitive. */
static bool has_nocase(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(s + i, lit, k))
			return true;
	return false;
}

/* Bytes a value starts with: 1 in RESP2 and RESP3 (+ - : $ *), 3 in RESP3 only. */
static const uint8_t value_types[256] = {
	['+'] = 1, ['-'] = 1, [':'] = 1, ['$'] = 1, ['*'] = 1, ['_'] = 3, [','] = 3, ['#'] = 3,
	['!'] = 3, ['='] = 3, ['('] = 3, ['%'] = 3, ['~'] = 3, ['>'] = 3, ['|'] = 3,
};

static bool is_value_type(uint8_t c)
{
	return value_types[c];
}

static bool is_resp3_only(uint8_t c)
{
	return value_types[c] == 3;
}

/* Bytes a simple string or error line is made of in practice (detection only). */
static bool is_text_byte(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_double_byte(uint8_t c)
{
	return is_digit(c) || is_alpha(c) || c == '.' || c == '-' || c == '+' || c == '(' ||
	       c == ')' || c == '_';
}

/* Whitespace that separates inline arguments (isspace without the LF that ends the line). */
static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_hex(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static uint8_t hex_val(uint8_t c)
{
	return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * "-12", "34", "?" -> value. False when s[0..n) is not a decimal integer in int64_t range
 * (or '?' where allowed: then *streamed).
 */
static bool parse_int(const char *s, size_t n, int64_t *out, bool *streamed)
{
	uint64_t v = 0;
	size_t i = 0;
	bool neg = false;

	if (streamed)
		*streamed = false;
	if (n == 1 && s[0] == '?' && streamed) {
		*streamed = true;
		return true;
	}
	if (n && s[0] == '-') {
		neg = true;
		i++;
	}
	if (i == n || n - i > 19)
		return false;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX + neg)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* ---------------------------------------------------------------- detection */

/*
 * Scans "<t><int>\r\n" at s (s[0] is the type byte). 1 with *v and *used when whole, 0
 * when a plausible prefix, -1 when not. '?' (streamed) gives *v = INT64_MIN.
 */
static int scan_header(const uint8_t *s, size_t len, int64_t *v, size_t *used)
{
	size_t i = 1;
	bool q = false;

	while (i < len && i <= NUM_MAX && s[i] != '\r') {
		if (!is_digit(s[i]) && !(s[i] == '-' && i == 1) && !(s[i] == '?' && i == 1))
			return -1;
		i++;
	}
	if (i == len)
		return i <= NUM_MAX + 1 ? 0 : -1;
	if (s[i] != '\r' || !parse_int((const char *)s + 1, i - 1, v, &q))
		return -1;
	if (q)
		*v = INT64_MIN;
	if (i + 1 == len)
		return 0;
	if (s[i + 1] != '\n')
		return -1;
	*used = i + 2;
	return 1;
}

/*
 * Confidence that s starts a command array ("*N\r\n$L\r\nNAME"); -1 when it is an
 * array that is not a command (a reply).
 */
static int multibulk_conf(const uint8_t *s, size_t len)
{
	int64_t n, blen;
	size_t used, u2, avail;
	int r;

	if (!len || s[0] != '*')
		return 0;
	r = scan_header(s, len, &n, &used);
	if (r <= 0)
		return r < 0 ? 0 : 40;
	if (n <= 0)
		return -1;
	if (used == len)
		return 60;
	if (s[used] != '$')
		return is_value_type(s[used]) ? -1 : 0;
	r = scan_header(s + used, len - used, &blen, &u2);
	if (r <= 0)
		return r < 0 ? 0 : 80;
	if (blen < 0)
		return 0;
	avail = MIN((size_t)blen, len - used - u2);
	if (!avail)
		return blen ? 90 : 70;
	for (size_t i = 0; i < avail; i++)
		if (!is_word_byte(s[used + u2 + i]) && s[used + u2 + i] != '|')
			return 70;
	return 100;
}

/* Whether s starts like a reply: 1 a whole valid first line, 0 a plausible prefix, -1 not. */
static int scan_reply_start(const uint8_t *s, size_t len)
{
	const uint8_t *lf = memchr(s, '\n', len);
	size_t n = lf ? (size_t)(lf - s) : len;
	const uint8_t *c = s + 1;
	size_t cn, used;
	int64_t v = 0;

	if (!len || !is_value_type(s[0]))
		return -1;
	if (lf) {
		if (n < 2 || s[n - 1] != '\r')
			return -1;
		cn = n - 2;
	} else {
		cn = n - 1;
		if (cn && s[n - 1] == '\r')
			cn--;
	}
	if (cn > KSPAN_RESP_LINE_MAX)
		return -1;
	switch (s[0]) {
	case '+':
	case '-':
		for (size_t i = 0; i < cn; i++)
			if (!is_text_byte(c[i]))
				return -1;
		break;
	case ',':
		for (size_t i = 0; i < cn; i++)
			if (!is_double_byte(c[i]))
				return -1;
		if (lf && !cn)
			return -1;
		break;
	case '#':
		if (cn > 1 || (cn && c[0] != 't' && c[0] != 'f') || (lf && !cn))
			return -1;
		break;
	case '_':
		if (cn)
			return -1;
		break;
	case '(':
	case ':':
		for (size_t i = 0; i < cn; i++)
			if (!is_digit(c[i]) && !(i == 0 && c[i] == '-'))
				return -1;
		if (lf && (!cn || (cn == 1 && c[0] == '-')))
			return -1;
		break;
	default: /* lengths and counts */
		if (scan_header(s, len, &v, &used) < 0)
			return -1;
		if (lf && ((v < -1 && v != INT64_MIN) || (v == -1 && s[0] != '$' && s[0] != '*') ||
			   (v == INT64_MIN && !strchr("$*%~", s[0]))))
			return -1;
		break;
	}
	return lf ? 1 : 0;
}

/* An inline command line starting with a common Redis command (never an HTTP method). */
static int inline_conf(const uint8_t *s, size_t len)
{
	size_t n = 0, line;
	const uint8_t *lf = memchr(s, '\n', len);

	while (n < len && is_alpha(s[n]))
		n++;
	if (!n || n == len || (s[n] != ' ' && s[n] != '\r' && s[n] != '\n'))
		return 0;
	line = lf ? (size_t)(lf - s) : len;
	for (size_t i = 0; i < line; i++)
		if (!is_text_byte(s[i]) && s[i] != '\r')
			return 0;
	if (has_nocase((const char *)s, line, " HTTP/"))
		return 0;
	for (size_t i = 0; i < sizeof(inline_commands) / sizeof(inline_commands[0]); i++)
		if (eq_word((const char *)s, n, inline_commands[i]))
			return 40;
	return 0;
}

int kspan_resp_detect(const uint8_t *buf, size_t len, enum kspan_msg_dir *dir)
{
	enum kspan_msg_dir d = REQ;
	int conf = 0, r;

	if (!buf || !len)
		return 0;
	if (buf[0] == '*') {
		conf = multibulk_conf(buf, len);
		if (conf < 0) {
			d = RESP;
			conf = scan_reply_start(buf, len) > 0 ? 70 : 0;
		}
	} else if (is_value_type(buf[0])) {
		d = RESP;
		r = scan_reply_start(buf, len);
		if (r > 0)
			conf = buf[0] == '-' && len > 1 && buf[1] >= 'A' && buf[1] <= 'Z' ? 90 :
			       buf[0] == '+' || buf[0] == '-'				  ? 80 :
											    70;
		else if (r == 0 && len > 1)
			conf = 50;
	} else {
		conf = inline_conf(buf, len);
	}
	if (conf && dir)
		*dir = d;
	return conf;
}

/* ---------------------------------------------------------------- lists, state */

static void list_push(struct cmd_list *l, struct resp_cmd *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->len++;
}

static struct resp_cmd *list_pop(struct cmd_list *l)
{
	struct resp_cmd *r = l->head;

	if (!r)
		return NULL;
	l->head = r->next;
	if (!l->head)
		l->tail = NULL;
	l->len--;
	r->next = NULL;
	return r;
}

static void free_cmd(struct resp *h, struct resp_cmd *r)
{
	if (!r)
		return;
	h->pending_text -= r->query_len;
	free(r);
}

static void list_free(struct resp *h, struct cmd_list *l)
{
	struct resp_cmd *r;

	while ((r = list_pop(l)))
		free_cmd(h, r);
}

/* Commands that will get a reply and have not yet (what KSPAN_RESP_PENDING_MAX caps). */
static uint32_t pending(const struct resp *h)
{
	return h->batch_wait + h->fifo.len + h->queued.len;
}

static void set_status(struct resp *h, enum kspan_parser_status st)
{
	if (h->base.status == KSPAN_PARSER_ACTIVE)
		h->base.status = st;
}

static bool active(const struct resp *h)
{
	return h->base.status == KSPAN_PARSER_ACTIVE;
}

static int status_rc(const struct resp *h)
{
	switch (h->base.status) {
	case KSPAN_PARSER_NOT_PROTO:
		return -EPROTONOSUPPORT;
	case KSPAN_PARSER_LOST:
		return -EBADMSG;
	default:
		return 0;
	}
}

static void set_str(char *dst, uint8_t *len, size_t cap, const char *s, size_t n)
{
	n = MIN(n, cap);
	memcpy(dst, s, n);
	dst[n] = '\0';
	*len = n;
}

/* ---------------------------------------------------------------- events */

/* "WRONGTYPE Operation against ..." -> code "WRONGTYPE", message the rest. */
static void split_error(const struct rval *v, struct kspan_str *code, struct kspan_str *msg)
{
	size_t n = 0;

	while (n < v->text_len && v->text[n] != ' ')
		n++;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v->text[i];

		if (!(c >= 'A' && c <= 'Z') && !is_digit(c) && c != '_' && c != '-') {
			n = 0;
			break;
		}
	}
	if (n > TOK_MAX)
		n = 0;
	*code = (struct kspan_str){ v->text, n };
	if (n && n < v->text_len)
		n++;
	*msg = (struct kspan_str){ v->text + n, v->text_len - n };
}

static int64_t reply_rows(const struct rval *v)
{
	if (v->null)
		return 0;
	if (v->type == '*' || v->type == '%' || v->type == '~')
		return (int64_t)MIN(v->count, (uint64_t)INT64_MAX);
	return -1;
}

/* Reports an event about command r (NULL: a reply without one) and its reply v (or NULL). */
static void emit(struct resp *h, enum kspan_parser_event_type type, uint32_t pflags,
		 const struct resp_cmd *r, const struct rval *v)
{
	struct kspan_db_exchange x = {
		.system = "redis",
		.query = { "", 0 },
		.command = { "", 0 },
		.db_namespace = { "", 0 },
		.user = { "", 0 },
		.status_code = { "", 0 },
		.error_message = { "", 0 },
		.rows = -1,
	};
	struct kspan_parser_event ev = { .type = type, .flags = pflags, .detail = &x };

	if (r) {
		ev.flags |= r->pflags;
		ev.req_seq = r->seq;
		ev.req_first_ns = r->first_ns;
		ev.req_last_ns = r->last_ns;
		x.query = (struct kspan_str){ r->query, r->query_len };
		x.command = (struct kspan_str){ r->cmd, r->cmd_len };
		x.db_namespace = (struct kspan_str){ r->ns, r->ns_len };
		x.user = (struct kspan_str){ r->user, r->user_len };
		x.batch_size = r->batch;
		x.flags = r->dbflags;
	}
	if (v) {
		ev.resp_first_ns = v->first_ns;
		ev.resp_last_ns = v->last_ns;
		x.error = v->is_error;
		if (v->is_error)
			split_error(v, &x.status_code, &x.error_message);
		x.rows = reply_rows(v);
	}
	if (type == KSPAN_PEV_EXCHANGE) {
		h->base.stats.exchanges++;
		if (pflags & KSPAN_PEF_NO_RESPONSE)
			h->base.stats.unanswered++;
	}
	if (h->base.on_event)
		h->base.on_event(h->base.ctx, &ev);
}

static void report_unanswered(struct resp *h, struct resp_cmd *r)
{
	emit(h, KSPAN_PEV_EXCHANGE, KSPAN_PEF_NO_RESPONSE, r, NULL);
	free_cmd(h, r);
}

/* Takes the oldest command waiting for a reply; replies to untracked ones follow it. */
static struct resp_cmd *fifo_pop(struct resp *h)
{
	struct resp_cmd *r = list_pop(&h->fifo);

	if (r) {
		h->skip_replies += r->untracked_after;
		r->untracked_after = 0;
	}
	return r;
}

/*
 * The queued commands of a transaction that did not run (or whose outcome is
 * unknown): each is reported with its +QUEUED reply.
 */
static void flush_queued(struct resp *h, uint32_t pflags)
{
	struct resp_cmd *r;

	while ((r = list_pop(&h->queued))) {
		struct rval q = { .type = '+', .text_len = 6, .text = "QUEUED" };

		q.first_ns = r->resp_first_ns;
		q.last_ns = r->resp_last_ns;
		if (h->txn >= 2)
			r->batch = h->txn;
		emit(h, KSPAN_PEV_EXCHANGE, pflags, r, &q);
		free_cmd(h, r);
	}
}

/* Every command still waiting is reported unanswered (eof, going quiet). */
static void flush_pending(struct resp *h)
{
	flush_queued(h, KSPAN_PEF_NO_RESPONSE);
	while (h->fifo.head)
		report_unanswered(h, fifo_pop(h));
	h->skip_replies = 0;
}

/* MONITOR or replication: what follows is not replies; stop parsing. */
static void go_quiet(struct resp *h)
{
	flush_pending(h);
	set_status(h, KSPAN_PARSER_UPGRADED);
}

/* ---------------------------------------------------------------- direction state */

static void line_begin(struct rdir *d, uint8_t type)
{
	d->type = type;
	d->cr = false;
	d->num_len = 0;
	d->line_len = d->content_len = 0;
	d->phase = PH_LINE;
}

static void bulk_begin(struct rdir *d, uint64_t n)
{
	d->remaining = n;
	d->end_seen = 0;
	d->phase = n ? PH_BULK : PH_BULK_END;
}

static void reader_clear(struct resp *h)
{
	h->depth = h->in_attr = 0;
	h->in_sstr = h->msg_open = h->exec_resolving = false;
	h->cur = NULL;
}

static void unsync(struct resp *h, enum kspan_msg_dir dn)
{
	struct rdir *d = &h->dir[dn];

	d->phase = PH_UNSYNCED;
	d->skipped = 0;
	d->tentative = false;
	if (dn == RESP)
		reader_clear(h);
	else
		h->cmd.active = false;
}

static void skip_bytes(struct resp *h, struct rdir *d, uint64_t n)
{
	d->skipped += n;
	h->base.stats.skipped_bytes += n;
	if (d->skipped > KSPAN_RESP_RESYNC_MAX)
		set_status(h, KSPAN_PARSER_LOST);
}

/* Bytes that break the grammar: fatal, unless we only guessed where a message started. */
static void bad(struct resp *h, enum kspan_msg_dir dn)
{
	if (!h->dir[dn].tentative) {
		set_status(h, KSPAN_PARSER_NOT_PROTO);
		return;
	}
	unsync(h, dn);
}

/*
 * Consumes bytes of the current line from *p, handing its content to `content`. 1 when the
 * line ended (CR LF consumed), 0 when the read ended inside it, -1 when it is not a RESP
 * line (a CR not followed by LF, no CR before the LF, too long, bad content).
 */
static int take_line(struct resp *h, struct rdir *d, const uint8_t **p, const uint8_t *end,
		     int (*content)(struct resp *, struct rdir *, const uint8_t *, size_t))
{
	const uint8_t *s = *p;
	const uint8_t *lf = memchr(s, '\n', end - s);
	size_t n = (lf ? lf : end) - s;

	*p = lf ? lf + 1 : end;
	d->line_len += n + (lf != NULL);
	if (d->line_len > KSPAN_RESP_LINE_MAX)
		return -1;
	if (d->cr) {
		/* The CR ended the previous read: this one must start with the LF. */
		return n || !lf ? -1 : 1;
	}
	if (lf) {
		if (!n || s[n - 1] != '\r')
			return -1;
		n--;
	} else if (n && s[n - 1] == '\r') {
		d->cr = true;
		n--;
	}
	if (memchr(s, '\r', n) || content(h, d, s, n) < 0)
		return -1;
	d->content_len += n;
	return lf != NULL;
}

/* Numeric line content (lengths, counts, integers, '#'): kept in d->num. */
static int num_content(struct resp *h, struct rdir *d, const uint8_t *s, size_t n)
{
	(void)h;
	if (d->num_len + n > NUM_MAX)
		return -1;
	memcpy(d->num + d->num_len, s, n);
	d->num_len += n;
	return 0;
}

/*
 * n bytes were not captured inside a bulk payload or its CR LF: advances over them (the
 * CR LF is framing known by length too). True when the string ended inside them.
 */
static bool gap_in_bulk(struct rdir *d, uint64_t *n)
{
	uint64_t k;

	if (d->phase == PH_BULK) {
		k = MIN(*n, d->remaining);
		d->remaining -= k;
		*n -= k;
		if (d->remaining)
			return false;
		bulk_begin(d, 0);
	}
	k = MIN(*n, (uint64_t)(2 - d->end_seen));
	d->end_seen += k;
	*n -= k;
	return d->end_seen == 2;
}

/* The CR LF after a bulk payload. 1 when both were consumed, 0 for more, -1 when wrong. */
static int take_bulk_end(struct rdir *d, const uint8_t **p, const uint8_t *end)
{
	while (*p < end && d->end_seen < 2) {
		if (**p != "\r\n"[d->end_seen])
			return -1;
		(*p)++;
		d->end_seen++;
	}
	return d->end_seen == 2;
}

/* ---------------------------------------------------------------- commands: arguments */

static void query_add(struct resp *h, const void *s, size_t n)
{
	struct cmd_build *b = &h->cmd;
	size_t room = KSPAN_DB_QUERY_MAX - b->query_len;

	if (b->dbflags & KSPAN_DB_F_QUERY_CUT)
		return;
	if (n > room) {
		n = room;
		b->dbflags |= KSPAN_DB_F_QUERY_CUT;
		h->base.stats.lines_truncated++;
	}
	memcpy(b->query + b->query_len, s, n);
	b->query_len += n;
}

/* Whether argument argi of the command being read is a credential; sets arg_user. */
static bool arg_is_secret(struct cmd_build *b)
{
	if (b->skip) {
		b->skip--;
		if (b->user_next) {
			b->user_next = false;
			b->arg_user = true;
		}
		return true;
	}
	switch (b->secret) {
	case SEC_ALL:
		/* AUTH user password: the user is kept apart (only known from the array header). */
		b->arg_user = b->argi == 1 && b->nargs == 3;
		return true;
	case SEC_RULES:
		return b->argi >= 3;
	default:
		return false;
	}
}

static void arg_begin(struct resp *h)
{
	struct cmd_build *b = &h->cmd;

	b->tok_len = 0;
	b->tok_cut = b->arg_gap = b->arg_user = false;
	b->arg_skip = b->argi > 0 && arg_is_secret(b);
	if (b->arg_user)
		b->user_len = 0;
	if (b->argi > 0)
		query_add(h, " ", 1);
	if (b->arg_skip)
		query_add(h, "?", 1);
}

static void arg_bytes(struct resp *h, const uint8_t *s, size_t n)
{
	struct cmd_build *b = &h->cmd;

	if (b->arg_user) {
		size_t k = MIN(n, (size_t)(USER_MAX - b->user_len));

		memcpy(b->user + b->user_len, s, k);
		b->user_len += k;
	}
	if (b->arg_skip)
		return;
	if (b->tok_len + n > TOK_MAX) {
		b->tok_cut = true;
		memcpy(b->tok + b->tok_len, s, TOK_MAX - b->tok_len);
		b->tok_len = TOK_MAX;
	} else {
		memcpy(b->tok + b->tok_len, s, n);
		b->tok_len += n;
	}
	query_add(h, s, n);
}

/* n bytes of the current argument were not captured. */
static void arg_gap(struct resp *h)
{
	struct cmd_build *b = &h->cmd;

	b->arg_gap = true;
	b->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
	if (!b->arg_skip && !(b->dbflags & KSPAN_DB_F_QUERY_CUT)) {
		b->dbflags |= KSPAN_DB_F_QUERY_CUT;
		h->base.stats.lines_truncated++;
	}
}

/* The argument's token, whole and not redacted. */
static bool tok_usable(const struct cmd_build *b)
{
	return !b->arg_skip && !b->arg_gap && !b->tok_cut;
}

static void cmd_append_word(struct cmd_build *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && b->cmd_len < KSPAN_RESP_COMMAND_MAX; i++) {
		uint8_t c = to_upper(s[i]);

		b->cmd[b->cmd_len++] = c > 0x20 && c < 0x7f ? c : '?';
	}
	b->cmd[b->cmd_len] = '\0';
}

static enum kind kind_of(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (eq_word(name, n, kind_names[i].name))
			return kind_names[i].kind;
	return K_PLAIN;
}

static void name_done(struct cmd_build *b)
{
	b->head = true;
	if (b->arg_gap) {
		b->dbflags |= KSPAN_DB_F_TEXT_UNKNOWN;
		return;
	}
	cmd_append_word(b, b->tok, b->tok_len);
	b->kind = kind_of(b->cmd, b->cmd_len);
	for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
		if (eq_word(b->cmd, b->cmd_len, containers[i]))
			b->container = true;
	if (b->kind == K_AUTH)
		b->secret = SEC_ALL;
	else if (b->kind == K_HELLO)
		b->secret = SEC_AFTER_AUTH;
	else if (eq_nocase(b->cmd, b->cmd_len, "MIGRATE"))
		b->secret = SEC_MIGRATE;
}

static void subcommand_done(struct cmd_build *b)
{
	for (size_t i = 0; i < b->tok_len; i++)
		if (!is_word_byte(b->tok[i]))
			return;
	if (!tok_usable(b) || !b->tok_len)
		return;
	b->cmd[b->cmd_len++] = ' ';
	cmd_append_word(b, b->tok, b->tok_len);
	b->kind = kind_of(b->cmd, b->cmd_len);
	if (eq_nocase(b->cmd, b->cmd_len, "CONFIG SET") ||
	    eq_nocase(b->cmd, b->cmd_len, "SENTINEL SET") ||
	    eq_nocase(b->cmd, b->cmd_len, "SENTINEL CONFIG"))
		b->secret = SEC_PASS_PARAM;
	else if (eq_nocase(b->cmd, b->cmd_len, "ACL SETUSER"))
		b->secret = SEC_RULES;
}

/* After argument argi: which of the following ones are credentials. */
static void secret_after(struct cmd_build *b)
{
	if (b->arg_skip)
		return;
	switch (b->secret) {
	case SEC_AFTER_AUTH:
		/* A lost AUTH token could be AUTH: redact as if it were. */
		if (b->argi >= 1 &&
		    (b->arg_gap || (!b->tok_cut && eq_nocase(b->tok, b->tok_len, "AUTH")))) {
			b->skip = 2;
			b->user_next = !b->arg_gap;
		}
		break;
	case SEC_MIGRATE:
		if (eq_nocase(b->tok, b->tok_len, "AUTH"))
			b->skip = 1;
		else if (eq_nocase(b->tok, b->tok_len, "AUTH2"))
			b->skip = 2;
		break;
	case SEC_PASS_PARAM:
		if (b->argi >= 2 && (has_nocase(b->tok, b->tok_len, "pass") ||
				     has_nocase(b->tok, b->tok_len, "auth")))
			b->skip = 1;
		break;
	default:
		break;
	}
}

static void cmd_end(struct resp *h, uint64_t ts);
static void batch_flush(struct resp *h);

static void arg_end(struct resp *h)
{
	struct cmd_build *b = &h->cmd;

	if (b->argi == 0) {
		name_done(b);
		b->arg0_len = b->query_len;
	} else if (b->argi == 1 && b->container) {
		subcommand_done(b);
	}
	if (b->argi == 1 && tok_usable(b))
		set_str(b->a1, &b->a1_len, TOK_MAX, b->tok, b->tok_len);
	if (b->argi == 2 && tok_usable(b))
		set_str(b->a2, &b->a2_len, TOK_MAX, b->tok, b->tok_len);
	if (b->arg_user && b->arg_gap)
		b->user_len = 0;
	secret_after(b);
	b->argi++;
}

/* ---------------------------------------------------------------- commands: whole */

static void cmd_begin(struct resp *h, uint64_t ts, bool is_inline)
{
	struct cmd_build *b = &h->cmd;
	struct kspan_parser_event ev = { .type = KSPAN_PEV_REQUEST_START, .req_first_ns = ts };

	/* Everything but the buffers. */
	memset(b, 0, offsetof(struct cmd_build, tok));
	b->cmd[0] = '\0';
	b->active = true;
	b->is_inline = is_inline;
	b->first_ns = ts;
	if (pending(h) >= KSPAN_RESP_PENDING_MAX)
		return;
	b->tracked = true;
	b->seq = ++h->last_seq;
	ev.req_seq = b->seq;
	if (h->base.on_event)
		h->base.on_event(h->base.ctx, &ev);
}

/* The command authenticates the user captured from its arguments (if any). */
static void set_user(struct resp *h, struct resp_cmd *r)
{
	struct cmd_build *b = &h->cmd;

	if (!b->user_len)
		return;
	set_str(r->prev, &r->prev_len, USER_MAX, h->user, h->user_len);
	set_str(h->user, &h->user_len, USER_MAX, b->user, b->user_len);
	r->changed = true;
}

/* Request-side effects of a command: namespace, user, reply mode, confirmations due. */
static void cmd_effects(struct resp *h, struct resp_cmd *r)
{
	struct cmd_build *b = &h->cmd;
	uint64_t nargs = b->is_inline ? b->argi : b->nargs;
	bool digits = b->a1_len && b->a1_len <= 10;

	for (size_t i = 0; i < b->a1_len; i++)
		digits &= is_digit(b->a1[i]);
	switch (b->kind) {
	case K_SELECT:
		if (digits && nargs == 2) {
			set_str(r->prev, &r->prev_len, USER_MAX, h->ns, h->ns_len);
			set_str(h->ns, &h->ns_len, NS_MAX, b->a1, b->a1_len);
			r->changed = true;
		}
		break;
	case K_AUTH:
		/* AUTH password authenticates the "default" user; inline, the count is unknown. */
		if (!b->is_inline && nargs == 2)
			set_str(b->user, &b->user_len, USER_MAX, "default", 7);
		else if (b->is_inline || nargs != 3)
			break;
		set_user(h, r);
		break;
	case K_HELLO:
		if (b->a1_len == 1 && (b->a1[0] == '2' || b->a1[0] == '3'))
			r->proto = b->a1[0] - '0';
		set_user(h, r);
		break;
	case K_RESET:
		set_str(h->ns, &h->ns_len, NS_MAX, "0", 1);
		set_str(h->user, &h->user_len, USER_MAX, "default", 7);
		h->reply_mode = RM_ON;
		break;
	case K_SUB:
	case K_PSUB:
	case K_SSUB:
	case K_UNSUB:
	case K_PUNSUB:
	case K_SUNSUB:
		r->sub_expect = nargs - 1;
		break;
	default:
		break;
	}
	/* CLIENT REPLY OFF|SKIP: this command and (OFF) every one until ON get no reply. */
	if (b->kind == K_CLIENT_REPLY && nargs == 3 && eq_nocase(b->a2, b->a2_len, "OFF")) {
		r->no_reply = true;
		h->reply_mode = RM_OFF;
	} else if (b->kind == K_CLIENT_REPLY && nargs == 3 && eq_nocase(b->a2, b->a2_len, "SKIP")) {
		r->no_reply = true;
		if (h->reply_mode == RM_ON)
			h->reply_mode = RM_SKIP_NEXT;
	} else if (b->kind == K_CLIENT_REPLY && nargs == 3 && eq_nocase(b->a2, b->a2_len, "ON")) {
		h->reply_mode = RM_ON;
	} else if (h->reply_mode != RM_ON && b->kind != K_RESET) {
		r->no_reply = true;
		if (h->reply_mode == RM_SKIP_NEXT)
			h->reply_mode = RM_ON;
	}
}

/* A command after the pending cap: framed, not reported; its reply is skipped. */
static void untracked_done(struct resp *h, const struct resp_cmd *r)
{
	struct resp_cmd *tail = h->batch.tail ? h->batch.tail : h->fifo.tail;

	h->base.stats.fields_dropped++;
	if (r->no_reply)
		return;
	if (tail)
		tail->untracked_after++;
	else
		h->skip_replies++;
}

static void cmd_end(struct resp *h, uint64_t ts)
{
	struct cmd_build *b = &h->cmd;
	struct resp_cmd scratch, *r = &scratch;
	size_t qlen = b->query_len;

	b->active = false;
	h->dir[REQ].tentative = false;
	if (b->tracked) {
		if (h->pending_text + qlen > KSPAN_RESP_PENDING_TEXT_MAX) {
			qlen = MIN(qlen, b->arg0_len);
			b->dbflags |= KSPAN_DB_F_QUERY_CUT;
		}
		r = calloc(1, sizeof(*r) + qlen + 1);
		if (!r) {
			set_status(h, KSPAN_PARSER_LOST);
			return;
		}
	} else {
		memset(r, 0, sizeof(*r));
	}
	r->kind = b->kind;
	cmd_effects(h, r);
	if (!b->tracked) {
		untracked_done(h, r);
		return;
	}
	r->seq = b->seq;
	r->first_ns = b->first_ns;
	r->last_ns = ts;
	r->pflags = b->pflags;
	r->dbflags = b->dbflags;
	memcpy(r->cmd, b->cmd, b->cmd_len + 1);
	r->cmd_len = b->cmd_len;
	memcpy(r->query, b->query, qlen);
	r->query[qlen] = '\0';
	r->query_len = qlen;
	h->pending_text += qlen;
	set_str(r->ns, &r->ns_len, NS_MAX, h->ns, h->ns_len);
	set_str(r->user, &r->user_len, USER_MAX, h->user, h->user_len);
	h->base.stats.requests++;
	list_push(&h->batch, r);
	h->batch_wait += !r->no_reply;
	/* A read of more commands than that is reported in parts (CLIENT REPLY OFF). */
	if (h->batch.len >= KSPAN_RESP_PENDING_MAX)
		batch_flush(h);
}

/*
 * The end of a read of commands: those completed in it are reported (REQUEST), with the
 * batch size when it held several, and wait for their replies. They are reported even when
 * bytes later in the read stopped the parser, so that where reads split the bytes does not
 * change the events.
 */
static void batch_flush(struct resp *h)
{
	uint32_t n = h->batch.len;
	struct resp_cmd *r;

	h->batch_wait = 0;
	while ((r = list_pop(&h->batch))) {
		r->batch = n >= 2 ? n : 0;
		emit(h, KSPAN_PEV_REQUEST, 0, r, NULL);
		if (!r->no_reply && !active(h)) {
			free_cmd(h, r);
			continue;
		}
		if (!r->no_reply) {
			list_push(&h->fifo, r);
			continue;
		}
		/* Untracked commands after it now follow whatever precedes it. */
		if (r->untracked_after) {
			struct resp_cmd *prev = h->fifo.tail;

			if (prev)
				prev->untracked_after += r->untracked_after;
			else
				h->skip_replies += r->untracked_after;
		}
		report_unanswered(h, r);
	}
}

/* ---------------------------------------------------------------- commands: framing */

static void req_line_done(struct resp *h, uint64_t ts)
{
	struct rdir *d = &h->dir[REQ];
	struct cmd_build *b = &h->cmd;
	int64_t n;

	if (!parse_int(d->num, d->num_len, &n, NULL)) {
		bad(h, REQ);
		return;
	}
	if (d->type == '*') {
		if (n > KSPAN_RESP_ARGS_MAX) {
			bad(h, REQ);
		} else if (n <= 0) {
			/* Redis ignores empty and null arrays. */
			d->phase = PH_IDLE;
		} else {
			cmd_begin(h, ts, false);
			b->nargs = b->args_left = n;
			d->phase = PH_TYPE;
		}
		return;
	}
	if (n < 0 || (uint64_t)n > KSPAN_RESP_BULK_MAX) {
		bad(h, REQ);
		return;
	}
	arg_begin(h);
	bulk_begin(d, n);
}

static void req_arg_done(struct resp *h, uint64_t ts)
{
	struct rdir *d = &h->dir[REQ];

	arg_end(h);
	if (--h->cmd.args_left) {
		d->phase = PH_TYPE;
		return;
	}
	cmd_end(h, ts);
	d->phase = PH_IDLE;
}

static void inline_byte(struct resp *h, uint8_t c)
{
	arg_bytes(h, &c, 1);
}

/* One byte of an inline command line (not its LF), split like Redis's sdssplitargs. */
static void inline_step(struct resp *h, uint8_t c)
{
	struct cmd_build *b = &h->cmd;

again:
	switch (b->is) {
	case IS_WS:
		if (is_blank(c))
			return;
		arg_begin(h);
		b->is = IS_ARG;
		goto again;
	case IS_ARG:
		if (c == ' ' || c == '\t' || c == '\r' || c == '\0') {
			arg_end(h);
			b->is = IS_WS;
		} else if (c == '"') {
			b->is = IS_DQ;
		} else if (c == '\'') {
			b->is = IS_SQ;
		} else {
			inline_byte(h, c);
		}
		return;
	case IS_DQ:
		if (c == '\\')
			b->is = IS_DQ_ESC;
		else if (c == '"')
			b->is = IS_CLOSED;
		else
			inline_byte(h, c);
		return;
	case IS_DQ_ESC:
		b->is = IS_DQ;
		switch (c) {
		case 'x':
			b->is = IS_DQ_X;
			return;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'b':
			c = '\b';
			break;
		case 'a':
			c = '\a';
			break;
		}
		inline_byte(h, c);
		return;
	case IS_DQ_X:
		if (is_hex(c)) {
			b->hex = c;
			b->is = IS_DQ_X1;
			return;
		}
		inline_byte(h, 'x');
		b->is = IS_DQ;
		goto again;
	case IS_DQ_X1:
		if (is_hex(c)) {
			inline_byte(h, hex_val(b->hex) << 4 | hex_val(c));
			b->hex = 0;
			b->is = IS_DQ;
			return;
		}
		inline_byte(h, 'x');
		inline_byte(h, b->hex);
		b->hex = 0;
		b->is = IS_DQ;
		goto again;
	case IS_SQ:
		if (c == '\\')
			b->is = IS_SQ_ESC;
		else if (c == '\'')
			b->is = IS_CLOSED;
		else
			inline_byte(h, c);
		return;
	case IS_SQ_ESC:
		b->is = IS_SQ;
		if (c == '\'') {
			inline_byte(h, c);
			return;
		}
		inline_byte(h, '\\');
		goto again;
	case IS_CLOSED:
		/* Redis refuses a closing quote not followed by a blank; the argument ends here. */
		arg_end(h);
		b->is = IS_WS;
		if (!is_blank(c))
			goto again;
		return;
	}
}

/* Bytes of an inline command line, up to and including its LF. */
static void take_inline(struct resp *h, const uint8_t **p, const uint8_t *end, uint64_t ts)
{
	struct rdir *d = &h->dir[REQ];
	struct cmd_build *b = &h->cmd;

	while (*p < end && d->phase == PH_INLINE) {
		uint8_t c = *(*p)++;

		if (++d->line_len > KSPAN_RESP_LINE_MAX ||
		    (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\v' && c != '\f') ||
		    c == 0x7f) {
			bad(h, REQ);
			return;
		}
		if (c != '\n') {
			inline_step(h, c);
			continue;
		}
		if (b->is != IS_WS)
			arg_end(h);
		cmd_end(h, ts);
		d->phase = PH_IDLE;
	}
}

static void req_consume(struct resp *h, const uint8_t *p, const uint8_t *end, uint64_t ts)
{
	struct rdir *d = &h->dir[REQ];
	int r;

	while (p < end && active(h)) {
		switch (d->phase) {
		case PH_IDLE:
			while (p < end && (is_blank(*p) || *p == '\n'))
				p++;
			if (p == end)
				break;
			if (*p == '*') {
				line_begin(d, *p++);
				d->first_ns = ts;
				break;
			}
			cmd_begin(h, ts, true);
			h->cmd.is = IS_WS;
			d->line_len = 0;
			d->phase = PH_INLINE;
			break;
		case PH_TYPE:
			if (*p != '$') {
				bad(h, REQ);
				break;
			}
			line_begin(d, *p++);
			break;
		case PH_LINE:
			r = take_line(h, d, &p, end, num_content);
			if (r < 0)
				bad(h, REQ);
			else if (r > 0)
				req_line_done(h, d->type == '*' ? d->first_ns : ts);
			break;
		case PH_BULK: {
			uint64_t k = MIN((uint64_t)(end - p), d->remaining);

			arg_bytes(h, p, k);
			p += k;
			d->remaining -= k;
			if (!d->remaining)
				bulk_begin(d, 0);
			break;
		}
		case PH_BULK_END:
			r = take_bulk_end(d, &p, end);
			if (r < 0)
				bad(h, REQ);
			else if (r > 0)
				req_arg_done(h, ts);
			break;
		case PH_INLINE:
			take_inline(h, &p, end, ts);
			break;
		case PH_UNSYNCED:
			skip_bytes(h, d, end - p);
			p = end;
			break;
		}
	}
}

/*
 * Command bytes were lost where framing cannot follow. The command being read is kept if
 * its name was (the server will answer it); replies after those of the commands known so
 * far belong to commands we never saw.
 */
static void lose_req(struct resp *h, uint64_t ts)
{
	struct cmd_build *b = &h->cmd;

	if (b->active && b->tracked && b->head) {
		b->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
		if (!(b->dbflags & KSPAN_DB_F_QUERY_CUT)) {
			b->dbflags |= KSPAN_DB_F_QUERY_CUT;
			h->base.stats.lines_truncated++;
		}
		cmd_end(h, ts);
	}
	h->barrier = h->last_seq;
	h->barrier_set = true;
	unsync(h, REQ);
}

static void req_gap(struct resp *h, uint64_t n, uint64_t ts)
{
	struct rdir *d = &h->dir[REQ];

	while (n && active(h)) {
		switch (d->phase) {
		case PH_BULK:
		case PH_BULK_END:
			if (d->phase == PH_BULK)
				arg_gap(h);
			if (gap_in_bulk(d, &n))
				req_arg_done(h, ts);
			break;
		case PH_UNSYNCED:
			skip_bytes(h, d, n);
			n = 0;
			break;
		default:
			lose_req(h, ts);
			n = 0;
			break;
		}
	}
}

/* ---------------------------------------------------------------- replies: pairing */

enum target { T_CMD, T_ORPHAN, T_SKIP, T_LOST };

/* Lost framing of replies: wait for a read that starts like one, after a new command. */
static void lose_resp_sync(struct resp *h, uint64_t upto)
{
	if (upto > h->lost_at)
		h->lost_at = upto;
	unsync(h, RESP);
}

/* Who the next reply answers: *r (the oldest waiting command), an untracked one, or nobody. */
static enum target next_target(struct resp *h, struct resp_cmd **r)
{
	*r = h->fifo.head;
	if (h->skip_replies)
		return T_SKIP;
	if (h->barrier_set && (!*r || (*r)->seq > h->barrier)) {
		h->barrier_set = false;
		lose_resp_sync(h, h->barrier);
		return T_LOST;
	}
	return *r ? T_CMD : T_ORPHAN;
}

static bool is_status(const struct rval *v, const char *s)
{
	return v->type == '+' && eq_nocase(v->text, v->text_len, s);
}

static bool subscribed(const struct resp *h)
{
	return h->chanpat > 0 || h->nshard > 0;
}

static bool is_sub_family(enum kind k)
{
	return k >= K_SUB && k <= K_SUNSUB;
}

/* What a reply does to the connection, before it is reported. */
static void reply_effects(struct resp *h, struct resp_cmd *r, const struct rval *v)
{
	bool ok = !v->is_error;

	switch (r->kind) {
	case K_MULTI:
		if (ok) {
			flush_queued(h, 0);
			h->in_multi = true;
			h->txn = 0;
		}
		break;
	case K_EXEC:
		flush_queued(h, 0);
		if (h->txn >= 2)
			r->batch = h->txn;
		h->in_multi = false;
		h->txn = 0;
		break;
	case K_DISCARD:
		if (ok) {
			flush_queued(h, 0);
			h->in_multi = false;
			h->txn = 0;
		}
		break;
	case K_RESET:
		if (is_status(v, "RESET")) {
			flush_queued(h, 0);
			h->in_multi = h->resp3 = false;
			h->txn = 0;
			h->chanpat = h->npat = h->nshard = 0;
		}
		break;
	case K_SELECT:
		if (!ok && r->changed && !strcmp(h->ns, r->ns))
			set_str(h->ns, &h->ns_len, NS_MAX, r->prev, r->prev_len);
		break;
	case K_AUTH:
	case K_HELLO:
		if (!ok && r->changed && !strcmp(h->user, r->user))
			set_str(h->user, &h->user_len, USER_MAX, r->prev, r->prev_len);
		if (ok && r->proto)
			h->resp3 = r->proto == 3;
		break;
	default:
		break;
	}
}

/* A reply (not a push) is complete. */
static void reply_done(struct resp *h)
{
	const struct rval *v = &h->top;
	struct resp_cmd *r;
	bool quiet;

	switch (next_target(h, &r)) {
	case T_SKIP:
		h->skip_replies--;
		return;
	case T_LOST:
		return;
	case T_ORPHAN:
		h->base.stats.orphan_responses++;
		emit(h, KSPAN_PEV_EXCHANGE, KSPAN_PEF_NO_REQUEST, NULL, v);
		return;
	case T_CMD:
		break;
	}
	fifo_pop(h);
	if (h->in_multi && is_status(v, "QUEUED") && r->kind != K_EXEC && r->kind != K_DISCARD &&
	    r->kind != K_MULTI) {
		r->resp_first_ns = v->first_ns;
		r->resp_last_ns = v->last_ns;
		list_push(&h->queued, r);
		h->txn++;
		return;
	}
	reply_effects(h, r, v);
	emit(h, KSPAN_PEV_EXCHANGE, 0, r, v);
	quiet = r->kind == K_MONITOR && is_status(v, "OK");
	free_cmd(h, r);
	if (quiet)
		go_quiet(h);
}

/* Subscription counts after a confirmation ("subscribe", channel, count). */
static void update_subs(struct resp *h, enum kind k)
{
	int64_t c = h->sub_count;

	if (!h->sub_count_ok || c < 0)
		return;
	switch (k) {
	case K_SSUB:
	case K_SUNSUB:
		h->nshard = c;
		break;
	case K_PSUB:
	case K_PUNSUB:
		h->npat += c - h->chanpat;
		h->chanpat = c;
		break;
	default:
		h->chanpat = c;
		break;
	}
	if (h->npat < 0)
		h->npat = 0;
	if (h->npat > h->chanpat)
		h->npat = h->chanpat;
}

/* Subscriptions an argument-less unsubscribe of kind k still has to drop. */
static int64_t subs_left(const struct resp *h, enum kind k)
{
	if (!h->sub_count_ok)
		return 0;
	switch (k) {
	case K_UNSUB:
		return h->chanpat - h->npat;
	case K_PUNSUB:
		return h->npat;
	default:
		return h->nshard;
	}
}

/* A (un)subscribe confirmation: it answers the waiting command of that kind, if any. */
static void confirmation(struct resp *h, enum kind k)
{
	struct resp_cmd *r;
	struct rval v;
	bool done;

	update_subs(h, k);
	switch (next_target(h, &r)) {
	case T_SKIP:
		h->skip_replies--;
		return;
	case T_CMD:
		break;
	default:
		return;
	}
	if (r->kind != k)
		return; /* one more for a command already reported */
	if (!r->sub_got++)
		r->resp_first_ns = h->top.first_ns;
	done = r->sub_expect ? r->sub_got >= r->sub_expect : subs_left(h, k) <= 0;
	if (!done)
		return;
	fifo_pop(h);
	v = h->top;
	v.first_ns = r->resp_first_ns;
	v.type = '>'; /* a confirmation (a push in RESP3) returns no rows */
	emit(h, KSPAN_PEV_EXCHANGE, 0, r, &v);
	free_cmd(h, r);
}

/* Pub/sub kind of the message just read: 0 none, else index+1 in push_kinds. */
static int push_kind(const struct resp *h)
{
	if (!h->kind_ok)
		return 0;
	for (size_t i = 0; i < sizeof(push_kinds) / sizeof(push_kinds[0]); i++)
		if (h->kind_len == push_kinds[i].name.len &&
		    !memcmp(h->kind, push_kinds[i].name.s, h->kind_len) &&
		    h->top.count == push_kinds[i].elements)
			return (int)i + 1;
	return 0;
}

/* A top-level value is complete: a push, a confirmation or a reply. */
static void msg_done(struct resp *h, uint64_t ts)
{
	struct rval *v = &h->top;
	int pk;
	enum kind confirms = K_PLAIN;

	v->last_ns = ts;
	h->msg_open = false;
	h->exec_resolving = false;
	h->dir[RESP].tentative = false;
	if (is_resp3_only(v->type))
		h->resp3 = true;
	pk = v->type == '>' || v->type == '*' ? push_kind(h) : 0;
	if (pk)
		confirms = push_kinds[pk - 1].confirms;
	if (v->type == '>') {
		/* RESP3 pushes answer no command; subscription confirmations are pushes too. */
		if (confirms != K_PLAIN)
			confirmation(h, confirms);
		return;
	}
	if (v->type == '*' && !h->resp3 && pk) {
		/*
		 * RESP2: in subscribed mode (or when the waiting command is one that mode
		 * allows) a message array is pushed, and confirmations answer (un)subscribes.
		 */
		const struct resp_cmd *r = h->skip_replies ? NULL : h->fifo.head;
		enum kind rk = r ? r->kind : K_PLAIN;
		bool allowed = !r || rk == K_PING || rk == K_QUIT || rk == K_RESET ||
			       is_sub_family(rk);

		if (confirms == K_PLAIN && (subscribed(h) || allowed))
			return;
		if (confirms != K_PLAIN && (subscribed(h) || !r || is_sub_family(rk))) {
			confirmation(h, confirms);
			return;
		}
	}
	reply_done(h);
}

/* An element of the top-level aggregate is complete. */
static void elem_done(struct resp *h, uint64_t idx, uint64_t ts)
{
	struct rval *e = &h->elem;

	e->last_ns = ts;
	if (idx == 0 && !e->null && (e->type == '$' || e->type == '+') && !e->text_cut) {
		memcpy(h->kind, e->text, e->text_len);
		h->kind_len = e->text_len;
		h->kind_ok = true;
	}
	if (idx == 2 && e->type == ':' && e->num_ok) {
		h->sub_count = e->num;
		h->sub_count_ok = true;
	}
	if (h->exec_resolving && h->queued.head) {
		/* EXEC's array: element i is the result of the i-th queued command. */
		struct resp_cmd *r = list_pop(&h->queued);

		if (h->txn >= 2)
			r->batch = h->txn;
		emit(h, KSPAN_PEV_EXCHANGE, 0, r, e);
		free_cmd(h, r);
	}
}

/* ---------------------------------------------------------------- replies: reading */

static void text_add(struct rval *v, const uint8_t *s, size_t n)
{
	size_t room = v->cap - v->text_len;

	if (n > room) {
		n = room;
		v->text_cut = true;
	}
	memcpy(v->text + v->text_len, s, n);
	v->text_len += n;
	v->text[v->text_len] = '\0';
}

/* Reply line content by type: text kept, numbers gathered, the rest validated. */
static int reply_content(struct resp *h, struct rdir *d, const uint8_t *s, size_t n)
{
	switch (d->type) {
	case '+':
	case '-':
		if (h->cur)
			text_add(h->cur, s, n);
		return 0;
	case '(':
		for (size_t i = 0; i < n; i++)
			if (!is_digit(s[i]) && !(s[i] == '-' && d->content_len + i == 0))
				return -1;
		return 0;
	case ',':
		for (size_t i = 0; i < n; i++)
			if (!is_double_byte(s[i]))
				return -1;
		return 0;
	case '_':
	case '.':
		return n ? -1 : 0;
	default:
		return num_content(h, d, s, n);
	}
}

/*
 * A reply can go quiet on its first byte: the answer to SYNC/PSYNC is followed by the
 * replication stream.
 */
static bool msg_begin(struct resp *h, uint8_t type, uint64_t ts)
{
	struct resp_cmd *r = h->skip_replies ? NULL : h->fifo.head;

	memset(&h->top, 0, offsetof(struct rval, text));
	h->top.first_ns = ts;
	h->msg_open = true;
	h->kind_ok = h->sub_count_ok = false;
	h->exec_resolving = false;
	if (r && r->kind == K_SYNC && type != '>' && type != '|' &&
	    !(h->barrier_set && r->seq > h->barrier)) {
		fifo_pop(h);
		h->top.type = type;
		h->top.last_ns = ts;
		emit(h, KSPAN_PEV_EXCHANGE, 0, r, &h->top);
		free_cmd(h, r);
		go_quiet(h);
		return false;
	}
	return true;
}

/* A value starts with its type byte at the current depth. */
static bool value_start(struct resp *h, uint8_t type, uint64_t ts)
{
	struct rval *v;

	if (!h->depth && !h->msg_open && !msg_begin(h, type, ts))
		return false;
	h->cur = NULL;
	if (h->in_attr || type == '|' || h->depth > 1)
		return true;
	v = h->depth ? &h->elem : &h->top;
	if (h->depth) {
		memset(v, 0, offsetof(struct rval, text));
		v->first_ns = ts;
	}
	v->type = type;
	v->is_error = type == '-' || type == '!';
	v->text_len = 0;
	v->text_cut = false;
	v->text[0] = '\0';
	if (v->is_error)
		v->cap = KSPAN_RESP_ERROR_MAX;
	else if (!h->depth && type == '+')
		v->cap = STATUS_KEEP;
	else if (h->depth && h->stk[0].idx == 0)
		v->cap = KIND_MAX;
	else
		v->cap = 0;
	h->cur = v;
	return true;
}

/* The innermost aggregate is complete; true when it was an attribute. */
static bool pop_level(struct resp *h)
{
	struct level *l = &h->stk[--h->depth];
	bool attr = l->type == '|';

	if (attr)
		h->in_attr--;
	if (l->streamed && !h->in_attr && !attr && h->depth <= 1) {
		struct rval *v = h->depth ? &h->elem : &h->top;

		v->count = l->type == '%' ? l->idx / 2 : l->idx;
	}
	return attr;
}

/* A value (attr: an attribute) is complete at the current depth; closes what it completes. */
static void value_done(struct resp *h, uint64_t ts, bool attr)
{
	h->dir[RESP].phase = PH_TYPE;
	h->cur = NULL;
	for (;;) {
		struct level *l;

		if (!h->depth) {
			if (!attr)
				msg_done(h, ts);
			return;
		}
		if (attr)
			return; /* an attribute is not an element */
		l = &h->stk[h->depth - 1];
		if (h->depth == 1 && !h->in_attr)
			elem_done(h, l->idx, ts);
		l->idx++;
		if (l->streamed || --l->left)
			return;
		attr = pop_level(h);
	}
}

static bool push_level(struct resp *h, uint8_t type, uint64_t left, bool streamed)
{
	struct level *l;

	if (h->depth == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : DEPTH_MIN;
		struct level *n;

		if (h->depth >= KSPAN_RESP_DEPTH_MAX) {
			set_status(h, KSPAN_PARSER_LOST);
			return false;
		}
		n = realloc(h->stk, MIN(cap, (uint32_t)KSPAN_RESP_DEPTH_MAX) * sizeof(*n));
		if (!n) {
			set_status(h, KSPAN_PARSER_LOST);
			return false;
		}
		h->stk = n;
		h->cap = MIN(cap, (uint32_t)KSPAN_RESP_DEPTH_MAX);
	}
	l = &h->stk[h->depth++];
	l->type = type;
	l->left = left;
	l->idx = 0;
	l->streamed = streamed;
	if (type == '|')
		h->in_attr++;
	return true;
}

static void resp_line_done(struct resp *h, uint64_t ts)
{
	struct rdir *d = &h->dir[RESP];
	uint8_t t = d->type;
	int64_t n = 0;
	bool q = false;

	d->phase = PH_TYPE;
	switch (t) {
	case '+':
	case '-':
	case '(':
	case ',':
		value_done(h, ts, false);
		return;
	case '_':
		if (h->cur)
			h->cur->null = true;
		value_done(h, ts, false);
		return;
	case '#':
		if (d->num_len != 1 || (d->num[0] != 't' && d->num[0] != 'f')) {
			bad(h, RESP);
			return;
		}
		value_done(h, ts, false);
		return;
	case '.':
		if (!h->depth || !h->stk[h->depth - 1].streamed) {
			bad(h, RESP);
			return;
		}
		value_done(h, ts, pop_level(h));
		return;
	default:
		break;
	}
	if (!parse_int(d->num, d->num_len, &n, &q)) {
		bad(h, RESP);
		return;
	}
	switch (t) {
	case ':':
		if (q) {
			bad(h, RESP);
			return;
		}
		if (h->cur) {
			h->cur->num = n;
			h->cur->num_ok = true;
		}
		value_done(h, ts, false);
		return;
	case ';':
		if (q || n < 0 || (uint64_t)n > KSPAN_RESP_BULK_MAX) {
			bad(h, RESP);
		} else if (!n) {
			h->in_sstr = false;
			value_done(h, ts, false);
		} else {
			bulk_begin(d, n);
		}
		return;
	case '$':
	case '!':
	case '=':
		if (q && t == '$') {
			h->in_sstr = true;
		} else if (n == -1 && t == '$') {
			if (h->cur)
				h->cur->null = true;
			value_done(h, ts, false);
		} else if (q || n < 0 || (uint64_t)n > KSPAN_RESP_BULK_MAX) {
			bad(h, RESP);
		} else {
			bulk_begin(d, n);
		}
		return;
	default: /* aggregates */
		break;
	}
	if (q) {
		if (t != '*' && t != '%' && t != '~')
			bad(h, RESP);
		else
			push_level(h, t, 0, true);
		return;
	}
	if (n == -1 && t == '*') {
		if (h->cur)
			h->cur->null = true;
		value_done(h, ts, false);
		return;
	}
	if (n < 0) {
		bad(h, RESP);
		return;
	}
	if (h->cur)
		h->cur->count = n;
	if (!h->depth && t == '*' && !h->in_attr && h->queued.head && !h->skip_replies &&
	    h->fifo.head && h->fifo.head->kind == K_EXEC &&
	    !(h->barrier_set && h->fifo.head->seq > h->barrier))
		h->exec_resolving = true;
	if (!n)
		value_done(h, ts, t == '|');
	else
		push_level(h, t, (uint64_t)n * (t == '%' || t == '|' ? 2 : 1), false);
}

static void resp_consume(struct resp *h, const uint8_t *p, const uint8_t *end, uint64_t ts)
{
	struct rdir *d = &h->dir[RESP];
	int r;

	while (p < end && active(h)) {
		switch (d->phase) {
		case PH_IDLE:
		case PH_TYPE: {
			uint8_t c = *p;

			if (h->in_sstr ? c != ';' : c != '.' && !is_value_type(c)) {
				bad(h, RESP);
				break;
			}
			if (c == '.' && !h->depth) {
				bad(h, RESP);
				break;
			}
			if (c != ';' && c != '.' && !value_start(h, c, ts))
				break;
			line_begin(d, c);
			p++;
			break;
		}
		case PH_LINE:
			r = take_line(h, d, &p, end, reply_content);
			if (r < 0)
				bad(h, RESP);
			else if (r > 0)
				resp_line_done(h, ts);
			break;
		case PH_BULK: {
			uint64_t k = MIN((uint64_t)(end - p), d->remaining);

			if (h->cur)
				text_add(h->cur, p, k);
			p += k;
			d->remaining -= k;
			if (!d->remaining)
				bulk_begin(d, 0);
			break;
		}
		case PH_BULK_END:
			r = take_bulk_end(d, &p, end);
			if (r < 0)
				bad(h, RESP);
			else if (r > 0 && d->type == ';')
				d->phase = PH_TYPE;
			else if (r > 0)
				value_done(h, ts, false);
			break;
		case PH_INLINE:
		case PH_UNSYNCED:
			skip_bytes(h, d, end - p);
			p = end;
			break;
		}
	}
}

/* Whether the message in progress could be a push rather than a reply. */
static bool push_guess(const struct resp *h)
{
	return h->top.type == '>' || (!h->resp3 && subscribed(h) && h->top.type == '*');
}

/*
 * Reply bytes were lost where framing cannot follow: the reply in progress is reported
 * cut; those of commands up to now may be in the lost bytes.
 */
static void lose_resp(struct resp *h, uint64_t ts)
{
	struct resp_cmd *r;

	if (h->msg_open && !push_guess(h)) {
		switch (next_target(h, &r)) {
		case T_SKIP:
			h->skip_replies--;
			break;
		case T_CMD: {
			struct rval v = h->top;

			fifo_pop(h);
			if (r->kind == K_EXEC) {
				flush_queued(h, KSPAN_PEF_NO_RESPONSE);
				h->in_multi = false;
				h->txn = 0;
			}
			if (r->sub_got)
				v.first_ns = r->resp_first_ns;
			v.last_ns = ts;
			emit(h, KSPAN_PEV_EXCHANGE, KSPAN_PEF_RESP_INCOMPLETE, r, &v);
			free_cmd(h, r);
			break;
		}
		default:
			break;
		}
	}
	if (active(h) && h->dir[RESP].phase != PH_UNSYNCED)
		lose_resp_sync(h, h->last_seq);
}

static void resp_gap(struct resp *h, uint64_t n, uint64_t ts)
{
	struct rdir *d = &h->dir[RESP];

	while (n && active(h)) {
		switch (d->phase) {
		case PH_BULK:
		case PH_BULK_END:
			if (d->phase == PH_BULK && h->cur && h->cur->text_len < h->cur->cap)
				h->cur->text_cut = true;
			if (!gap_in_bulk(d, &n))
				break;
			if (d->type == ';')
				d->phase = PH_TYPE;
			else
				value_done(h, ts, false);
			break;
		case PH_UNSYNCED:
		case PH_INLINE:
			skip_bytes(h, d, n);
			n = 0;
			break;
		default:
			lose_resp(h, ts);
			n = 0;
			break;
		}
	}
}

/* ---------------------------------------------------------------- resync */

static void try_resync(struct resp *h, enum kspan_msg_dir dn, const uint8_t *buf, size_t n)
{
	struct rdir *d = &h->dir[dn];

	if (dn == REQ) {
		if (multibulk_conf(buf, n) < 60)
			return;
		d->phase = PH_IDLE;
	} else {
		/* Replies can only be paired once a command sent after the loss waits for one. */
		if (!h->fifo.tail || h->fifo.tail->seq <= h->lost_at ||
		    scan_reply_start(buf, n) < 0)
			return;
		while (h->fifo.head && h->fifo.head->seq <= h->lost_at)
			report_unanswered(h, fifo_pop(h));
		h->skip_replies = 0;
		if (h->barrier_set && h->barrier <= h->lost_at)
			h->barrier_set = false;
		reader_clear(h);
		d->phase = PH_TYPE;
	}
	d->tentative = true;
	d->skipped = 0;
	h->base.stats.resyncs++;
}

/* ---------------------------------------------------------------- interface */

static int resp_feed(struct kspan_parser *p, enum kspan_msg_dir dn, const uint8_t *buf,
		     size_t captured, size_t len, uint64_t ts_ns)
{
	struct resp *h = to_resp(p);

	if ((dn != REQ && dn != RESP) || captured > len || (!buf && captured))
		return -EINVAL;
	if (!active(h))
		return status_rc(h);
	h->dir[dn].last_ns = ts_ns;
	if (h->dir[dn].phase == PH_UNSYNCED && captured)
		try_resync(h, dn, buf, captured);
	if (dn == REQ) {
		if (captured)
			req_consume(h, buf, buf + captured, ts_ns);
		h->base.stats.gap_bytes += len - captured;
		if (len > captured && active(h))
			req_gap(h, len - captured, ts_ns);
		batch_flush(h);
	} else {
		if (captured)
			resp_consume(h, buf, buf + captured, ts_ns);
		h->base.stats.gap_bytes += len - captured;
		if (len > captured && active(h))
			resp_gap(h, len - captured, ts_ns);
	}
	return status_rc(h);
}

static void resp_clear(struct resp *h, unsigned int flags)
{
	list_free(h, &h->batch);
	list_free(h, &h->fifo);
	list_free(h, &h->queued);
	h->batch_wait = 0;
	h->pending_text = 0;
	h->skip_replies = h->lost_at = h->barrier = 0;
	h->barrier_set = false;
	memset(h->dir, 0, sizeof(h->dir));
	for (int i = 0; i < 2; i++)
		h->dir[i].phase = flags & KSPAN_PARSER_MIDSTREAM ? PH_UNSYNCED :
				  i == REQ			 ? PH_IDLE :
								   PH_TYPE;
	h->lost_at = h->last_seq;
	if (flags & KSPAN_PARSER_MIDSTREAM) {
		h->ns_len = h->user_len = 0;
	} else {
		set_str(h->ns, &h->ns_len, NS_MAX, "0", 1);
		h->user_len = 0;
	}
	h->ns[h->ns_len] = h->user[h->user_len] = '\0';
	h->reply_mode = RM_ON;
	h->resp3 = h->in_multi = false;
	h->txn = 0;
	h->chanpat = h->npat = h->nshard = 0;
	reader_clear(h);
	h->cmd.active = false;
	h->flags = flags;
	h->base.status = KSPAN_PARSER_ACTIVE;
}

static int resp_eof(struct kspan_parser *p, uint64_t ts_ns)
{
	struct resp *h = to_resp(p);

	if (active(h)) {
		struct cmd_build *b = &h->cmd;

		/* A reply cut by the close. */
		if (h->msg_open && h->dir[RESP].phase != PH_UNSYNCED)
			lose_resp(h, h->dir[RESP].last_ns);
		/* A command cut by the close: the server never ran it. */
		if (active(h) && b->active && b->tracked && b->head) {
			b->pflags |= KSPAN_PEF_REQ_INCOMPLETE;
			cmd_end(h, ts_ns);
			batch_flush(h);
		}
		if (active(h))
			flush_pending(h);
	}
	resp_clear(h, h->flags);
	return 0;
}

static void resp_reset(struct kspan_parser *p, unsigned int flags)
{
	resp_clear(to_resp(p), flags);
}

static void resp_destroy(struct kspan_parser *p)
{
	struct resp *h;

	if (!p)
		return;
	h = to_resp(p);
	resp_clear(h, 0);
	free(h->stk);
	free(h);
}

static struct kspan_parser *resp_create(kspan_parser_event_fn fn, void *ctx, unsigned int flags)
{
	struct resp *h;

	if (flags & ~KSPAN_PARSER_MIDSTREAM) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->base.ops = &kspan_resp_parser_ops;
	h->base.on_event = fn;
	h->base.ctx = ctx;
	resp_clear(h, flags);
	return &h->base;
}

const struct kspan_parser_ops kspan_resp_parser_ops = {
	.name = "redis",
	.detect = kspan_resp_detect,
	.create = resp_create,
	.feed = resp_feed,
	.eof = resp_eof,
	.reset = resp_reset,
	.destroy = resp_destroy,
};
