// GzipStart, GzipFinish and AcceptsGzip: the shared prefix plus a tail
// decompresses (with zlib's own gzip reader) to the concatenated input,
// byte for byte.
#include "http/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace nsexp {
namespace {

// Inflates one gzip member with zlib; fails the test on any error.
std::string Gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[65536];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END) << "not one complete gzip member";
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip trailer";
  inflateEnd(&z);
  return out;
}

std::string Compress(const std::string& head, const std::string& tail,
                     int level) {
  GzipPrefix prefix;
  EXPECT_TRUE(GzipStart(head, level, &prefix).ok());
  EXPECT_EQ(prefix.size, head.size());
  std::string rest;
  EXPECT_TRUE(GzipFinish(prefix, tail, level, &rest).ok());
  return prefix.bytes + rest;
}

TEST(GzipTest, PrefixAndTailDecompressToBoth) {
  std::string head;
  for (int i = 0; i < 20000; ++i) {
    head += "linux_namespace_processes{type=\"net\",inode=\"" +
            std::to_string(4026531840 + i) + "\"} " + std::to_string(i % 7) +
            "\n";
  }
  const std::string tail = "process_open_fds 12\nprocess_max_fds 1024\n";
  const std::string gz = Compress(head, tail, 1);
  EXPECT_EQ(Gunzip(gz), head + tail);
  EXPECT_LT(gz.size(), (head.size() + tail.size()) / 5);
}

TEST(GzipTest, EmptyPartsAndIncompressibleData) {
  std::mt19937 rng(7);
  std::string noise(100000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  const std::string cases[][2] = {
      {"", ""}, {"", "tail only\n"}, {"head only\n", ""}, {noise, noise}};
  for (const auto& c : cases) {
    EXPECT_EQ(Gunzip(Compress(c[0], c[1], 1)), c[0] + c[1]);
  }
}

// The prefix of a collection is kept while it is served: its buffer must
// be about the size of the compressed bytes, not of the input (a buffer
// sized by deflateBound() and written whole stays resident). Incompressible
// input larger than one output slice checks the growth path.
TEST(GzipTest, PrefixBufferFitsTheCompressedBytes) {
  std::string text;
  while (text.size() < 4000000) {
    text += "linux_namespace_info{type=\"pid\",inode=\"" +
            std::to_string(4026531840 + text.size()) + "\"} 1\n";
  }
  GzipPrefix prefix;
  ASSERT_TRUE(GzipStart(text, 1, &prefix).ok());
  EXPECT_LT(prefix.bytes.size(), text.size() / 5);
  EXPECT_LE(prefix.bytes.capacity(), 2 * prefix.bytes.size() + 65536);
  std::string rest;
  ASSERT_TRUE(GzipFinish(prefix, "", 1, &rest).ok());
  EXPECT_EQ(Gunzip(prefix.bytes + rest), text);

  std::mt19937 rng(11);
  std::string noise(300000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  EXPECT_EQ(Gunzip(Compress(noise, noise, 9)), noise + noise);
}

TEST(GzipTest, OnePrefixServesManyTails) {
  GzipPrefix prefix;
  ASSERT_TRUE(GzipStart("shared body\n", 1, &prefix).ok());
  for (const std::string tail : {"a 1\n", "b 2\n"}) {
    std::string rest;
    ASSERT_TRUE(GzipFinish(prefix, tail, 1, &rest).ok());
    EXPECT_EQ(Gunzip(prefix.bytes + rest), "shared body\n" + tail);
  }
}

TEST(AcceptsGzipTest, Table) {
  const std::pair<const char*, bool> cases[] = {
      {"gzip", true},
      {"GZip", true},
      {"x-gzip", true},
      {"gzip, deflate, br", true},
      {"deflate, gzip;q=0.5", true},
      {" gzip ; q=1.0 ", true},
      {"*", true},
      {"*;q=0.1", true},
      {"", false},
      {"identity", false},
      {"deflate, br", false},
      {"gzip;q=0", false},
      {"gzip;q=0.000", false},
      {"*, gzip;q=0", false},
      {"*;q=0", false},
      {"gzipx", false},
      {"gzip;q=abc", false},
  };
  for (const auto& [header, want] : cases) {
    EXPECT_EQ(AcceptsGzip(header), want) << "\"" << header << "\"";
  }
}

}  // namespace
}  // namespace nsexp
