#include "tests/e2e/process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace spool::e2e {

namespace {

std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "SPOOL_", 6) != 0) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

exit_status decode(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

// Runs in the forked child of a possibly multi-threaded parent: async-signal-safe calls only.
[[noreturn]] void exec_child(pid_t parent, const char* program, char* const* argv,
                             char* const* envp, const char* cwd, const char* out, const char* err,
                             int report_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the test died between fork and prctl
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, nullptr);
  int fail = 0;
  const int in_fd = open("/dev/null", O_RDONLY);
  const int out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
      dup2(err_fd, 2) < 0 || chdir(cwd) != 0) {
    fail = errno;
  } else {
    execve(program, argv, envp);
    fail = errno;
  }
  (void)!write(report_fd, &fail, sizeof fail);
  _exit(127);
}

}  // namespace

process::process(const std::string& program, const std::vector<std::string>& args,
                 spawn_options opts)
    : opts_(std::move(opts)) {
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto env_s = child_environment(opts_.env);
  auto argv = c_strings(argv_s);
  auto envp = c_strings(env_s);
  const std::string cwd = opts_.cwd.string(), out = opts_.stdout_path.string(),
                    err = opts_.stderr_path.string();

  // The child reports a failed exec through a close-on-exec pipe; a successful exec closes it.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    close(report[0]);
    close(report[1]);
    throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
  }
  if (pid_ == 0)
    exec_child(parent, program.c_str(), argv.data(), envp.data(), cwd.c_str(), out.c_str(),
               err.c_str(), report[1]);
  close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do n = read(report[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n > 0) {
    wait_for(5s);
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(child_errno));
  }
}

process::~process() {
  if (pid_ > 0 && !poll()) {
    ::kill(pid_, SIGKILL);
    int ws = 0;
    while (waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
  }
}

void process::signal(int sig) const {
  if (::kill(pid_, sig) != 0)
    throw std::runtime_error("kill(" + std::to_string(pid_) + ", " + std::to_string(sig) +
                             ") failed: " + std::strerror(errno));
}

std::optional<exit_status> process::poll() {
  if (status_) return status_;
  int ws = 0;
  pid_t r;
  do r = waitpid(pid_, &ws, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == pid_) status_ = decode(ws);
  return status_;
}

std::optional<exit_status> process::wait_for(steady::duration timeout) {
  const auto deadline = steady::now() + timeout;
  while (!poll() && steady::now() < deadline) std::this_thread::sleep_for(2ms);
  return poll();
}

std::string process::out() const { return read_file(opts_.stdout_path); }
std::string process::err() const { return read_file(opts_.stderr_path); }

result run(const std::string& program, const std::vector<std::string>& args,
           const spawn_options& opts, steady::duration timeout) {
  process p(program, args, opts);
  const auto status = p.wait_for(timeout);
  if (!status) {
    p.signal(SIGKILL);
    p.wait_for(5s);
    std::string cmd = program;
    for (auto& a : args) cmd += " " + a;
    BOOST_FAIL("command did not finish within "
               << std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()
               << " ms and was killed: " << cmd << "\nstderr: " << p.err());
  }
  return {*status, p.out(), p.err()};
}

bool poll_until(const std::function<bool()>& pred, steady::duration timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

void wait_until(const std::function<bool()>& pred, steady::duration timeout,
                const std::function<std::string()>& message, boost::source_location where) {
  const auto start = steady::now();
  if (poll_until(pred, timeout)) return;
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
  BOOST_FAIL(where.file_name() << ":" << where.line() << ": timed out after " << waited
                               << " ms: " << message());
}

void wait_until(const std::function<bool()>& pred, steady::duration timeout,
                const std::string& message, boost::source_location where) {
  const std::function<std::string()> text = [&] { return message; };
  wait_until(pred, timeout, text, where);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::int64_t> resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return std::nullopt;
}

std::string describe(exit_status status) {
  if (status > 128)
    return "killed by signal " + std::to_string(status - 128) + " (" + strsignal(status - 128) +
           ")";
  return "exit code " + std::to_string(status);
}

}  // namespace spool::e2e
