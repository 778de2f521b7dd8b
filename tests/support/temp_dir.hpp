#pragma once
// A fresh directory under /tmp for one test, removed afterwards.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace spool::test {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "spool-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string db_url(const std::string& name = "test.db") const {
    return "sqlite:" + (path / name).string();
  }
};

}  // namespace spool::test
