#include "schedule/cron.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace spool::schedule {

namespace {

using namespace std::chrono;
using date::local_seconds;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

struct field {
  const char* name;
  int lo, hi;
  std::vector<std::string_view> names;  // names[i] stands for lo + i
};

const field second_field{"second", 0, 59, {}};
const field minute_field{"minute", 0, 59, {}};
const field hour_field{"hour", 0, 23, {}};
const field day_field{"day of month", 1, 31, {}};
const field month_field{"month", 1, 12,
                        {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
const field weekday_field{"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

int value_of(std::string_view text, const field& f) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < f.names.size(); ++i)
    if (lower == f.names[i]) return f.lo + static_cast<int>(i);
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    bad(std::string(f.name) + ": '" + std::string(text) + "' is not a number" +
        (f.names.empty() ? "" : " or a name"));
  if (v < f.lo || v > f.hi)
    bad(std::string(f.name) + ": " + std::to_string(v) + " is out of range " + std::to_string(f.lo) + "-" +
        std::to_string(f.hi));
  return v;
}

// One field into `out` (bit v for value v); returns whether the field starts with '*' (or '?').
template <std::size_t N>
bool parse_field(std::string_view text, const field& f, std::bitset<N>& out) {
  if (text.empty()) bad(std::string(f.name) + ": empty");
  const bool star = text.front() == '*' || text.front() == '?';
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) bad(std::string(f.name) + ": empty list item");
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      const auto s = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (ec != std::errc{} || end != s.data() + s.size() || step < 1)
        bad(std::string(f.name) + ": step '" + std::string(s) + "' is not a number >= 1");
      item = item.substr(0, slash);
    }
    int lo = f.lo, hi = f.hi;
    if (item == "*" || item == "?") {
    } else if (const auto dash = item.find('-'); dash != std::string_view::npos) {
      lo = value_of(item.substr(0, dash), f);
      hi = value_of(item.substr(dash + 1), f);
      if (lo > hi) bad(std::string(f.name) + ": range '" + std::string(item) + "' runs backwards");
    } else {
      lo = value_of(item, f);
      if (step == 1) hi = lo;  // "5/15" means 5-max/15, as in cron
    }
    for (int v = lo; v <= hi; v += step) out.set(static_cast<std::size_t>(v % static_cast<int>(N)));
  }
  return star;
}

duration parse_every(std::string_view text) {
  if (text.empty()) bad("@every: give an interval such as 30s, 5m or 1h30m");
  seconds total{0};
  while (!text.empty()) {
    long long n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end == text.data() + text.size())
      bad("@every: '" + std::string(text) + "' is not an interval such as 30s, 5m or 1h30m");
    const char unit = *end;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()) + 1);
    if (unit == 'h') total += hours(n);
    else if (unit == 'm') total += minutes(n);
    else if (unit == 's') total += seconds(n);
    else bad(std::string("@every: unknown unit '") + unit + "' (use h, m, s)");
  }
  if (total < seconds(1)) bad("@every: the interval must be at least 1s");
  return duration_cast<duration>(total);
}

std::string_view macro(std::string_view name) {
  if (name == "@yearly" || name == "@annually") return "0 0 1 1 *";
  if (name == "@monthly") return "0 0 1 * *";
  if (name == "@weekly") return "0 0 * * 0";
  if (name == "@daily" || name == "@midnight") return "0 0 * * *";
  if (name == "@hourly") return "0 * * * *";
  bad("unknown macro '" + std::string(name) +
      "' (known: @yearly @annually @monthly @weekly @daily @midnight @hourly @every)");
}

time_point to_point(sys_seconds s) { return time_point_cast<duration>(s); }

}  // namespace

cron cron::parse(std::string_view expression, std::string_view time_zone) {
  cron c;
  c.expression_ = std::string(expression);
  c.zone_name_ = std::string(time_zone);
  try {
    c.zone_ = date::locate_zone(time_zone);
  } catch (const std::exception&) {
    bad("unknown time zone '" + std::string(time_zone) + "' (an IANA name such as UTC or Europe/Berlin)");
  }
  std::string_view text = expression;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.starts_with("@every")) {
    auto rest = text.substr(6);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    c.every_ = parse_every(rest);
    return c;
  }
  if (text.starts_with("@")) text = macro(text);

  std::vector<std::string_view> fields;
  while (!text.empty()) {
    const auto end = text.find(' ');
    if (end != 0) fields.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  if (fields.size() != 5 && fields.size() != 6)
    bad("expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got " +
        std::to_string(fields.size()));
  std::size_t i = 0;
  if (fields.size() == 6) parse_field(fields[i++], second_field, c.seconds_);
  else c.seconds_.set(0);
  const bool any_minute = parse_field(fields[i++], minute_field, c.minutes_);
  const bool any_hour = parse_field(fields[i++], hour_field, c.hours_);
  c.any_day_ = parse_field(fields[i++], day_field, c.days_);
  parse_field(fields[i++], month_field, c.months_);
  std::bitset<8> weekdays;  // 0-7: 7 is Sunday too
  c.any_weekday_ = parse_field(fields[i++], weekday_field, weekdays);
  for (std::size_t d = 0; d < 7; ++d) c.weekdays_[d] = weekdays[d] || (d == 0 && weekdays[7]);
  c.fixed_time_ = !any_minute && !any_hour;
  return c;
}

namespace {

// The first local time at or after `t` whose fields all match, before `limit`.
template <class Cron>
std::optional<local_seconds> next_local(const Cron& c, local_seconds t, local_seconds limit) {
  while (t < limit) {
    const auto day = floor<date::days>(t);
    const date::year_month_day ymd(day);
    if (!c.month(unsigned(ymd.month()))) {
      const auto next_month = date::year_month{ymd.year(), ymd.month()} + date::months(1);
      t = local_seconds(date::local_days(next_month / 1));
      continue;
    }
    if (!c.day(unsigned(ymd.day()), date::weekday(day).c_encoding())) {
      t = local_seconds(day + date::days(1));
      continue;
    }
    const date::hh_mm_ss<seconds> tod(t - day);
    if (!c.hour(tod.hours().count())) {
      t = floor<hours>(t) + hours(1);
      continue;
    }
    if (!c.minute(tod.minutes().count())) {
      t = floor<minutes>(t) + minutes(1);
      continue;
    }
    if (!c.second(tod.seconds().count())) {
      t += seconds(1);
      continue;
    }
    return t;
  }
  return std::nullopt;
}

}  // namespace

namespace {

// What next_local asks of a calendar expression.
struct cron_fields {
  const std::bitset<60>& s;
  const std::bitset<60>& mi;
  const std::bitset<24>& h;
  const std::bitset<32>& dom;
  const std::bitset<13>& mon;
  const std::bitset<7>& dow;
  bool any_day, any_weekday;
  bool month(unsigned m) const { return mon[m]; }
  bool day(unsigned d, unsigned wd) const {
    if (any_day && any_weekday) return true;
    if (any_day) return dow[wd];
    if (any_weekday) return dom[d];
    return dom[d] || dow[wd];
  }
  bool hour(long h_) const { return h[static_cast<std::size_t>(h_)]; }
  bool minute(long m) const { return mi[static_cast<std::size_t>(m)]; }
  bool second(long x) const { return s[static_cast<std::size_t>(x)]; }
};

}  // namespace

std::optional<time_point> cron::next(time_point after) const {
  if (every_ > duration::zero()) {
    const auto n = every_.count(), a = after.time_since_epoch().count();
    const auto k = (a >= 0 ? a / n : (a - n + 1) / n) + 1;  // floor division, then the next
    return time_point(duration(k * n));
  }
  const cron_fields f{seconds_, minutes_, hours_, days_, months_, weekdays_, any_day_, any_weekday_};
  const auto after_s = floor<seconds>(sys_time<duration>(after.time_since_epoch()));
  auto local_start = zone_->to_local(after_s) + seconds(1);
  // Near an autumn fall-back, local times already passed come round again: scan from earlier,
  // and take the earliest instant after `after`.
  const auto info = zone_->get_info(after_s);
  bool repeats = false;
  for (auto at : {info.begin - seconds(1), info.end}) {
    const auto other = zone_->get_info(at);
    const auto [before, later] = at < info.begin ? std::pair{other, info} : std::pair{info, other};
    if (before.offset > later.offset && abs(at - after_s) < hours(3)) repeats = true;
  }
  if (repeats) local_start -= hours(3);
  const auto limit = local_start + date::days(5 * 366);
  std::optional<sys_seconds> best;
  for (auto c = next_local(f, local_start, limit); c; c = next_local(f, *c + seconds(1), limit)) {
    const auto li = zone_->get_info(*c);
    std::vector<sys_seconds> instants;
    if (li.result == date::local_info::unique) {
      instants.push_back(sys_seconds((*c - li.first.offset).time_since_epoch()));
    } else if (li.result == date::local_info::nonexistent) {
      if (fixed_time_) instants.push_back(li.first.end);  // the moment the clock jumps
    } else {  // ambiguous: the first pass, and for a wall-clock schedule the second too
      instants.push_back(sys_seconds((*c - li.first.offset).time_since_epoch()));
      if (!fixed_time_) instants.push_back(sys_seconds((*c - li.second.offset).time_since_epoch()));
    }
    for (auto s : instants)
      if (s > after_s && (!best || s < *best)) best = s;
    if (best && (!repeats || *c >= local_start + hours(6))) break;
  }
  if (!best) return std::nullopt;
  return to_point(*best);
}

std::optional<time_point> cron::latest(time_point at, time_point after) const {
  // Look back from `at` over a window that doubles until it holds a tick, then walk forward.
  for (duration window = std::chrono::minutes(1);; window *= 2) {
    const auto from = std::max(after, at - window);
    auto t = next(from);
    if (t && *t <= at) {
      for (auto n = next(*t); n && *n <= at; n = next(*n)) t = n;
      return t;
    }
    if (from == after) return std::nullopt;
  }
}

}  // namespace spool::schedule
