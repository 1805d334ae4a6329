// Text exposition format writer.
#include "metrics/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace nsexp {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

void AppendEscaped(std::string* out, const std::string& s, bool quote) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '"':
        if (quote) {
          out->append("\\\"");
        } else {
          out->push_back(c);
        }
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[32];
  // Exact integers (every count the exporter makes) print without a
  // fraction or exponent; 2^53 bounds the doubles that are exact integers.
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    const auto [end, ec] =
        std::to_chars(buf, buf + sizeof(buf), static_cast<std::int64_t>(v));
    if (ec == std::errc()) {
      out->append(buf, end);
      return;
    }
  }
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec == std::errc()) out->append(buf, end);
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Untyped:
      return "untyped";
    default:
      return nullptr;
  }
}

double SampleValue(MetricType t, const ClientMetric& m) {
  switch (t) {
    case MetricType::Counter:
      return m.counter.value;
    case MetricType::Gauge:
      return m.gauge.value;
    default:
      return m.untyped.value;
  }
}

}  // namespace

void AppendTextFormat(const std::vector<MetricFamily>& families,
                      std::string* out) {
  // A sample line is about the length of its labels plus the name: size the
  // buffer once instead of doubling it through a megabyte.
  std::size_t estimate = 0;
  for (const MetricFamily& f : families) {
    estimate += f.name.size() * 2 + f.help.size() + 32;
    std::size_t per_sample = f.name.size() + 24;
    if (!f.metric.empty()) {
      for (const auto& l : f.metric.front().label) {
        per_sample += l.name.size() + l.value.size() + 4;
      }
    }
    estimate += per_sample * f.metric.size();
  }
  out->reserve(out->size() + estimate + estimate / 8);

  for (const MetricFamily& f : families) {
    const char* type = TypeName(f.type);
    if (type == nullptr || f.metric.empty()) continue;
    out->append("# HELP ").append(f.name).push_back(' ');
    AppendEscaped(out, f.help, false);
    out->append("\n# TYPE ").append(f.name).push_back(' ');
    out->append(type).push_back('\n');
    for (const ClientMetric& m : f.metric) {
      out->append(f.name);
      if (!m.label.empty()) {
        out->push_back('{');
        bool first = true;
        for (const auto& l : m.label) {
          if (!first) out->push_back(',');
          first = false;
          out->append(l.name).append("=\"");
          AppendEscaped(out, l.value, true);
          out->push_back('"');
        }
        out->push_back('}');
      }
      out->push_back(' ');
      AppendValue(out, SampleValue(f.type, m));
      if (m.timestamp_ms != 0) {
        char buf[24];
        const auto [end, ec] =
            std::to_chars(buf, buf + sizeof(buf), m.timestamp_ms);
        if (ec == std::errc()) out->append(" ").append(buf, end);
      }
      out->push_back('\n');
    }
  }
}

}  // namespace nsexp
