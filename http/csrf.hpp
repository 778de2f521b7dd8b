#pragma once
// Whether a request may change state, from its headers alone: the admin endpoint's defence against
// cross-site request forgery. Pure, so every case is a unit test (tests/http/csrf_test.cpp).
//
// A browser lets any page send a "simple" POST (a form, or fetch without preflight) to any origin,
// cookies included, but such a request can only carry a form or text/plain content type, and the
// browser states where it comes from (Origin, Sec-Fetch-Site). So a state-changing request must be
// application/json (a cross-origin page cannot send that without a CORS preflight, which this
// endpoint never grants) and must not come from another origin.
#include <string>
#include <string_view>

namespace spool::http {

struct request_origin {
  std::string_view method = {};
  std::string_view content_type = {};    // the Content-Type header, "" when absent
  std::string_view origin = {};          // the Origin header, "" when absent
  std::string_view sec_fetch_site = {};  // the Sec-Fetch-Site header, "" when absent
  std::string_view host = {};            // the Host header this endpoint was reached by
};

struct csrf_decision {
  bool allowed = true;
  unsigned status = 0;  // when refused: 403 (cross-site) or 415 (not JSON)
  std::string code;     // when refused: a stable error code
  std::string reason;   // when refused: for the operator
};

// GET, HEAD and OPTIONS are always allowed (they change nothing). Other methods are refused when
// - Sec-Fetch-Site is "cross-site" or "same-site" (a sibling port or subdomain is another origin),
//   403 cross_site_request;
// - Origin is present and is not this endpoint (scheme://Host), or is "null", 403
//   cross_origin_request;
// - Content-Type is not application/json (parameters such as charset allowed), 415
//   json_content_type_required.
// A request without Origin and Sec-Fetch-Site (curl, the CLI, scripts) passes the first two.
csrf_decision decide_csrf(const request_origin& r);

}  // namespace spool::http
