// OpenSslCipherName and OpenSslGroupName: Go's names to OpenSSL's.
#include "base/tls_names.h"

#include <gtest/gtest.h>

namespace nsexp {
namespace {

TEST(OpenSslCipherNameTest, MapsGoNames) {
  EXPECT_EQ(OpenSslCipherName("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(OpenSslCipherName("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
            "ECDHE-ECDSA-AES256-GCM-SHA384");
  // Go spells the ChaCha20 suites both ways.
  EXPECT_EQ(OpenSslCipherName("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"),
            OpenSslCipherName("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
  EXPECT_EQ(OpenSslCipherName("TLS_RSA_WITH_AES_128_CBC_SHA"), "AES128-SHA");
}

TEST(OpenSslCipherNameTest, RefusesUnknownAndUnconfigurable) {
  EXPECT_FALSE(OpenSslCipherName(""));
  EXPECT_FALSE(OpenSslCipherName("ECDHE-RSA-AES128-GCM-SHA256"));  // OpenSSL's
  EXPECT_FALSE(OpenSslCipherName("TLS_RSA_WITH_RC4_128_SHA"));
  EXPECT_FALSE(OpenSslCipherName("TLS_AES_128_GCM_SHA256"));  // TLS 1.3
}

TEST(OpenSslGroupNameTest, MapsGoCurves) {
  EXPECT_EQ(OpenSslGroupName("CurveP256"), "P-256");
  EXPECT_EQ(OpenSslGroupName("CurveP384"), "P-384");
  EXPECT_EQ(OpenSslGroupName("CurveP521"), "P-521");
  EXPECT_EQ(OpenSslGroupName("X25519"), "X25519");
  EXPECT_FALSE(OpenSslGroupName("P-256"));
  EXPECT_FALSE(OpenSslGroupName("X448"));
}

}  // namespace
}  // namespace nsexp
