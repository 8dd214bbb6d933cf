// SPDX-License-Identifier: Apache-2.0
/*
 * userspace/db_span.c: database exchanges to CLIENT span descriptions (see
 * db_span.h). SQL goes through sql_sanitize.c; Redis command lines are
 * sanitized here, argument by argument, by a table of what each command's
 * arguments are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "db_span.h"
#include "http_span.h" /* kspan_addr_format */

/* ---------------------------------------------------------------- attributes */

static void add_strn(struct kspan_db_span *s, const char *key, const char *v, size_t n)
{
	if (v && n && s->n_attrs < KSPAN_DB_SPAN_ATTRS_MAX)
		s->attrs[s->n_attrs++] =
			(struct otel_attribute){ key,
						 { .type = OTEL_VALUE_STRING, .str = { v, n } } };
}

static void add_str(struct kspan_db_span *s, const char *key, const char *v)
{
	add_strn(s, key, v, v ? strlen(v) : 0);
}

static void add_int(struct kspan_db_span *s, const char *key, int64_t v)
{
	if (s->n_attrs < KSPAN_DB_SPAN_ATTRS_MAX)
		s->attrs[s->n_attrs++] =
			(struct otel_attribute){ key, { .type = OTEL_VALUE_INT, .i = v } };
}

/* Copies n bytes of p into dst (size bytes), cut to fit, NUL-terminated. */
static size_t copy_bounded(char *dst, size_t size, const char *p, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return n;
}

/* ---------------------------------------------------------------- Redis */

enum redis_rule {
	R_MASK, /* every argument is a value: ?, ? ... */
	R_KEEP_ALL, /* keys, indexes, options: nothing to hide */
	R_KEEP, /* the first n arguments stay, the rest are values */
	R_SCRIPT, /* sha1 or function, numkeys and numkeys keys stay; arguments go */
};

struct redis_command {
	const char *name;
	uint8_t rule; /* enum redis_rule */
	uint8_t n;
};

/*
 * By the first word of the command; sorted (binary search). Values are what
 * the client stores or compares (SET's value, HSET's fields and values,
 * ZADD's members); credentials are values too (AUTH, HELLO ... AUTH, CONFIG
 * SET's value, ACL rules). A command missing here has every argument masked.
 *
 * Only "the first n stay" rules are used: the parser joins arguments with
 * spaces without quoting them (proto_resp.h), so an argument holding a space
 * reads as two. That can only push later arguments further right, so a
 * kept prefix never reaches a value; alternating rules (HSET h f ? f ?) and
 * EVAL's script, which may hold spaces before numkeys, would.
 */
static const struct redis_command redis_commands[] = {
	{ "ACL", R_KEEP, 1 },
	{ "APPEND", R_KEEP, 1 },
	{ "AUTH", R_MASK, 0 },
	{ "BGREWRITEAOF", R_KEEP_ALL, 0 },
	{ "BGSAVE", R_KEEP_ALL, 0 },
	{ "BITCOUNT", R_KEEP_ALL, 0 },
	{ "BITPOS", R_KEEP_ALL, 0 },
	{ "BLMOVE", R_KEEP_ALL, 0 },
	{ "BLMPOP", R_KEEP_ALL, 0 },
	{ "BLPOP", R_KEEP_ALL, 0 },
	{ "BRPOP", R_KEEP_ALL, 0 },
	{ "BRPOPLPUSH", R_KEEP_ALL, 0 },
	{ "BZMPOP", R_KEEP_ALL, 0 },
	{ "BZPOPMAX", R_KEEP_ALL, 0 },
	{ "BZPOPMIN", R_KEEP_ALL, 0 },
	{ "CLIENT", R_KEEP_ALL, 0 },
	{ "CLUSTER", R_KEEP_ALL, 0 },
	{ "COMMAND", R_KEEP_ALL, 0 },
	{ "CONFIG", R_KEEP, 2 },
	{ "COPY", R_KEEP_ALL, 0 },
	{ "DBSIZE", R_KEEP_ALL, 0 },
	{ "DECR", R_KEEP_ALL, 0 },
	{ "DECRBY", R_KEEP_ALL, 0 },
	{ "DEL", R_KEEP_ALL, 0 },
	{ "DISCARD", R_KEEP_ALL, 0 },
	{ "DUMP", R_KEEP_ALL, 0 },
	{ "EVAL", R_MASK, 0 },
	{ "EVALSHA", R_SCRIPT, 0 },
	{ "EVALSHA_RO", R_SCRIPT, 0 },
	{ "EVAL_RO", R_MASK, 0 },
	{ "EXEC", R_KEEP_ALL, 0 },
	{ "EXISTS", R_KEEP_ALL, 0 },
	{ "EXPIRE", R_KEEP_ALL, 0 },
	{ "EXPIREAT", R_KEEP_ALL, 0 },
	{ "EXPIRETIME", R_KEEP_ALL, 0 },
	{ "FCALL", R_SCRIPT, 0 },
	{ "FCALL_RO", R_SCRIPT, 0 },
	{ "FLUSHALL", R_KEEP_ALL, 0 },
	{ "FLUSHDB", R_KEEP_ALL, 0 },
	{ "GET", R_KEEP_ALL, 0 },
	{ "GETBIT", R_KEEP_ALL, 0 },
	{ "GETDEL", R_KEEP_ALL, 0 },
	{ "GETEX", R_KEEP_ALL, 0 },
	{ "GETRANGE", R_KEEP_ALL, 0 },
	{ "GETSET", R_KEEP, 1 },
	{ "HDEL", R_KEEP_ALL, 0 },
	{ "HELLO", R_KEEP, 1 },
	{ "HEXISTS", R_KEEP_ALL, 0 },
	{ "HGET", R_KEEP_ALL, 0 },
	{ "HGETALL", R_KEEP_ALL, 0 },
	{ "HINCRBY", R_KEEP_ALL, 0 },
	{ "HINCRBYFLOAT", R_KEEP_ALL, 0 },
	{ "HKEYS", R_KEEP_ALL, 0 },
	{ "HLEN", R_KEEP_ALL, 0 },
	{ "HMGET", R_KEEP_ALL, 0 },
	{ "HMSET", R_KEEP, 1 },
	{ "HRANDFIELD", R_KEEP_ALL, 0 },
	{ "HSCAN", R_KEEP_ALL, 0 },
	{ "HSET", R_KEEP, 1 },
	{ "HSETNX", R_KEEP, 2 },
	{ "HSTRLEN", R_KEEP_ALL, 0 },
	{ "HVALS", R_KEEP_ALL, 0 },
	{ "INCR", R_KEEP_ALL, 0 },
	{ "INCRBY", R_KEEP_ALL, 0 },
	{ "INCRBYFLOAT", R_KEEP_ALL, 0 },
	{ "INFO", R_KEEP_ALL, 0 },
	{ "KEYS", R_KEEP_ALL, 0 },
	{ "LASTSAVE", R_KEEP_ALL, 0 },
	{ "LINDEX", R_KEEP_ALL, 0 },
	{ "LINSERT", R_KEEP, 2 },
	{ "LLEN", R_KEEP_ALL, 0 },
	{ "LMOVE", R_KEEP_ALL, 0 },
	{ "LMPOP", R_KEEP_ALL, 0 },
	{ "LPOP", R_KEEP_ALL, 0 },
	{ "LPOS", R_KEEP, 1 },
	{ "LPUSH", R_KEEP, 1 },
	{ "LPUSHX", R_KEEP, 1 },
	{ "LRANGE", R_KEEP_ALL, 0 },
	{ "LREM", R_KEEP, 1 },
	{ "LSET", R_KEEP, 1 },
	{ "LTRIM", R_KEEP_ALL, 0 },
	{ "MGET", R_KEEP_ALL, 0 },
	{ "MIGRATE", R_KEEP, 5 },
	{ "MSET", R_MASK, 0 },
	{ "MSETNX", R_MASK, 0 },
	{ "MULTI", R_KEEP_ALL, 0 },
	{ "PERSIST", R_KEEP_ALL, 0 },
	{ "PEXPIRE", R_KEEP_ALL, 0 },
	{ "PEXPIREAT", R_KEEP_ALL, 0 },
	{ "PFADD", R_KEEP, 1 },
	{ "PFCOUNT", R_KEEP_ALL, 0 },
	{ "PFMERGE", R_KEEP_ALL, 0 },
	{ "PING", R_KEEP_ALL, 0 },
	{ "PSETEX", R_KEEP, 2 },
	{ "PSUBSCRIBE", R_KEEP_ALL, 0 },
	{ "PTTL", R_KEEP_ALL, 0 },
	{ "PUBLISH", R_KEEP, 1 },
	{ "PUBSUB", R_KEEP_ALL, 0 },
	{ "PUNSUBSCRIBE", R_KEEP_ALL, 0 },
	{ "QUIT", R_KEEP_ALL, 0 },
	{ "RANDOMKEY", R_KEEP_ALL, 0 },
	{ "READONLY", R_KEEP_ALL, 0 },
	{ "READWRITE", R_KEEP_ALL, 0 },
	{ "RENAME", R_KEEP_ALL, 0 },
	{ "RENAMENX", R_KEEP_ALL, 0 },
	{ "RESET", R_KEEP_ALL, 0 },
	{ "RESTORE", R_KEEP, 2 },
	{ "RPOP", R_KEEP_ALL, 0 },
	{ "RPOPLPUSH", R_KEEP_ALL, 0 },
	{ "RPUSH", R_KEEP, 1 },
	{ "RPUSHX", R_KEEP, 1 },
	{ "SADD", R_KEEP, 1 },
	{ "SCAN", R_KEEP_ALL, 0 },
	{ "SCARD", R_KEEP_ALL, 0 },
	{ "SCRIPT", R_KEEP, 1 },
	{ "SDIFF", R_KEEP_ALL, 0 },
	{ "SDIFFSTORE", R_KEEP_ALL, 0 },
	{ "SELECT", R_KEEP_ALL, 0 },
	{ "SET", R_KEEP, 1 },
	{ "SETEX", R_KEEP, 2 },
	{ "SETNX", R_KEEP, 1 },
	{ "SETRANGE", R_KEEP, 1 },
	{ "SINTER", R_KEEP_ALL, 0 },
	{ "SINTERCARD", R_KEEP_ALL, 0 },
	{ "SINTERSTORE", R_KEEP_ALL, 0 },
	{ "SISMEMBER", R_KEEP, 1 },
	{ "SMEMBERS", R_KEEP_ALL, 0 },
	{ "SMISMEMBER", R_KEEP, 1 },
	{ "SMOVE", R_KEEP, 2 },
	{ "SPOP", R_KEEP_ALL, 0 },
	{ "SPUBLISH", R_KEEP, 1 },
	{ "SRANDMEMBER", R_KEEP_ALL, 0 },
	{ "SREM", R_KEEP, 1 },
	{ "SSCAN", R_KEEP_ALL, 0 },
	{ "SSUBSCRIBE", R_KEEP_ALL, 0 },
	{ "STRLEN", R_KEEP_ALL, 0 },
	{ "SUBSCRIBE", R_KEEP_ALL, 0 },
	{ "SUNION", R_KEEP_ALL, 0 },
	{ "SUNIONSTORE", R_KEEP_ALL, 0 },
	{ "SUNSUBSCRIBE", R_KEEP_ALL, 0 },
	{ "SWAPDB", R_KEEP_ALL, 0 },
	{ "TIME", R_KEEP_ALL, 0 },
	{ "TOUCH", R_KEEP_ALL, 0 },
	{ "TTL", R_KEEP_ALL, 0 },
	{ "TYPE", R_KEEP_ALL, 0 },
	{ "UNLINK", R_KEEP_ALL, 0 },
	{ "UNSUBSCRIBE", R_KEEP_ALL, 0 },
	{ "UNWATCH", R_KEEP_ALL, 0 },
	{ "WAIT", R_KEEP_ALL, 0 },
	{ "WATCH", R_KEEP_ALL, 0 },
	{ "XACK", R_KEEP_ALL, 0 },
	{ "XADD", R_KEEP, 2 },
	{ "XDEL", R_KEEP_ALL, 0 },
	{ "XLEN", R_KEEP_ALL, 0 },
	{ "XRANGE", R_KEEP_ALL, 0 },
	{ "XREAD", R_KEEP_ALL, 0 },
	{ "XREADGROUP", R_KEEP_ALL, 0 },
	{ "XREVRANGE", R_KEEP_ALL, 0 },
	{ "XTRIM", R_KEEP_ALL, 0 },
	{ "ZADD", R_KEEP, 1 },
	{ "ZCARD", R_KEEP_ALL, 0 },
	{ "ZCOUNT", R_KEEP, 1 },
	{ "ZINCRBY", R_KEEP, 1 },
	{ "ZLEXCOUNT", R_KEEP, 1 },
	{ "ZMSCORE", R_KEEP, 1 },
	{ "ZPOPMAX", R_KEEP_ALL, 0 },
	{ "ZPOPMIN", R_KEEP_ALL, 0 },
	{ "ZRANGE", R_KEEP_ALL, 0 },
	{ "ZRANGEBYLEX", R_KEEP, 1 },
	{ "ZRANGEBYSCORE", R_KEEP, 1 },
	{ "ZRANK", R_KEEP, 1 },
	{ "ZREM", R_KEEP, 1 },
	{ "ZREMRANGEBYRANK", R_KEEP_ALL, 0 },
	{ "ZREVRANGE", R_KEEP_ALL, 0 },
	{ "ZREVRANK", R_KEEP, 1 },
	{ "ZSCAN", R_KEEP_ALL, 0 },
	{ "ZSCORE", R_KEEP, 1 },
	{ "ZUNIONSTORE", R_KEEP_ALL, 0 },
};

#define REDIS_NAME_MAX 16

static const struct redis_command *redis_command_find(const char *w, size_t n)
{
	size_t lo = 0, hi = sizeof(redis_commands) / sizeof(redis_commands[0]);
	char up[REDIS_NAME_MAX + 1];

	if (!n || n > REDIS_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		up[i] = w[i] >= 'a' && w[i] <= 'z' ? (char)(w[i] - 32) : w[i];
	up[n] = '\0';
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(up, redis_commands[mid].name);

		if (!c)
			return &redis_commands[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The next space-separated argument from *pos; false at the end. */
static bool redis_next_arg(const char *s, size_t len, size_t *pos, const char **arg, size_t *n)
{
	size_t i = *pos, start;

	while (i < len && s[i] == ' ')
		i++;
	if (i >= len)
		return false;
	start = i;
	while (i < len && s[i] != ' ')
		i++;
	*arg = s + start;
	*n = i - start;
	*pos = i;
	return true;
}

static long small_number(const char *s, size_t n)
{
	long v = 0;

	if (!n || n > 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether argument i (0: the first after the command word) of rule r stays. */
static bool redis_keeps(const struct redis_command *r, size_t i, long numkeys)
{
	switch (r ? r->rule : R_MASK) {
	case R_KEEP_ALL:
		return true;
	case R_KEEP:
		return i < r->n;
	case R_SCRIPT:
		return i < 2 || (numkeys >= 0 && i < 2 + (size_t)numkeys);
	default:
		return false;
	}
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return n > 0;
}

/* db.query.text, operation, procedure and name of a Redis command. */
static void describe_redis(struct kspan_db_span *s, const struct kspan_db_exchange *x,
			   const struct kspan_db_span_opts *opts)
{
	const char *q = x->query.ptr, *arg, *first = NULL;
	size_t len = x->query.len, pos = 0, n, first_n = 0, out = 0;
	const struct redis_command *r = NULL;
	long numkeys = -1;

	for (size_t i = 0; redis_next_arg(q, len, &pos, &arg, &n); i++) {
		bool keep = i == 0;
		const char *w = arg;
		size_t wn = n;

		if (i == 0) {
			first = arg;
			first_n = n;
			r = redis_command_find(arg, n);
		} else {
			if (i == 2 && r && r->rule == R_SCRIPT)
				numkeys = small_number(arg, n);
			if (i == 1 && r && r->rule == R_SCRIPT && n <= KSPAN_SQL_TARGET_MAX &&
			    printable(arg, n))
				copy_bounded(s->procedure, sizeof(s->procedure), arg, n);
			keep = opts->capture_literals || redis_keeps(r, i - 1, numkeys);
		}
		if (!keep) {
			w = "?";
			wn = 1;
		}
		if (out + (out > 0) + wn > KSPAN_DB_QUERY_MAX)
			break; /* whole arguments only */
		if (out)
			s->query[out++] = ' ';
		memcpy(s->query + out, w, wn);
		out += wn;
	}
	s->query[out] = '\0';
	/* The operation as the client named it; the parser's name when it gave one. */
	if (x->command.len)
		copy_bounded(s->operation, sizeof(s->operation), x->command.ptr, x->command.len);
	else if (first)
		copy_bounded(s->operation, sizeof(s->operation), first, first_n);
	if (*s->operation && *s->procedure)
		snprintf(s->name, sizeof(s->name), "%s %s", s->operation, s->procedure);
	else
		snprintf(s->name, sizeof(s->name), "%s", s->operation);
}

/* ---------------------------------------------------------------- SQL */

static bool returns_rows(const char *op)
{
	static const char *const ops[] = { "SELECT", "SHOW",  "VALUES", "EXPLAIN", "DESCRIBE",
					   "DESC",   "FETCH", "PRAGMA", NULL };

	for (int i = 0; ops[i]; i++)
		if (!strcmp(op, ops[i]))
			return true;
	return false;
}

static void describe_sql(struct kspan_db_span *s, const struct kspan_db_exchange *x,
			 const struct kspan_db_span_opts *opts)
{
	enum kspan_sql_dialect d = kspan_sql_dialect_of(x->system);

	if (!x->query.len || (x->flags & KSPAN_DB_F_TEXT_UNKNOWN)) {
		/* A command without a statement (MySQL's COM_PING, COM_INIT_DB, or an execute
		 * of a statement prepared before the agent came): its protocol name. */
		if (x->command.len) {
			copy_bounded(s->operation, sizeof(s->operation), x->command.ptr,
				     x->command.len);
			snprintf(s->summary, sizeof(s->summary), "%s", s->operation);
			snprintf(s->name, sizeof(s->name), "%s", s->operation);
		}
		return;
	}
	kspan_sql_summarize(x->query.ptr, x->query.len, d, &s->sql);
	if (opts->capture_literals)
		copy_bounded(s->query, sizeof(s->query), x->query.ptr, x->query.len);
	else
		kspan_sql_sanitize(x->query.ptr, x->query.len, d, s->query, sizeof(s->query));
	if (x->flags & KSPAN_DB_F_PREPARE) {
		snprintf(s->summary, sizeof(s->summary), "PREPARE%s%s", *s->sql.text ? " " : "",
			 s->sql.text);
		snprintf(s->operation, sizeof(s->operation), "PREPARE");
	} else {
		snprintf(s->summary, sizeof(s->summary), "%s", s->sql.text);
		snprintf(s->operation, sizeof(s->operation), "%s", s->sql.operation);
	}
	snprintf(s->procedure, sizeof(s->procedure), "%s", s->sql.procedure);
	snprintf(s->name, sizeof(s->name), "%s", s->summary);
}

/* ---------------------------------------------------------------- span */

static bool addr_known(const struct kspan_addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

/* The name's last resort: {target} as db.namespace or address:port, else the system. */
static void fallback_name(struct kspan_db_span *s, const struct kspan_conn *c,
			  const struct kspan_db_exchange *x, bool redis)
{
	if (!redis && x->db_namespace.len)
		copy_bounded(s->name, KSPAN_SQL_TARGET_MAX + 1, x->db_namespace.ptr,
			     x->db_namespace.len);
	else if (*s->peer)
		snprintf(s->name, sizeof(s->name), strchr(s->peer, ':') ? "[%s]:%u" : "%s:%u",
			 s->peer, c->remote.port);
	else
		snprintf(s->name, sizeof(s->name), "%s", x->system);
}

int kspan_db_span_describe(struct kspan_db_span *s, const struct kspan_conn *c,
			   const struct kspan_db_exchange *x, const struct kspan_db_span_opts *opts)
{
	static const struct kspan_db_span_opts defaults;
	bool redis;

	if (!s || !c || !x)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	s->n_attrs = 0;
	s->kind = OTEL_SPAN_KIND_CLIENT;
	s->status_description = NULL;
	s->name[0] = s->summary[0] = s->operation[0] = s->procedure[0] = s->query[0] = '\0';
	s->peer[0] = '\0';
	memset(&s->sql, 0, sizeof(s->sql));
	if (!x->system)
		return -EINVAL;
	if (addr_known(&c->remote))
		kspan_addr_format(&c->remote, s->peer, sizeof(s->peer));
	redis = !strcmp(x->system, "redis");
	if (redis)
		describe_redis(s, x, opts);
	else
		describe_sql(s, x, opts);
	if (!*s->name)
		fallback_name(s, c, x, redis);

	add_str(s, "db.system.name", x->system);
	add_strn(s, "db.namespace", x->db_namespace.ptr, x->db_namespace.len);
	add_str(s, "db.operation.name", s->operation);
	add_str(s, "db.collection.name", s->sql.collection);
	add_str(s, "db.stored_procedure.name", s->procedure);
	add_str(s, "db.query.summary", s->summary);
	add_str(s, "db.query.text", s->query);
	if (x->batch_size > 1)
		add_int(s, "db.operation.batch.size", x->batch_size);
	s->error = x->error;
	if (x->error) {
		add_strn(s, "db.response.status_code", x->status_code.ptr, x->status_code.len);
		if (x->status_code.len)
			add_strn(s, "error.type", x->status_code.ptr, x->status_code.len);
		else
			add_str(s, "error.type", "_OTHER");
		if (opts->capture_error_message && x->error_message.len) {
			copy_bounded(s->error_text, sizeof(s->error_text), x->error_message.ptr,
				     x->error_message.len);
			s->status_description = s->error_text;
		}
	}
	if (opts->capture_returned_rows && x->rows >= 0 && !redis &&
	    !(x->flags & KSPAN_DB_F_PREPARE) && returns_rows(s->operation))
		add_int(s, "db.response.returned_rows", x->rows);
	if (*s->peer) {
		add_str(s, "server.address", s->peer);
		add_int(s, "server.port", c->remote.port);
		add_str(s, "network.peer.address", s->peer);
		add_int(s, "network.peer.port", c->remote.port);
	}
	return 0;
}
