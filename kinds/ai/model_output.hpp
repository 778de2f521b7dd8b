#pragma once
// Reads what a model answered into the shapes the handlers asked for. Anything else is an error
// with the reason (a retryable failure: the next attempt may well answer properly). Shape is
// strict; length is lenient: an overlong summary or list is cut, not refused.
#include <string>
#include <string_view>
#include <variant>

#include "kinds/ai/analysis.hpp"

namespace spool::kinds::ai {

std::variant<activity_analysis, std::string> parse_analysis(std::string_view content);
std::variant<profile, std::string> parse_profile(std::string_view content);

// The JSON text inside a model answer: whitespace and a Markdown code fence (```json ... ```)
// around it are dropped, since many models add them even when asked not to.
std::string_view strip_fences(std::string_view content);

}  // namespace spool::kinds::ai
