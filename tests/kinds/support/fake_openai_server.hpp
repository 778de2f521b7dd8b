#pragma once
// An OpenAI-compatible server for the tests, also serving the HTTP kinds' tests, on loopback
// (port 0) with its own thread: every request is answered as the test's script says (a status,
// headers, a body, a delay, a hang, a silent close), and what the server saw is recorded.
#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace spool::test {

class fake_openai_server {
 public:
  using steady = std::chrono::steady_clock;

  struct received {
    std::string method;
    std::string target;
    std::string authorization;
    std::string content_type;
    std::string host;
    std::map<std::string, std::string> headers;  // every header, by the name as sent
    std::string body;
    boost::json::object json;  // the body, parsed (empty if it was not a JSON object)
    steady::time_point at;
    int connection = 0;  // which accepted connection it came on, from 1
    // The text of the request's system message, to tell analysis from profile prompts.
    std::string system_prompt() const;
    std::string user_prompt() const;
    bool asks_for_profile() const;
  };

  struct reply {
    unsigned status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  // before answering
    bool hang = false;          // never answer; note when the client closes the connection
    bool close_after = false;   // close the connection after answering, without saying so
  };

  // Called on the server's thread for request number `n` (0-based, across connections).
  using script = std::function<reply(const received& req, int n)>;

  explicit fake_openai_server(script s, boost::asio::ssl::context* tls = nullptr);
  ~fake_openai_server();
  fake_openai_server(const fake_openai_server&) = delete;
  fake_openai_server& operator=(const fake_openai_server&) = delete;

  std::string url() const;  // http(s)://127.0.0.1:PORT
  unsigned short port() const;

  std::vector<received> requests() const;
  int request_count() const { return count_.load(); }
  int connections() const { return connections_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  // When the client closed a connection the server was hanging on, if it has.
  std::optional<steady::time_point> hang_closed_at() const;
  std::optional<steady::time_point> hang_started_at() const;

  // A chat completion body whose first choice says `content`, with usage figures.
  static std::string completion(const std::string& content, int prompt_tokens = 11,
                                int completion_tokens = 7);
  static std::string analysis_json(const std::string& category = "learning",
                                   const std::string& sentiment = "positive");
  static std::string profile_json();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::atomic<int> count_{0};
  std::atomic<int> connections_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  friend struct impl;
};

// Polls `pred` every 5 ms until it holds or `limit` passes; returns pred().
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit = std::chrono::milliseconds(10000));

}  // namespace spool::test
