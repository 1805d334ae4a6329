// FUZZ_CHECK: the property checks of the fuzz targets, on in every build.
#pragma once

#include <cstdio>
#include <cstdlib>

// Aborts with the failed condition when "cond" is false, so that libFuzzer
// (and the replay driver) report the input as a finding. Unlike assert(),
// never compiled out.
#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)
