/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otel/usdt.h: business spans through USDT probes, header-only.
 *
 * Owns the probe contract between a traced program and the kspan agent: the provider, the probe
 * names, their arguments, and the macros C and C++ programs use to fire them. It depends on
 * <sys/sdt.h> only (Debian: systemtap-sdt-dev) and needs neither libotel nor any other library
 * at run time. While no tracer is attached, a site costs one load of its semaphore and one
 * predicted-not-taken branch; the macro's arguments are not evaluated at all.
 *
 * Example:
 *
 *	OTEL_USDT_SPAN_START("price quote");
 *	OTEL_USDT_ATTR_INT("quote.items", n);
 *	if (err) {
 *		OTEL_USDT_EXCEPTION("PricingError", strerror(err));
 *		OTEL_USDT_STATUS(OTEL_USDT_STATUS_ERROR, "pricing failed");
 *	}
 *	OTEL_USDT_SPAN_END();
 *
 * The agent (kspan) attaches to these probes in the program and in its shared libraries and turns
 * them into INTERNAL (or the given kind) spans nested in the thread's current span.
 *
 * ---------------------------------------------------------------------------------------------
 * Probe contract, for any language that emits USDT probes (Rust `usdt`, Python, Node, ...)
 * ---------------------------------------------------------------------------------------------
 *
 * Provider: "otel". SystemTap SDT v3 notes (.note.stapsdt, note type 3), each with a semaphore
 * (a 16-bit counter the tracer increments while attached) named otel_<probe>_semaphore; emitters
 * should check it and skip argument preparation while it is 0. Emitters without semaphores
 * (address 0 in the note) work too, only without that saving.
 *
 * Argument types below are the SDT argument sizes: "str" is a pointer (8 bytes on 64-bit,
 * argument spec "8@...") to a NUL-terminated UTF-8 string that stays valid for the duration of the
 * probe only (the tracer copies it; it may truncate long strings); "int32" is a signed 32-bit
 * integer ("-4@..."); "int64" a signed 64-bit integer ("-8@..."). A NULL string is read as "".
 *
 *   probe        arguments                                 meaning
 *   span_start   (str name, int32 kind)                    start a span on this thread
 *   span_end     ()                                        end this thread's innermost span
 *   attr_str     (str key, str value)                      string attribute on the innermost span
 *   attr_int     (str key, int64 value)                    integer attribute
 *   attr_double  (str key, int64 bits)                     double attribute: the IEEE-754 binary64
 *                                                          bit pattern of the value, as an int64
 *                                                          (USDT argument specs cannot name
 *                                                          floating-point registers portably)
 *   attr_bool    (str key, int32 value)                    boolean attribute: 0 false, 1 true
 *   event        (str name)                                event (timestamped) on the innermost span
 *   status       (int32 code, str description)             span status; description used for ERROR
 *   exception    (str type, str message)                   "exception" event with exception.type and
 *                                                          exception.message attributes
 *
 * kind: 0 INTERNAL, 1 SERVER, 2 CLIENT, 3 PRODUCER, 4 CONSUMER (the values of enum otel_span_kind
 * in <otel/trace.h>); any other value is read as INTERNAL.
 * code: 0 UNSET, 1 OK, 2 ERROR (the values of enum otel_status_code in <otel/trace.h>).
 *
 * Spans nest per thread: span_start pushes a span on the calling thread's stack, span_end pops
 * the innermost one, and attr_*, event, status and exception apply to the innermost span of the
 * calling thread (they are ignored when the thread has none). A span started here is a child of
 * the thread's current span (for example the HTTP request being served) and the parent of the
 * spans that start inside it. Start and end must happen on the same thread.
 *
 * ---------------------------------------------------------------------------------------------
 * Macros
 * ---------------------------------------------------------------------------------------------
 *
 * OTEL_USDT_SPAN_START(name), OTEL_USDT_SPAN_START_KIND(name, kind), OTEL_USDT_SPAN_END(),
 * OTEL_USDT_ATTR_STR(key, value), OTEL_USDT_ATTR_INT(key, value), OTEL_USDT_ATTR_DOUBLE(key, value),
 * OTEL_USDT_ATTR_BOOL(key, value), OTEL_USDT_EVENT(name), OTEL_USDT_STATUS(code, description),
 * OTEL_USDT_EXCEPTION(type, message): statements; each evaluates its arguments once when a
 * tracer is attached to that probe, and not at all otherwise.
 * OTEL_USDT_ENABLED(probe): nonzero while a tracer is attached to otel:<probe>, e.g.
 * OTEL_USDT_ENABLED(attr_str), for callers who want to skip expensive preparation themselves.
 *
 * The semaphores are defined here as weak hidden symbols in section ".probes" (where libbpf
 * looks for them): any number of translation units may include this header, and each executable
 * or shared object gets its own set. Include this header before any other inclusion of
 * <sys/sdt.h> in a translation unit, or define _SDT_HAS_SEMAPHORES before that inclusion.
 */
#ifndef OTEL_USDT_H
#define OTEL_USDT_H

#include <stdint.h>

#if defined(_SYS_SDT_H) && !defined(_SDT_HAS_SEMAPHORES)
#error "<otel/usdt.h> needs <sys/sdt.h> with semaphores: include it first, or define _SDT_HAS_SEMAPHORES"
#endif
#ifndef _SDT_HAS_SEMAPHORES
#define _SDT_HAS_SEMAPHORES 1
#endif
#include <sys/sdt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values of the span_start kind argument (same as enum otel_span_kind). */
#define OTEL_USDT_KIND_INTERNAL 0
#define OTEL_USDT_KIND_SERVER 1
#define OTEL_USDT_KIND_CLIENT 2
#define OTEL_USDT_KIND_PRODUCER 3
#define OTEL_USDT_KIND_CONSUMER 4

/* Values of the status code argument (same as enum otel_status_code). */
#define OTEL_USDT_STATUS_UNSET 0
#define OTEL_USDT_STATUS_OK 1
#define OTEL_USDT_STATUS_ERROR 2

/*
 * Volatile: the tracer (through the kernel) changes a semaphore behind the compiler's back, so a
 * loop must reload it instead of testing a value hoisted out of the loop.
 */
#define OTEL_USDT_SEMAPHORE_(probe)                                                             \
	__attribute__((weak, visibility("hidden"), section(".probes"))) volatile unsigned short \
	otel_##probe##_semaphore

OTEL_USDT_SEMAPHORE_(span_start);
OTEL_USDT_SEMAPHORE_(span_end);
OTEL_USDT_SEMAPHORE_(attr_str);
OTEL_USDT_SEMAPHORE_(attr_int);
OTEL_USDT_SEMAPHORE_(attr_double);
OTEL_USDT_SEMAPHORE_(attr_bool);
OTEL_USDT_SEMAPHORE_(event);
OTEL_USDT_SEMAPHORE_(status);
OTEL_USDT_SEMAPHORE_(exception);

/* Nonzero while a tracer is attached to otel:<probe>. */
#define OTEL_USDT_ENABLED(probe) __builtin_expect(otel_##probe##_semaphore != 0, 0)

/* The attr_double argument: a double's bit pattern, passed in an integer register. */
static inline int64_t otel_usdt_double_bits(double value)
{
	int64_t bits;

	__builtin_memcpy(&bits, &value, sizeof(bits));
	return bits;
}

/*
 * Arguments go through typed locals so that each is evaluated once and its SDT size and
 * signedness are exactly the contract's, whatever type the caller passed.
 */
#define OTEL_USDT_SPAN_START_KIND(name, kind)                                 \
	do {                                                                  \
		if (OTEL_USDT_ENABLED(span_start)) {                          \
			const char *otel_usdt_a1_ = (name);                   \
			int32_t otel_usdt_a2_ = (int32_t)(kind);              \
			STAP_PROBE2(otel, span_start, otel_usdt_a1_, otel_usdt_a2_); \
		}                                                             \
	} while (0)

#define OTEL_USDT_SPAN_START(name) OTEL_USDT_SPAN_START_KIND(name, OTEL_USDT_KIND_INTERNAL)

#define OTEL_USDT_SPAN_END()                          \
	do {                                          \
		if (OTEL_USDT_ENABLED(span_end))      \
			STAP_PROBE(otel, span_end);   \
	} while (0)

/* Probe with (str, T2) arguments, the shape of every probe but span_end and event. */
#define OTEL_USDT_PROBE2_(probe, T1, a1, T2, a2)                                \
	do {                                                                    \
		if (OTEL_USDT_ENABLED(probe)) {                                 \
			T1 otel_usdt_a1_ = (a1);                                \
			T2 otel_usdt_a2_ = (a2);                                \
			STAP_PROBE2(otel, probe, otel_usdt_a1_, otel_usdt_a2_); \
		}                                                               \
	} while (0)

#define OTEL_USDT_ATTR_STR(key, value) \
	OTEL_USDT_PROBE2_(attr_str, const char *, key, const char *, value)
#define OTEL_USDT_ATTR_INT(key, value) \
	OTEL_USDT_PROBE2_(attr_int, const char *, key, int64_t, (int64_t)(value))
#define OTEL_USDT_ATTR_DOUBLE(key, value) \
	OTEL_USDT_PROBE2_(attr_double, const char *, key, int64_t, otel_usdt_double_bits(value))
#define OTEL_USDT_ATTR_BOOL(key, value) \
	OTEL_USDT_PROBE2_(attr_bool, const char *, key, int32_t, (value) ? 1 : 0)
#define OTEL_USDT_STATUS(code, description) \
	OTEL_USDT_PROBE2_(status, int32_t, (int32_t)(code), const char *, description)
#define OTEL_USDT_EXCEPTION(type, message) \
	OTEL_USDT_PROBE2_(exception, const char *, type, const char *, message)

#define OTEL_USDT_EVENT(name)                                         \
	do {                                                          \
		if (OTEL_USDT_ENABLED(event)) {                       \
			const char *otel_usdt_a1_ = (name);           \
			STAP_PROBE1(otel, event, otel_usdt_a1_);      \
		}                                                     \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* OTEL_USDT_H */
