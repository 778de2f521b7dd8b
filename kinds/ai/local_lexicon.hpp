#pragma once
// The word lists behind the local analyzer. Kept apart from its logic so they can grow freely.
#include <array>
#include <span>
#include <string_view>
#include <utility>

namespace spool::kinds::ai::lexicon {

bool is_stop_word(std::string_view w);
bool is_negator(std::string_view w);
// +1 for a positive word, -1 for a negative one, 0 otherwise.
int polarity(std::string_view w);

// Category rules: a word matches a stem when it starts with it (stems of 4+ letters) or equals it
// (shorter ones).
struct category_rule {
  std::string_view category;
  std::span<const std::string_view> stems;
};
std::span<const category_rule> category_rules();
// How long the matching stem is (0: no match), so a word votes for its most specific rule:
// "workout" is health (stem "workout"), not work (stem "work").
std::size_t match_length(std::string_view word, std::string_view stem);

}  // namespace spool::kinds::ai::lexicon
