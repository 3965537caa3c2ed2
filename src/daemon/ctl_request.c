// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "daemon/ctl_request.h"

#include <cjson/cJSON.h>
#include <string.h>

static const char *string_item(const cJSON *req, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(req, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

void ctl_request_parse(const char *line, struct ctl_request *r)
{
	const cJSON *wait;

	memset(r, 0, sizeof(*r));
	r->json = cJSON_Parse(line);
	r->cmd = string_item(r->json, "cmd");
	r->id = ctl_command_find(r->cmd);
	r->service = string_item(r->json, "service");
	wait = cJSON_GetObjectItemCaseSensitive(r->json, "wait");
	r->has_wait = cJSON_IsBool(wait);
	r->wait = cJSON_IsTrue(wait);
	r->binary = string_item(r->json, "binary");
	r->keep_services = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, "keep_services"));
	r->all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, "all"));
	r->services = cJSON_GetObjectItemCaseSensitive(r->json, "services");
}

void ctl_request_free(struct ctl_request *r)
{
	cJSON_Delete(r->json);
	r->json = NULL;
}
