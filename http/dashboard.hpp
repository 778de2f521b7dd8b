#pragma once
#include <string_view>

namespace spool::http {

// The operator dashboard: http/dashboard.html, one self-contained page (no CDN, no build step)
// that polls the JSON API, compiled in by spool_embed_text (CMakeLists.txt).
std::string_view dashboard_html();

}  // namespace spool::http
