// The Prometheus text exposition format (version 0.0.4), written straight
// into one string.
#pragma once

#include <string>
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

}  // namespace nsexp
