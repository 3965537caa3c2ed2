// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * readyd.conf from any bytes: config_parse_text(), what config_load() and
 * a reload run on the file's text. Accepted or not, nothing may leak, and a
 * config accepted is equal to itself.
 */
#include "fuzz.h"

#include "config/config.h"

#define FUZZ_CONFIG_MAX (64 * 1024) /* bytes: past this inputs only get slower */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diag diag;
	struct config cfg;
	char *text;
	char mask[64];

	if (size > FUZZ_CONFIG_MAX || !(text = fuzz_text(data, size)))
		return 0;
	if (config_parse_text("fuzz.conf", text, NULL, &cfg, &diag) == 0) {
		FUZZ_ASSERT(diag.n == 0);
		for (size_t i = 0; i < cfg.n_services; i++) {
			const struct service_config *s = &cfg.services[i];
			FUZZ_ASSERT(config_service_equal(s, s));
			FUZZ_ASSERT(config_find(&cfg, s->name) == s);
			ready_mask_format(mask, sizeof(mask), s->ready);
		}
		config_free(&cfg);
	} else {
		FUZZ_ASSERT(diag.n > 0);
	}
	config_diag_free(&diag);
	free(text);
	return 0;
}
