// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of otel_sdk_init(): the pipeline the OTEL_* variables describe
 * (OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER, OTEL_PROPAGATORS, the resource),
 * installed globally and torn down by otel_sdk_shutdown().
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "log_capture.h"
#include <otel/propagation.h>
#include <otel/sdk.h>


static int setup(void **state)
{
	(void)state;
	log_capture_start(OTEL_LOG_DEBUG);
	unsetenv("OTEL_SDK_DISABLED");
	unsetenv("OTEL_TRACES_EXPORTER");
	unsetenv("OTEL_PROPAGATORS");
	unsetenv("OTEL_SERVICE_NAME");
	unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
	return 0;
}

static void test_disabled_installs_nothing(void **state)
{
	(void)state;
	setenv("OTEL_SDK_DISABLED", "TRUE", 1);
	errno = EBUSY;
	assert_null(otel_sdk_init(NULL));
	assert_int_equal(errno, 0);
	otel_tracer *t = otel_tracer_get("x", NULL);
	assert_false(otel_tracer_enabled(t));
	otel_span *s = otel_tracer_start_span(t, "s", NULL);
	assert_false(otel_span_is_recording(s));
	otel_span_end(s, 0);
	/* Propagation still works without the SDK. */
	assert_ptr_not_equal(otel_propagator_global(), NULL);
	assert_non_null(otel_propagator_fields(otel_propagator_global())[0]);
	otel_sdk_shutdown(1000);
}

static void test_bad_disabled_value_warns_and_keeps_sdk(void **state)
{
	(void)state;
	setenv("OTEL_SDK_DISABLED", "yes", 1);
	setenv("OTEL_TRACES_EXPORTER", "none", 1);
	otel_tracer_provider *tp = otel_sdk_init(NULL);
	assert_non_null(tp);
	assert_non_null(strstr(log_text, "OTEL_SDK_DISABLED=\"yes\" is not a boolean"));
	assert_ptr_equal(otel_tracer_provider_global(), tp);
	otel_sdk_shutdown(1000);
	assert_ptr_not_equal(otel_tracer_provider_global(), tp);
}

static void test_console_exporter_and_resource(void **state)
{
	(void)state;
	struct otel_attribute attrs[] = { OTEL_ATTR_STR("deployment.environment.name", "test") };
	otel_resource *extra = otel_resource_new(attrs, 1, NULL);
	char path[] = "/tmp/otel-sdk-init-XXXXXX";
	int fd = mkstemp(path), saved = dup(1);
	char out[4096] = "";

	assert_true(fd >= 0);
	setenv("OTEL_TRACES_EXPORTER", "console", 1);
	setenv("OTEL_SERVICE_NAME", "init-svc", 1);
	otel_tracer_provider *tp = otel_sdk_init(extra);
	otel_resource_unref(extra);
	assert_non_null(tp);
	const otel_resource *res = otel_tracer_provider_resource(tp);
	assert_string_equal(otel_resource_get(res, "service.name")->str.ptr, "init-svc");
	assert_string_equal(otel_resource_get(res, "deployment.environment.name")->str.ptr, "test");
	assert_string_equal(otel_resource_get(res, "telemetry.sdk.name")->str.ptr, "libotel");
	/* A second init is refused: one SDK pipeline per process. */
	assert_null(otel_sdk_init(NULL));
	assert_int_equal(errno, EALREADY);

	fflush(stdout);
	dup2(fd, 1);
	otel_span_end(otel_tracer_start_span(otel_tracer_get("lib", "1"), "printed-span", NULL), 0);
	otel_sdk_shutdown(5000);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	assert_true(pread(fd, out, sizeof(out) - 1, 0) > 0);
	close(fd);
	unlink(path);
	assert_non_null(strstr(out, "[init-svc] printed-span INTERNAL"));
}

static void test_unknown_exporter_and_grpc_are_reported(void **state)
{
	(void)state;
	setenv("OTEL_TRACES_EXPORTER", "zipkin", 1);
	otel_tracer_provider *tp = otel_sdk_init(NULL);
	assert_non_null(tp);
	assert_non_null(strstr(log_text, "\"zipkin\" is not supported"));
	otel_sdk_shutdown(1000);

	log_text[0] = '\0';
	setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	errno = 0;
	assert_null(otel_span_exporter_from_env());
	assert_int_equal(errno, ENOTSUP);
	assert_non_null(strstr(log_text, "grpc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_disabled_installs_nothing, setup),
		cmocka_unit_test_setup(test_bad_disabled_value_warns_and_keeps_sdk, setup),
		cmocka_unit_test_setup(test_console_exporter_and_resource, setup),
		cmocka_unit_test_setup(test_unknown_exporter_and_grpc_are_reported, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
