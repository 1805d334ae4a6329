// ParseWebConfig and CheckWebConfigSupported: table-driven.
#include "config/web_config.h"

#include <gtest/gtest.h>

#include <string>

namespace nsexp {
namespace {

// Password "pw", cost 4 (cheap on purpose).
constexpr const char* kHash =
    "$2b$04$0UPQKyyUrHxYK.g7BFgd3eRLzUUHc86rQGCznxbUmdjJTcKE8qs2S";

std::string Users(const std::string& user, const std::string& hash) {
  return "basic_auth_users:\n  " + user + ": '" + hash + "'\n";
}

TEST(ParseWebConfig, EmptyDocumentMeansNoAuthentication) {
  for (const std::string text : {"", "\n", "# only a comment\n", "---\n"}) {
    WebConfig config;
    ASSERT_TRUE(ParseWebConfig(text, "w.yml", &config).ok()) << text;
    EXPECT_TRUE(config.basic_auth_users.empty());
    EXPECT_FALSE(config.has_tls);
  }
}

TEST(ParseWebConfig, ReadsUsersAndHeaders) {
  WebConfig config;
  const std::string text = Users("alice", kHash) +
                           "  bob: $2y$04$RWNcCktcwqQ4K3tH6kHcIubMYx4TBd.P03r"
                           "yYLNvuLiR0vVkL5NIW\n"
                           "http_server_config:\n"
                           "  http2: false\n"
                           "  headers:\n"
                           "    X-Frame-Options: sameorigin\n"
                           "    Strict-Transport-Security: max-age=31536000\n";
  const Status s = ParseWebConfig(text, "w.yml", &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(config.basic_auth_users.size(), 2u);
  EXPECT_EQ(config.basic_auth_users.at("alice"), kHash);
  EXPECT_FALSE(config.http.http2);
  EXPECT_EQ(config.http.headers.at("X-Frame-Options"), "sameorigin");
  EXPECT_EQ(config.http.headers.size(), 2u);
}

TEST(ParseWebConfig, ReadsTlsServerConfig) {
  WebConfig config;
  const std::string text =
      "tls_server_config:\n"
      "  cert_file: server.crt\n"
      "  key_file: server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: ca.crt\n"
      "  min_version: TLS12\n"
      "  max_version: TLS13\n"
      "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
      "  curve_preferences: [X25519]\n"
      "  prefer_server_cipher_suites: no\n";
  const Status s = ParseWebConfig(text, "w.yml", &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(config.has_tls);
  EXPECT_EQ(config.tls.cert_file, "server.crt");
  EXPECT_EQ(config.tls.key_file, "server.key");
  EXPECT_EQ(config.tls.client_auth_type, "RequireAndVerifyClientCert");
  EXPECT_EQ(config.tls.min_version, "TLS12");
  EXPECT_EQ(config.tls.cipher_suites.size(), 1u);
  EXPECT_FALSE(config.tls.prefer_server_cipher_suites);
  EXPECT_EQ(config.tls_location, "w.yml:1:1");
}

struct BadCase {
  const char* label;
  std::string text;
  const char* want;  // a substring of the message, position included
};

class ParseWebConfigError : public testing::TestWithParam<BadCase> {};

TEST_P(ParseWebConfigError, NamesPositionAndExpectation) {
  WebConfig config;
  config.basic_auth_users["kept"] = kHash;
  const Status s = ParseWebConfig(GetParam().text, "w.yml", &config);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(GetParam().want), std::string::npos)
      << s.message();
  // *out is untouched on error.
  EXPECT_EQ(config.basic_auth_users.count("kept"), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseWebConfigError,
    testing::Values(
        BadCase{"bad_yaml", "basic_auth_users: {a: b\n",
                "w.yml:2:1: invalid YAML"},
        BadCase{"tab_indent", "basic_auth_users:\n\talice: x\n",
                "w.yml:2:7: invalid YAML: illegal map value"},
        BadCase{"unknown_top_key", "basic_auth_user: {}\n",
                "w.yml:1:1: top level: unknown key \"basic_auth_user\""},
        BadCase{"unknown_tls_key",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n"
                "  certfile: c\n",
                "w.yml:4:3: tls_server_config: unknown key \"certfile\""},
        BadCase{"unknown_http_key", "http_server_config:\n  http3: true\n",
                "w.yml:2:3: http_server_config: unknown key \"http3\""},
        BadCase{"top_level_list", "- a\n- b\n",
                "w.yml:1:1: top level: found a list, want a mapping"},
        BadCase{"users_list", "basic_auth_users: [a]\n",
                "w.yml:1:19: basic_auth_users: found a list, want a mapping"},
        BadCase{"hash_map", "basic_auth_users:\n  alice: {a: b}\n",
                "w.yml:2:10: basic_auth_users.alice: found a mapping, want "
                "a string"},
        BadCase{"bad_hash", Users("alice", "plaintext"),
                "w.yml:2:10: basic_auth_users.alice: not a bcrypt hash"},
        BadCase{"short_hash", Users("alice", std::string(kHash).substr(0, 59)),
                "w.yml:2:10: basic_auth_users.alice: not a bcrypt hash"},
        BadCase{"cost_too_low",
                Users("alice", "$2b$03" + std::string(kHash).substr(6)),
                "not a bcrypt hash"},
        BadCase{"md5_crypt", Users("alice", "$1$abc$def"), "not a bcrypt hash"},
        BadCase{"missing_hash", "basic_auth_users:\n  alice:\n",
                "w.yml:2:3: basic_auth_users.alice: not a bcrypt hash"},
        BadCase{"colon_in_user", "basic_auth_users:\n  'a:b': x\n",
                "w.yml:2:3: basic_auth_users.a:b: a user name cannot contain"},
        BadCase{"duplicate_user",
                Users("alice", kHash) + "  alice: '" + kHash + "'\n",
                "w.yml:3:3: basic_auth_users: duplicate key \"alice\""},
        BadCase{"http2_not_bool", "http_server_config:\n  http2: maybe\n",
                "w.yml:2:10: http_server_config.http2: found \"maybe\", want "
                "true or false"},
        BadCase{"header_not_allowed",
                "http_server_config:\n  headers:\n    Server: x\n",
                "w.yml:3:5: http_server_config.headers.Server: this header "
                "cannot be configured"},
        BadCase{"header_bad_value",
                "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                "w.yml:3:22: http_server_config.headers.X-Frame-Options: found "
                "\"allow\", want \"deny\" or \"sameorigin\""},
        BadCase{"tls_missing_cert", "tls_server_config:\n  key_file: b\n",
                "w.yml:2:3: tls_server_config: missing cert_file"},
        BadCase{"tls_bad_client_auth",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n"
                "  client_auth_type: Always\n",
                "w.yml:4:21: tls_server_config.client_auth_type: found "
                "\"Always\""},
        BadCase{"tls_bad_version",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n"
                "  min_version: SSL3\n",
                "w.yml:4:16: tls_server_config.min_version: found \"SSL3\", "
                "want TLS10, TLS11, TLS12 or TLS13"},
        BadCase{
            "tls_unknown_cipher",
            "tls_server_config:\n  cert_file: a\n  key_file: b\n"
            "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
            "    - TLS_RSA_WITH_RC4_128_SHA\n",
            "w.yml:6:7: tls_server_config.cipher_suites: found "
            "\"TLS_RSA_WITH_RC4_128_SHA\", want a TLS 1.2 cipher suite"},
        BadCase{"tls_unknown_curve",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n"
                "  curve_preferences: [X448]\n",
                "w.yml:4:23: tls_server_config.curve_preferences: found "
                "\"X448\", want CurveP256"},
        BadCase{"tls_ca_without_policy",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n"
                "  client_ca_file: ca.crt\n",
                "w.yml:2:3: tls_server_config: client_ca_file is set but "
                "client_auth_type is NoClientCert"},
        BadCase{"tls_min_above_max",
                "tls_server_config:\n  cert_file: a\n  key_file: b\n"
                "  min_version: TLS13\n  max_version: TLS12\n",
                "w.yml:2:3: tls_server_config: min_version TLS13 is above "
                "max_version TLS12"},
        BadCase{"tls_inline_cert_unsupported",
                "tls_server_config:\n  cert: abc\n  key_file: b\n",
                "w.yml:2:3: tls_server_config: unknown key \"cert\""},
        BadCase{"two_documents", "---\n{}\n---\n{}\n",
                "want one YAML document"}),
    [](const testing::TestParamInfo<BadCase>& param) {
      return std::string(param.param.label);
    });

TEST(CheckWebConfigSupported, AcceptsTls) {
  WebConfig config;
  ASSERT_TRUE(ParseWebConfig("tls_server_config:\n  cert_file: a\n"
                             "  key_file: b\n",
                             "w.yml", &config)
                  .ok());
  EXPECT_TRUE(CheckWebConfigSupported(config, "w.yml").ok());
}

TEST(CheckWebConfigSupported, AcceptsBasicAuth) {
  WebConfig config;
  ASSERT_TRUE(ParseWebConfig(Users("alice", kHash), "w.yml", &config).ok());
  EXPECT_TRUE(CheckWebConfigSupported(config, "w.yml").ok());
}

TEST(LoadWebConfigFile, MissingFileIsNotFound) {
  WebConfig config;
  const Status s = LoadWebConfigFile("no/such/web-config.yml", &config);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("no/such/web-config.yml"), std::string::npos);
}

}  // namespace
}  // namespace nsexp
