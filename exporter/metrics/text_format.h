// The Prometheus text exposition format (version 0.0.4), written straight
// into one string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "prometheus/metric_family.h"

namespace nsexp {

// Appends "families" to *out in the text format: HELP and TYPE lines, then
// one line per sample. HELP text escapes backslash and newline; label values
// escape backslash, double quote and newline. Integral values print as
// integers, others in the shortest form that reads back exactly; NaN and
// infinities as NaN, +Inf, -Inf. Gauge, counter and untyped families are
// written; summaries and histograms (which the exporter never makes) are
// skipped. Families without samples are left out. Pure; thread-safe.
//
// Unlike prometheus::TextSerializer it needs no ostream: the output is
// reserved once and written with to_chars, which keeps a large scrape's
// memory and time low.
void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families,
                      std::string* out);

// The pieces AppendTextFormat is made of, for writers that produce the
// same text without building MetricFamily values first. Pure.
void AppendFamilyHeader(std::string_view name, std::string_view help,
                        prometheus::MetricType type, std::string* out);
// Escapes backslash, newline and (with "quote") double quote.
void AppendEscaped(std::string_view s, bool quote, std::string* out);
// Integral values as integers, others shortest-exact; NaN, +Inf, -Inf.
void AppendSampleValue(double v, std::string* out);

}  // namespace nsexp
