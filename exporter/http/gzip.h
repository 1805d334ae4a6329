// gzip (RFC 1952) for /metrics: the body shared by every scraper of one
// collection is compressed once, and each response appends its own short
// tail to that compressed prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nsexp {

// The start of a gzip member: the gzip header and a raw deflate stream of
// "size" bytes of input whose CRC-32 is "crc", flushed to a byte boundary
// and not final, so that more deflate blocks may follow it. Immutable once
// made; share it freely.
struct GzipPrefix {
  std::string bytes;  // gzip header + deflate blocks
  std::uint32_t crc = 0;
  std::uint64_t size = 0;
};

// Compresses "data" at zlib "level" (1 fastest .. 9 smallest) into *out.
// kIoError when zlib fails (out of memory). Thread-safe.
[[nodiscard]] Status GzipStart(std::string_view data, int level,
                               GzipPrefix* out);

// The bytes that, sent after prefix.bytes, complete a gzip member whose
// decompressed content is the prefix's input followed by "tail": the
// deflate blocks of "tail" (final) and the gzip trailer (CRC-32 and size
// of the whole). kIoError when zlib fails. Thread-safe.
[[nodiscard]] Status GzipFinish(const GzipPrefix& prefix, std::string_view tail,
                                int level, std::string* out);

// True when an Accept-Encoding header value (RFC 9110 section 12.5.3)
// accepts gzip: a "gzip" or "x-gzip" coding (case-insensitive) without
// q=0, or "*" without q=0 and no refusal of gzip. Pure.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace nsexp
