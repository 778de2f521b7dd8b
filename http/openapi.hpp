#pragma once
#include <string_view>

namespace spool::http {

// The OpenAPI 3.1 document of the admin API: http/openapi.json, compiled in by spool_embed_text
// (CMakeLists.txt) and served at GET /api/v1/openapi.json. tests/http/api_openapi_test.cpp checks
// it against the registered routes and real answers; tests/openapi validates it.
std::string_view openapi_json();

}  // namespace spool::http
