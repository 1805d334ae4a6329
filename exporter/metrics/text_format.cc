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

void AppendEscaped(std::string_view s, bool quote, std::string* out) {
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

void AppendSampleValue(double v, std::string* out) {
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

void AppendFamilyHeader(std::string_view name, std::string_view help,
                        MetricType type, std::string* out) {
  out->append("# HELP ").append(name).push_back(' ');
  AppendEscaped(help, false, out);
  out->append("\n# TYPE ").append(name).push_back(' ');
  out->append(TypeName(type)).push_back('\n');
}

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
    AppendFamilyHeader(f.name, f.help, f.type, out);
    for (const ClientMetric& m : f.metric) {
      out->append(f.name);
      if (!m.label.empty()) {
        out->push_back('{');
        bool first = true;
        for (const auto& l : m.label) {
          if (!first) out->push_back(',');
          first = false;
          out->append(l.name).append("=\"");
          AppendEscaped(l.value, true, out);
          out->push_back('"');
        }
        out->push_back('}');
      }
      out->push_back(' ');
      AppendSampleValue(SampleValue(f.type, m), out);
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
