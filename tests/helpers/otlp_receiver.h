/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real OTLP/HTTP receiver for tests: a small HTTP/1.1 server on 127.0.0.1
 * (ephemeral port, its own thread) that accepts POST /v1/traces with
 * protobuf or JSON bodies (Content-Length or chunked, gzip or not, keep-alive),
 * decodes protobuf with the generated protobuf-c code and keeps every request
 * for assertions. Responses are scriptable: a queue of planned responses
 * (status, extra headers such as Retry-After, body), a "drop" that closes the
 * connection without answering, and a hang mode that never answers.
 */
#ifndef TESTS_OTLP_RECEIVER_H
#define TESTS_OTLP_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest otlp_trace_request_pb;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span_pb;

/* Largest request body accepted (before and after decompression): larger gets 413. */
#define OTLP_RECEIVER_MAX_BODY (64u << 20)

struct otlp_header_kv {
	char *name;
	char *value;
};

/* One request as received. Valid until otlp_receiver_stop(). */
struct otlp_request {
	char method[16];
	char target[256];
	struct otlp_header_kv *headers;
	size_t n_headers;
	bool chunked; /* the body came with Transfer-Encoding: chunked */
	size_t wire_len; /* body bytes on the wire (compressed size with gzip) */
	uint8_t *body; /* decoded (inflated) body, NUL-terminated */
	size_t body_len;
	bool is_json; /* Content-Type application/json: the body is in @json */
	const char *json;
	otlp_trace_request_pb *proto; /* decoded protobuf body; NULL for JSON or garbage */
	unsigned int conn_id; /* 1 for the first accepted connection, 2 for the next... */
	uint64_t mono_ns; /* arrival time, CLOCK_MONOTONIC */
	int status; /* the status answered; 0 when dropped or hung */
};

/* A planned response; every field is copied. */
struct otlp_response {
	int status;
	/* Extra raw header lines, each ending in "\r\n", e.g. "Retry-After: 1\r\n". */
	const char *headers;
	/* Body; NULL = an empty ExportTraceServiceResponse in the request's encoding. */
	const void *body;
	size_t body_len;
	const char *content_type; /* NULL = the request's Content-Type */
	bool drop; /* close the connection after reading the request, without answering */
};

struct otlp_receiver;

/** @brief Start listening on 127.0.0.1:<ephemeral>. NULL with errno on failure. */
struct otlp_receiver *otlp_receiver_start(void);
/** @brief Stop the thread, close every connection, free everything; accepts NULL. */
void otlp_receiver_stop(struct otlp_receiver *r);

uint16_t otlp_receiver_port(const struct otlp_receiver *r);
/** @brief "http://127.0.0.1:<port>/v1/traces". */
const char *otlp_receiver_url(const struct otlp_receiver *r);

/** @brief Queue a response for the next request (FIFO; afterwards 200 again). 0 or -ENOMEM. */
int otlp_receiver_plan(struct otlp_receiver *r, const struct otlp_response *resp);
/** @brief While on, requests are read and recorded but never answered. */
void otlp_receiver_set_hang(struct otlp_receiver *r, bool hang);

/** @brief Requests recorded so far. */
size_t otlp_receiver_count(struct otlp_receiver *r);
/** @brief Request @i in arrival order, or NULL. */
const struct otlp_request *otlp_receiver_request(struct otlp_receiver *r, size_t i);
/** @brief Wait until at least @n requests arrived; false on timeout. */
bool otlp_receiver_wait(struct otlp_receiver *r, size_t n, uint32_t timeout_ms);
/** @brief Connections accepted so far. */
unsigned int otlp_receiver_connections(struct otlp_receiver *r);

/** @brief Value of header @name (any case) of @q, or NULL. */
const char *otlp_request_header(const struct otlp_request *q, const char *name);
/** @brief Spans in a decoded protobuf request (0 if none or not decoded). */
size_t otlp_request_span_count(const struct otlp_request *q);
/** @brief Span @i of a decoded protobuf request, across resources and scopes, or NULL. */
const otlp_span_pb *otlp_request_span(const struct otlp_request *q, size_t i);

/**
 * @brief A protobuf ExportTraceServiceResponse with partial_success set
 * (malloc'ed, length in @len), for planned responses.
 */
uint8_t *otlp_partial_success_pb(int64_t rejected, const char *message, size_t *len);

/** @brief A loopback TCP port nobody listens on (bound, then closed). 0 on failure. */
uint16_t otlp_unused_port(void);

#endif /* TESTS_OTLP_RECEIVER_H */
