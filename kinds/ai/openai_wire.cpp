#include "kinds/ai/openai_wire.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace spool::kinds::ai {
namespace json = boost::json;

namespace {

std::optional<std::int64_t> count(const json::object& usage, std::string_view key) {
  const auto* v = usage.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

}  // namespace

std::string completion_body(const chat_request& request, std::string_view model) {
  json::array messages;
  for (const auto& m : request.messages)
    messages.push_back(json::object{{"role", m.role}, {"content", m.content}});
  json::object body{{"model", model},
                    {"messages", std::move(messages)},
                    {"temperature", request.temperature},
                    {"max_tokens", request.max_tokens},
                    {"stream", false}};
  if (request.json_output) body["response_format"] = json::object{{"type", "json_object"}};
  return json::serialize(body);
}

std::variant<chat_reply, std::string> parse_completion(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return "the answer is not JSON: " + ec.message();
  if (!v.is_object()) return std::string("the answer is not a JSON object");
  const auto& o = v.get_object();
  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty())
    return std::string("the answer has no choices");
  const auto& first = choices->get_array().front();
  const auto* message = first.is_object() ? first.get_object().if_contains("message") : nullptr;
  const auto* content =
      message && message->is_object() ? message->get_object().if_contains("content") : nullptr;
  if (!content || !content->is_string())
    return std::string("the answer's first choice has no message content");
  chat_reply reply;
  reply.content = std::string(content->get_string());
  if (const auto* usage = o.if_contains("usage"); usage && usage->is_object()) {
    reply.prompt_tokens = count(usage->get_object(), "prompt_tokens");
    reply.completion_tokens = count(usage->get_object(), "completion_tokens");
  }
  return reply;
}

}  // namespace spool::kinds::ai
