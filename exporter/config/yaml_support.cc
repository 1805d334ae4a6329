// The YAML loader shared by both configuration files.
#include "config/yaml_support.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace nsexp {

void YamlFail(const YAML::Mark& mark, std::string message) {
  throw YamlError{mark, std::move(message)};
}

std::string YamlPosition(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

const char* YamlKindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "an undefined node";
}

Status ReadYamlFile(const std::string& flag, const std::string& path,
                    std::string* text) {
  const std::string what = flag + " " + path;
  // An ifstream opens a directory and then reads nothing, which would pass
  // for an empty (valid) file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(what + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return StatusFromErrno(errno, what);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return StatusFromErrno(errno, what);
  *text = buf.str();
  return Status::Ok();
}

namespace {

// Counts the parser's events and throws YamlError at the one past
// kMaxYamlNodes. yaml-cpp 0.7 emits nodes forever on some malformed input
// (",!" is enough; found by tests/fuzz/web_config_fuzzer.cc), which
// YAML::LoadAll turns into an endless loop that eats all memory, so a text
// is parsed once with this handler before it is loaded.
class NodeBudget : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { Count(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Count(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Count(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Count(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&,
                       YAML::anchor_t, YAML::EmitterStyle::value) override {
    Count(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Count(mark);
  }
  void OnMapEnd() override {}

 private:
  void Count(const YAML::Mark& mark) {
    if (++nodes_ > kMaxYamlNodes) {
      YamlFail(mark, "invalid YAML: more than " +
                         std::to_string(kMaxYamlNodes) + " nodes");
    }
  }

  std::size_t nodes_ = 0;
};

}  // namespace

Status ParseYamlDocument(
    const std::string& text, const std::string& name,
    const std::function<void(const YAML::Node& root)>& walk) {
  try {
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      NodeBudget budget;
      while (parser.HandleNextDocument(budget)) {
      }
    }
    const std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      return Status::InvalidArgument(YamlPosition(name, docs[1].Mark()) +
                                     ": want one YAML document, found " +
                                     std::to_string(docs.size()));
    }
    walk(docs.empty() ? YAML::Node() : docs[0]);
  } catch (const YamlError& e) {
    return Status::InvalidArgument(YamlPosition(name, e.mark) + ": " +
                                   e.message);
  } catch (const YAML::Exception& e) {
    // e.msg is yaml-cpp's reason without the position; e.what() repeats it.
    return Status::InvalidArgument(YamlPosition(name, e.mark) +
                                   ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(name + ": " + e.what());
  }
  return Status::Ok();
}

void ForEachYamlKey(
    const YAML::Node& map, const std::string& where,
    const std::vector<std::string>& allowed,
    const std::function<void(const std::string& key, const YAML::Node& key_node,
                             const YAML::Node& value)>& visit) {
  if (map.IsNull()) return;
  if (!map.IsMap()) {
    YamlFail(map.Mark(),
             where + ": found " + YamlKindName(map) + ", want a mapping");
  }
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const YAML::Node& key = kv.first;
    if (!key.IsScalar()) YamlFail(key.Mark(), where + ": keys must be strings");
    const std::string k = key.Scalar();
    if (!allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string want;
      for (std::size_t i = 0; i < allowed.size(); ++i) {
        if (i > 0) want += i + 1 == allowed.size() ? " or " : ", ";
        want += allowed[i];
      }
      YamlFail(key.Mark(),
               where + ": unknown key \"" + k + "\" (want " + want + ")");
    }
    // yaml-cpp keeps both entries of a repeated key; a lookup would take
    // one of them silently.
    if (!seen.insert(k).second) {
      YamlFail(key.Mark(), where + ": duplicate key \"" + k + "\"");
    }
    visit(k, key, kv.second);
  }
}

void CheckYamlKeys(const YAML::Node& map, const std::string& where,
                   const std::vector<std::string>& allowed) {
  ForEachYamlKey(
      map, where, allowed,
      [](const std::string&, const YAML::Node&, const YAML::Node&) {});
}

std::string YamlString(const YAML::Node& node, const std::string& where) {
  if (node.IsNull()) return "";
  if (!node.IsScalar()) {
    YamlFail(node.Mark(),
             where + ": found " + YamlKindName(node) + ", want a string");
  }
  return node.Scalar();
}

bool YamlBool(const YAML::Node& node, const std::string& where) {
  if (node.IsScalar()) {
    static const std::set<std::string> kTrue = {
        "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const std::set<std::string> kFalse = {
        "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (kTrue.count(node.Scalar()) > 0) return true;
    if (kFalse.count(node.Scalar()) > 0) return false;
    YamlFail(node.Mark(),
             where + ": found \"" + node.Scalar() + "\", want true or false");
  }
  YamlFail(node.Mark(),
           where + ": found " + YamlKindName(node) + ", want true or false");
}

std::vector<std::string> YamlStringList(const YAML::Node& node,
                                        const std::string& where) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    YamlFail(node.Mark(), where + ": found " + YamlKindName(node) +
                              ", want a list of strings");
  }
  for (const auto& item : node) out.push_back(YamlString(item, where + "[]"));
  return out;
}

}  // namespace nsexp
