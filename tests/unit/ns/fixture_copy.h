// A writable copy of a fixture tree, for tests that need a variation of it.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

namespace nsexp {
namespace fixture {

// Copies the fixture tree "source" (symbolic links as links) to a new
// temporary directory, removed on destruction. root() is empty (and a
// failure recorded) when the copy could not be made.
class FixtureCopy {
 public:
  explicit FixtureCopy(const std::string& source) {
    std::string tmpl = testing::TempDir() + "fixture.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    root_ = tmpl;
    std::error_code ec;
    std::filesystem::copy(source, root_,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::copy_symlinks,
                          ec);
    if (ec) {
      ADD_FAILURE() << "copying " << source << ": " << ec.message();
      std::filesystem::remove_all(root_, ec);
      root_.clear();
    }
  }
  ~FixtureCopy() {
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  FixtureCopy(const FixtureCopy&) = delete;
  FixtureCopy& operator=(const FixtureCopy&) = delete;

  // Appends "text" to the file "relative" (under root()) of each of "pids",
  // e.g. Append({"1", "400"}, "mountinfo", "...\n").
  void Append(std::initializer_list<const char*> pids,
              const std::string& relative, const std::string& text) const {
    for (const char* pid : pids) {
      std::ofstream out(root_ + "/" + pid + "/" + relative, std::ios::app);
      out << text;
      if (!out) ADD_FAILURE() << "cannot append to " << pid << "/" << relative;
    }
  }

  // The copy's root directory.
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace fixture
}  // namespace nsexp
