// A strict reader of the text exposition format, for tests.
#include "exposition.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace nsexp {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Unescapes s[*pos..] up to the closing quote (label values: backslash,
// quote, newline) or to the end (HELP: backslash, newline).
bool Unescape(std::string_view s, std::size_t* pos, bool quoted,
              std::string* out) {
  while (*pos < s.size()) {
    const char c = s[(*pos)++];
    if (quoted && c == '"') return true;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (*pos >= s.size()) return false;
    const char e = s[(*pos)++];
    if (e == '\\') {
      out->push_back('\\');
    } else if (e == 'n') {
      out->push_back('\n');
    } else if (quoted && e == '"') {
      out->push_back('"');
    } else {
      return false;
    }
  }
  return !quoted;
}

bool ParseValue(std::string_view v, double* out) {
  if (v == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
  } else if (v == "+Inf") {
    *out = std::numeric_limits<double>::infinity();
  } else if (v == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
  } else {
    const std::string copy(v);
    char* end = nullptr;
    *out = std::strtod(copy.c_str(), &end);
    return !copy.empty() && end == copy.c_str() + copy.size();
  }
  return true;
}

bool ParseSample(std::string_view line, MetricFamily* family) {
  std::size_t pos = line.find_first_of("{ ");
  if (pos == std::string_view::npos || line.substr(0, pos) != family->name) {
    return false;
  }
  ClientMetric m;
  if (line[pos] == '{') {
    ++pos;
    while (pos < line.size() && line[pos] != '}') {
      const std::size_t eq = line.find("=\"", pos);
      if (eq == std::string_view::npos) return false;
      ClientMetric::Label label;
      label.name = std::string(line.substr(pos, eq - pos));
      pos = eq + 2;
      if (!Unescape(line, &pos, true, &label.value)) return false;
      m.label.push_back(std::move(label));
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    if (pos >= line.size()) return false;
    ++pos;  // '}'
  }
  if (pos >= line.size() || line[pos] != ' ') return false;
  double value = 0;
  if (!ParseValue(line.substr(pos + 1), &value)) return false;
  switch (family->type) {
    case MetricType::Counter:
      m.counter.value = value;
      break;
    case MetricType::Gauge:
      m.gauge.value = value;
      break;
    default:
      m.untyped.value = value;
  }
  family->metric.push_back(std::move(m));
  return true;
}

}  // namespace

std::vector<MetricFamily> ParseExposition(std::string_view text,
                                          std::string* error) {
  error->clear();
  std::vector<MetricFamily> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      *error = "line " + std::to_string(line_no) + ": no final newline";
      return out;
    }
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    bool ok = false;
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string_view rest = line.substr(7);
      const std::size_t sp = rest.find(' ');
      MetricFamily f;
      f.name = std::string(rest.substr(0, sp));
      std::size_t pos = sp + 1;
      ok = sp != std::string_view::npos && Unescape(rest, &pos, false, &f.help);
      out.push_back(std::move(f));
    } else if (line.rfind("# TYPE ", 0) == 0 && !out.empty()) {
      const std::string_view rest = line.substr(7);
      const std::string_view type = rest.substr(rest.find(' ') + 1);
      ok = rest.substr(0, rest.find(' ')) == out.back().name;
      if (type == "gauge") {
        out.back().type = MetricType::Gauge;
      } else if (type == "counter") {
        out.back().type = MetricType::Counter;
      } else if (type == "untyped") {
        out.back().type = MetricType::Untyped;
      } else {
        ok = false;
      }
    } else if (!out.empty()) {
      ok = ParseSample(line, &out.back());
    }
    if (!ok) {
      *error = "line " + std::to_string(line_no) + ": cannot parse \"" +
               std::string(line) + "\"";
      return out;
    }
  }
  return out;
}

}  // namespace nsexp
