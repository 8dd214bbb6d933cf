// SPDX-License-Identifier: Apache-2.0
/* The table of parsed protocols and first-bytes classification (see protocols.h). */
#include "protocols.h"
#include "proto_http1.h"
#include "proto_mysql.h"
#include "proto_pgwire.h"
#include "proto_resp.h"

const struct kspan_protocol kspan_protocols[] = {
	{ "http/1.x", KSPAN_FAMILY_HTTP, &kspan_http1_parser_ops, false },
	{ "postgresql", KSPAN_FAMILY_DB, &kspan_pgwire_parser_ops, true },
	{ "mysql", KSPAN_FAMILY_DB, &kspan_mysql_parser_ops, true },
	{ "redis", KSPAN_FAMILY_DB, &kspan_resp_parser_ops, true },
};
const size_t kspan_n_protocols = sizeof(kspan_protocols) / sizeof(kspan_protocols[0]);

const struct kspan_protocol *kspan_protocol_detect(const uint8_t *buf, size_t len,
						   enum kspan_msg_dir *dir)
{
	const struct kspan_protocol *best = NULL;
	int best_conf = 0;

	for (size_t i = 0; i < kspan_n_protocols; i++) {
		enum kspan_msg_dir d;
		int conf = kspan_protocols[i].ops->detect(buf, len, &d);

		if (conf > best_conf) {
			best = &kspan_protocols[i];
			best_conf = conf;
			*dir = d;
		}
	}
	return best;
}

const struct kspan_protocol *kspan_protocol_http1(void)
{
	return &kspan_protocols[0];
}
