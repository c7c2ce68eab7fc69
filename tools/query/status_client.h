// Fetches tachyond's /status over HTTP (cpp-httplib client). Errors come
// back as one line an operator can act on: what failed and what to check.
#pragma once

#include <string>

#include "core/result.h"
#include "tools/query/options.h"

namespace tachyon::query {

// GET url.path from url.host:url.port; the body if the status is 200.
Result<std::string> fetch_status(const HttpUrl& url, double timeout_s);

}  // namespace tachyon::query
