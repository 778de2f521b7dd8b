#include "kinds/ai/local_lexicon.hpp"

#include <algorithm>

namespace spool::kinds::ai::lexicon {

namespace {

bool contains(std::span<const std::string_view> sorted, std::string_view w) {
  return std::binary_search(sorted.begin(), sorted.end(), w);
}

constexpr bool is_sorted(std::span<const std::string_view> a) {
  for (std::size_t i = 1; i < a.size(); ++i)
    if (!(a[i - 1] < a[i])) return false;
  return true;
}

// Sorted, for binary search (checked at compile time below).
constexpr std::string_view stop_words[] = {
    "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "aren", "as", "at",
    "be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could",
    "did", "didn", "do", "does", "doing", "don", "down", "during", "each", "even", "every", "few",
    "for", "from", "further", "get", "got", "had", "has", "have", "having", "he", "her", "here",
    "hers", "him", "his", "how", "if", "in", "into", "is", "isn", "it", "its", "just", "let", "ll",
    "made", "make", "many", "me", "more", "most", "much", "my", "myself", "now", "of", "off", "on",
    "once", "one", "only", "or", "other", "our", "out", "over", "own", "same", "she", "should",
    "so", "some", "still", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "today", "too", "under", "until", "up", "us", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with"};
static_assert(is_sorted(stop_words));

// "won" (as in won't) is left out: it is far more often the positive "won".
constexpr std::string_view negators[] = {
    "aren", "didn", "doesn", "don", "hardly", "isn", "never", "no", "not", "nothing", "wasn",
    "weren", "without"};
static_assert(is_sorted(negators));

constexpr std::string_view positive[] = {
    "amazing", "awesome", "beautiful", "best", "better", "brilliant", "calm", "celebrated",
    "delicious", "delighted", "enjoy", "enjoyed", "excellent", "excited", "fantastic", "fun",
    "glad", "good", "grateful", "great", "happy", "helpful", "inspiring", "love", "loved", "lovely",
    "nice", "perfect", "pleasant", "productive", "proud", "relaxed", "relaxing", "success",
    "successful", "thanks", "thrilled", "win", "won", "wonderful"};
static_assert(is_sorted(positive));

constexpr std::string_view negative[] = {
    "angry", "annoyed", "annoying", "anxious", "awful", "bad", "boring", "broke", "broken",
    "cancelled", "delayed", "disappointed", "disappointing", "exhausted", "fail", "failed",
    "failure", "frustrated", "frustrating", "hate", "hated", "horrible", "hurt", "ill", "lost",
    "miserable", "pain", "painful", "poor", "problem", "sad", "sick", "stress", "stressed",
    "stressful", "terrible", "tired", "upset", "worse", "worst"};
static_assert(is_sorted(negative));

constexpr std::string_view work[] = {
    "boss", "client", "colleague", "code", "deadline", "deploy", "email", "interview", "job",
    "manager", "meeting", "office", "presentation", "project", "report", "review", "sprint",
    "task", "work"};
constexpr std::string_view learning[] = {
    "book", "class", "course", "exam", "homework", "language", "learn", "lecture", "lesson",
    "practice", "reading", "research", "school", "study", "tutorial", "university"};
constexpr std::string_view health[] = {
    "cycling", "diet", "doctor", "exercise", "fitness", "gym", "health", "hike", "hiking",
    "meditat", "nutrition", "run", "running", "sleep", "swim", "therapy", "walk", "workout",
    "yoga"};
constexpr std::string_view social[] = {
    "birthday", "brother", "chat", "dinner", "family", "friend", "hangout", "mom", "dad",
    "party", "sister", "together", "visit", "wedding", "neighbo"};
constexpr std::string_view entertainment[] = {
    "album", "concert", "episode", "festival", "film", "game", "gaming", "movie", "music",
    "netflix", "play", "podcast", "series", "show", "theat"};
constexpr std::string_view travel[] = {
    "airport", "beach", "flight", "holiday", "hotel", "journey", "passport", "train", "travel",
    "trip", "tour", "vacation", "visa"};
constexpr std::string_view shopping[] = {
    "bought", "buy", "cart", "delivery", "discount", "order", "purchas", "sale", "shop", "store",
    "groceries"};
constexpr std::string_view finance[] = {
    "bank", "bill", "budget", "crypto", "expense", "insurance", "invest", "loan", "money",
    "mortgage", "salary", "savings", "stock", "tax"};

// In the order of `categories`, which breaks ties.
const std::array<category_rule, 8> rules{{{"work", work},
                                          {"learning", learning},
                                          {"health", health},
                                          {"social", social},
                                          {"entertainment", entertainment},
                                          {"travel", travel},
                                          {"shopping", shopping},
                                          {"finance", finance}}};

}  // namespace

bool is_stop_word(std::string_view w) { return contains(stop_words, w); }
bool is_negator(std::string_view w) { return contains(negators, w); }

int polarity(std::string_view w) {
  if (contains(positive, w)) return 1;
  if (contains(negative, w)) return -1;
  return 0;
}

std::span<const category_rule> category_rules() { return rules; }

std::size_t match_length(std::string_view word, std::string_view stem) {
  const bool hit = stem.size() >= 4 ? word.starts_with(stem) : word == stem;
  return hit ? stem.size() : 0;
}

}  // namespace spool::kinds::ai::lexicon
