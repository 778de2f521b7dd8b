#pragma once
// The `local` backend's brain: a deterministic stand-in for a model, so that Spool runs end to
// end with no model server. It is plain text statistics, not understanding: keywords by frequency,
// an extractive summary (the sentence richest in keywords), the category by keyword rules and the
// sentiment by a small lexicon with negation. The same input always gives the same output.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kinds/ai/analysis.hpp"
#include "kinds/ai/payload.hpp"
#include "kinds/ai/results_store.hpp"

namespace spool::kinds::ai {

activity_analysis analyze_locally(const activity& a);

// `sources` newest first, as the store returns them; their analyses as stored (JSON).
profile profile_locally(std::span<const activity_result> sources);

// The text's words, ASCII letters lowercased; any byte >= 0x80 counts as a letter so that UTF-8
// words stay whole.
std::vector<std::string> words_of(std::string_view text);

// Up to `n` keywords: the most frequent words that are neither stop words nor mood words, ties
// by first appearance.
std::vector<std::string> keywords(std::string_view text, std::size_t n);

}  // namespace spool::kinds::ai
