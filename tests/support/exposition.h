// Reading the text exposition format back into metric families, for tests
// that check what /metrics serves.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "prometheus/metric_family.h"

namespace nsexp {

// Parses "text" (version 0.0.4, as the exporter writes it: HELP and TYPE
// before each family's samples, no timestamps) into families in the order
// they appear. Label values and HELP text are unescaped. Strict: on an
// unknown escape, a sample outside its family, a malformed line or a value
// that is not a number, returns what was read so far and sets *error (left
// empty on success). Pure.
std::vector<prometheus::MetricFamily> ParseExposition(std::string_view text,
                                                      std::string* error);

}  // namespace nsexp
