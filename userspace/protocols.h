/* SPDX-License-Identifier: Apache-2.0 */
/*
 * userspace/protocols.h: the protocols the agent parses, in one table: each
 * parser (parser.h), what family of spans it makes, and on which side. A new
 * protocol is its parser module plus one entry here. Classification of a
 * connection's first bytes asks every parser's detect() and keeps the most
 * confident answer.
 */
#ifndef KSPAN_PROTOCOLS_H
#define KSPAN_PROTOCOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "parser.h"

enum kspan_proto_family {
	KSPAN_FAMILY_HTTP = 1, /* detail: struct kspan_http1_exchange (http_span.h) */
	KSPAN_FAMILY_DB, /* detail: struct kspan_db_exchange (db.h) */
};

struct kspan_protocol {
	const char *name;
	enum kspan_proto_family family;
	const struct kspan_parser_ops *ops;
	bool client_only; /* spans only in the process that sends the requests */
};

/** @brief The table, and its length. */
extern const struct kspan_protocol kspan_protocols[];
extern const size_t kspan_n_protocols;

/**
 * @brief The protocol buf[0..len) most confidently starts a message of, with
 * the direction that message flows in *dir; NULL when none claims it.
 */
const struct kspan_protocol *kspan_protocol_detect(const uint8_t *buf, size_t len,
						   enum kspan_msg_dir *dir);

/** @brief The HTTP/1.x entry (the fallback when the first bytes say too little). */
const struct kspan_protocol *kspan_protocol_http1(void);

#endif
