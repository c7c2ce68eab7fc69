// tachyond's /status document (a JSON object of groups: server, reference,
// traffic, answers, kod, drops, processing_time_s, queues, mbufs) rendered
// for a person, grouped like `chronyc tracking` and `chronyc serverstats`.
//
// The schema grows: every field is optional, a field of an unexpected type
// and any key this code does not know are still printed, as "key : value"
// at the end of their group, so nothing the server says is hidden.
// Pure; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tachyon::query {

using StatusJson = nlohmann::ordered_json;  // keeps the server's key order

// Parses a /status body. Errors: not JSON (with the parser's position),
// or JSON whose top level is not an object.
Result<StatusJson> parse_status_document(std::string_view body);

// The summary. `now_unix_ns` dates the leap file expiry ("in 120 days").
// REQUIRES: status.is_object().
std::string summarize_status(const StatusJson& status, int64_t now_unix_ns);

}  // namespace tachyon::query
