#include "kinds/ai/local_analyzer.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <map>
#include <unordered_map>

#include "jobs/json.hpp"
#include "kinds/ai/local_lexicon.hpp"
#include "kinds/ai/prompt.hpp"

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {

constexpr std::size_t tag_count = 5;

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Mood words ("great", "tired") and negators ("not") say how, not what: they make poor tags.
bool is_keyword(std::string_view w) {
  if (w.size() < 3 || lexicon::is_stop_word(w) || lexicon::is_negator(w) || lexicon::polarity(w) != 0)
    return false;
  return !std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Sentences end at . ! ? followed by a blank or the end, or at a line break.
std::vector<std::string_view> sentences_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const bool end = i == text.size() || text[i] == '\n' ||
                     ((text[i] == '.' || text[i] == '!' || text[i] == '?') &&
                      (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n'));
    if (!end) continue;
    const auto len = i - start + (i < text.size() && text[i] != '\n' ? 1 : 0);
    auto s = text.substr(start, len);
    if (s.find_first_not_of(" \t\r\n.!?") != std::string_view::npos) out.push_back(s);
    start = i + 1;
  }
  return out;
}

// At most `limit` bytes, cut at a word boundary, with an ellipsis when something was cut.
std::string shorten(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // U+2026
  auto cut = utf8_prefix(s, limit - ellipsis.size());
  if (const auto space = cut.rfind(' '); space != std::string_view::npos && space > limit / 2)
    cut = cut.substr(0, space);
  return std::string(cut) + std::string(ellipsis);
}

// The sentence whose keywords are the most frequent in the whole text; the first of equals.
std::string extractive_summary(std::string_view text, const std::map<std::string, int>& freq) {
  std::string_view best;
  int best_score = -1;
  for (auto s : sentences_of(text)) {
    int score = 0;
    for (const auto& w : words_of(s))
      if (auto it = freq.find(w); it != freq.end()) score += it->second;
    if (score > best_score) {
      best = s;
      best_score = score;
    }
  }
  return shorten(collapse_spaces(best.empty() ? text : best), max_summary_chars);
}

std::string categorise(const std::vector<std::string>& words, std::string_view type) {
  const auto rules = lexicon::category_rules();
  std::vector<int> votes(rules.size(), 0);
  auto vote = [&](std::string_view w, int weight) {
    std::size_t best_len = 0, best = rules.size();
    for (std::size_t r = 0; r < rules.size(); ++r)
      for (auto stem : rules[r].stems)
        if (const auto len = lexicon::match_length(w, stem); len > best_len) {
          best_len = len;
          best = r;
        }
    if (best < rules.size()) votes[best] += weight;
  };
  // Each distinct word is matched against the rules once: texts repeat their words a lot.
  std::unordered_map<std::string_view, int> counts;
  for (const auto& w : words) ++counts[w];
  for (const auto& [w, n] : counts) vote(w, n);
  // The producer's own label for the activity weighs more than any one word of its text.
  for (const auto& w : words_of(type)) {
    for (std::size_t r = 0; r < rules.size(); ++r)
      if (w == rules[r].category) votes[r] += 2;
    vote(w, 2);
  }
  const auto top = std::max_element(votes.begin(), votes.end());  // first of equals
  return *top > 0 ? std::string(rules[static_cast<std::size_t>(top - votes.begin())].category)
                  : "other";
}

std::string sentiment_of(const std::vector<std::string>& words) {
  int score = 0;
  std::size_t negated_until = 0;  // a negator flips the polarity of the next two words
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (lexicon::is_negator(words[i])) {
      negated_until = i + 3;
      continue;
    }
    const int p = lexicon::polarity(words[i]);
    score += i < negated_until ? -p : p;
  }
  return score > 0 ? "positive" : score < 0 ? "negative" : "neutral";
}

std::string day_of(jobs::time_point t) { return jobs::to_rfc3339(t).substr(0, 10); }

// Counts in first-seen order; ties in the ranking keep that order. Indexed, so a 64 KiB text
// stays linear.
struct tally {
  std::vector<std::pair<std::string, int>> items;
  std::unordered_map<std::string, std::size_t> index;
  void add(const std::string& key) {
    auto [it, fresh] = index.try_emplace(key, items.size());
    if (fresh) items.emplace_back(key, 1);
    else ++items[it->second].second;
  }
  std::vector<std::pair<std::string, int>> ranked() const {
    auto out = items;
    std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.second > b.second; });
    return out;
  }
  int count(std::string_view key) const {
    auto it = index.find(std::string(key));
    return it == index.end() ? 0 : items[it->second].second;
  }
};

}  // namespace

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (is_word_byte(c)) {
      cur += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> keywords(std::string_view text, std::size_t n) {
  tally t;
  for (const auto& w : words_of(text))
    if (is_keyword(w)) t.add(w);
  std::vector<std::string> out;
  for (auto& [w, _] : t.ranked()) {
    if (out.size() == n) break;
    out.push_back(w);
  }
  return out;
}

activity_analysis analyze_locally(const activity& a) {
  const auto words = words_of(a.text);
  activity_analysis out;
  out.tags = keywords(a.text, tag_count);
  std::map<std::string, int> freq;
  for (const auto& w : out.tags) freq[w] = 0;
  for (const auto& w : words)
    if (auto it = freq.find(w); it != freq.end()) ++it->second;
  out.summary = extractive_summary(a.text, freq);
  out.category = categorise(words, a.type);
  out.sentiment = sentiment_of(words);
  return out;
}

profile profile_locally(std::span<const activity_result> sources) {
  tally cats, tags, moods;
  std::string latest;
  for (const auto& r : sources) {
    boost::system::error_code ec;
    auto v = json::parse(r.analysis, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.get_object();
    if (auto* s = o.if_contains("summary"); s && s->is_string() && &r == &sources.front())
      latest = std::string(s->get_string());
    if (auto* c = o.if_contains("category"); c && c->is_string()) cats.add(std::string(c->get_string()));
    if (auto* s = o.if_contains("sentiment"); s && s->is_string())
      moods.add(std::string(s->get_string()));
    if (auto* t = o.if_contains("tags"); t && t->is_array())
      for (auto& tag : t->get_array())
        if (tag.is_string()) tags.add(std::string(tag.get_string()));
  }
  const auto n = static_cast<int>(sources.size());
  const auto share = [n](int k) { return n ? static_cast<double>(k) / n : 0.0; };

  profile p;
  int shown = 0;
  std::string mix;
  for (auto& [cat, k] : cats.ranked()) {
    if (cat != "other" && shown < 3) p.interests.push_back(cat);
    if (shown++ < 3) mix += fmt::format("{}{} ({})", mix.empty() ? "" : ", ", cat, k);
  }
  // A tag that recurs says more about a person than one seen once.
  for (auto& [tag, k] : tags.ranked())
    if (p.interests.size() < 8 && (k >= 2 || n < 3) &&
        std::find(p.interests.begin(), p.interests.end(), tag) == p.interests.end())
      p.interests.push_back(tag);
  if (p.interests.empty()) p.interests.push_back("varied activities");

  if (n > 0) {
    // "mostly" only for what holds more than half; otherwise the summary says it is a mix.
    const auto ranked_cats = cats.ranked();
    const bool one_category = !ranked_cats.empty() && share(ranked_cats.front().second) > 0.5;
    const auto ranked_moods = moods.ranked();
    const bool one_mood = !ranked_moods.empty() && share(ranked_moods.front().second) > 0.5;
    const std::string mood = one_mood ? "mostly " + ranked_moods.front().first : "mixed";
    p.activity_summary = shorten(
        fmt::format("{} activit{} from {} to {}: {} {}. Mood {} ({:.0f}% positive, "
                    "{:.0f}% negative). Latest: {}",
                    n, n == 1 ? "y" : "ies", day_of(sources.back().occurred_at),
                    day_of(sources.front().occurred_at), one_category ? "mostly" : "a mix of", mix,
                    mood, 100 * share(moods.count("positive")), 100 * share(moods.count("negative")),
                    latest.empty() ? sources.front().type : latest),
        max_profile_summary_chars);
  } else {
    p.activity_summary = "no processed activities";
  }

  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> leanings{{
      {"work", "career-focused"},          {"learning", "curious learner"},
      {"health", "health-conscious"},      {"social", "sociable"},
      {"entertainment", "enjoys entertainment"}, {"travel", "traveller"},
      {"shopping", "keen shopper"},        {"finance", "financially minded"},
  }};
  if (share(moods.count("positive")) >= 0.6) p.traits.emplace_back("upbeat");
  if (share(moods.count("negative")) >= 0.4) p.traits.emplace_back("under strain");
  for (auto [cat, trait] : leanings)
    if (share(cats.count(cat)) >= 0.3) p.traits.emplace_back(trait);
  int distinct = 0;
  for (auto& [cat, _] : cats.items) distinct += cat != "other";
  if (distinct >= 4) p.traits.emplace_back("wide-ranging interests");
  if (p.traits.size() > max_traits) p.traits.resize(max_traits);
  return p;
}

}  // namespace spool::kinds::ai
