// SPDX-License-Identifier: Apache-2.0
/*
 * The OTLP/HTTP retry policy: retryable statuses and transport failures,
 * Retry-After parsing and exponential backoff with jitter. Pure functions of
 * their arguments (time and randomness are passed in) so each rule is tested
 * exactly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include "retry.h"

/* A Retry-After further away than this (a day) is clamped; the deadline bounds it anyway. */
#define RETRY_AFTER_MAX_S 86400u

bool otel_retry_status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

bool otel_retry_curl_retryable(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING: /* "the server disconnects without returning a response" */
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static int month_index(const char *m)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	if (strlen(m) != 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(m, names + 3 * i, 3))
			return i;
	return -1;
}

/* Unix seconds of a broken-down UTC time, or -1 when a field is out of range. */
static int64_t utc_seconds(int year, const char *mon, int day, int h, int m, int s)
{
	struct tm tm = { 0 };

	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || year < 1970 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 ||
	    h < 0 || m < 0 || s < 0)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* An HTTP-date in one of its three forms, as Unix seconds; -1 if it is none. */
static int64_t parse_http_date(const char *v)
{
	char wkday[16], mon[8], zone[8];
	int d, y, h, m, s, end = -1;

	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (sscanf(v, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wkday, &d, mon, &y, &h, &m, &s,
		   zone, &end) == 8 &&
	    end > 0 && !v[end] && !strcmp(zone, "GMT"))
		return utc_seconds(y, mon, d, h, m, s);
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years below 70 are 20xx. */
	end = -1;
	if (sscanf(v, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3s%n", wkday, &d, mon, &y, &h,
		   &m, &s, zone, &end) == 8 &&
	    end > 0 && !v[end] && !strcmp(zone, "GMT"))
		return utc_seconds(y < 70 ? 2000 + y : 1900 + y, mon, d, h, m, s);
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	end = -1;
	if (sscanf(v, "%15[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", wkday, mon, &d, &h, &m, &s, &y,
		   &end) == 7 &&
	    end > 0 && !v[end])
		return utc_seconds(y, mon, d, h, m, s);
	return -1;
}

/* delta-seconds = 1*DIGIT; false when @v is not that. */
static bool parse_delta_seconds(const char *v, uint64_t *secs)
{
	uint64_t n = 0;

	if (!isdigit((unsigned char)*v))
		return false;
	for (; isdigit((unsigned char)*v); v++) {
		n = n * 10 + (uint64_t)(*v - '0');
		if (n > RETRY_AFTER_MAX_S)
			n = RETRY_AFTER_MAX_S; /* saturate: no overflow on absurd values */
	}
	*secs = n;
	return !*v;
}

int otel_retry_after_parse(const char *value, int64_t now_s, uint64_t *delay_ms)
{
	char buf[64];
	size_t len;
	uint64_t secs;
	int64_t when;

	if (!value)
		return -EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r' ||
		       value[len - 1] == '\n'))
		len--;
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (parse_delta_seconds(buf, &secs)) {
		*delay_ms = secs * 1000;
		return 0;
	}
	when = parse_http_date(buf);
	if (when < 0)
		return -EINVAL;
	secs = when <= now_s ? 0 : (uint64_t)(when - now_s);
	*delay_ms = (secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : secs) * 1000;
	return 0;
}

uint64_t otel_retry_backoff_ms(uint32_t initial_ms, uint32_t retry, uint64_t rnd)
{
	uint64_t b = initial_ms;

	for (uint32_t i = 1; i < retry && b < OTEL_RETRY_MAX_BACKOFF_MS; i++)
		b *= OTEL_RETRY_MULTIPLIER;
	if (b > OTEL_RETRY_MAX_BACKOFF_MS)
		b = OTEL_RETRY_MAX_BACKOFF_MS;
	return b / 2 + rnd % (b - b / 2 + 1);
}
