#pragma once
// The shapes both backends produce, whatever wrote them: an activity's analysis and a user's
// profile, and their JSON form as stored and shown.
#include <array>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace spool::kinds::ai {

// The closed sets a model must choose from, so that results stay comparable across backends.
inline constexpr std::array<std::string_view, 9> categories{
    "work", "learning", "health", "social", "entertainment", "travel", "shopping", "finance", "other"};
inline constexpr std::array<std::string_view, 3> sentiments{"positive", "neutral", "negative"};

inline constexpr std::size_t max_summary_chars = 280;
inline constexpr std::size_t max_tags = 8;
inline constexpr std::size_t max_profile_summary_chars = 600;
inline constexpr std::size_t max_interests = 10;
inline constexpr std::size_t max_traits = 8;

struct activity_analysis {
  std::string summary;
  std::string category;  // one of `categories`
  std::vector<std::string> tags;
  std::string sentiment;  // one of `sentiments`
};

struct profile {
  std::vector<std::string> interests;
  std::string activity_summary;
  std::vector<std::string> traits;
};

boost::json::object to_json(const activity_analysis& a);
boost::json::object to_json(const profile& p);

bool is_category(std::string_view c);
bool is_sentiment(std::string_view s);

}  // namespace spool::kinds::ai
