#pragma once
#include <string_view>

namespace spool::http {

// The operator dashboard: one self-contained HTML page (no CDN) that polls the JSON API.
std::string_view dashboard_html();

}  // namespace spool::http
