// BasicAuth: header parsing, bcrypt verification, the cache.
#include "http/basic_auth.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace nsexp {
namespace {

// Password "pw" at cost 4, in the $2b$ and $2y$ spellings; "other" at 5.
constexpr const char* kAlice =
    "$2b$04$0UPQKyyUrHxYK.g7BFgd3eRLzUUHc86rQGCznxbUmdjJTcKE8qs2S";
constexpr const char* kBob =
    "$2y$04$RWNcCktcwqQ4K3tH6kHcIubMYx4TBd.P03ryYLNvuLiR0vVkL5NIW";
constexpr const char* kCarol =
    "$2b$05$cBMd9yA3EXJbsEUBNrTDa.m2MVx.MA8jfv2vHxUQGUG/.lT57XS.e";

std::unique_ptr<BasicAuth> MakeAuth() {
  std::unique_ptr<BasicAuth> auth;
  const Status s = BasicAuth::Create(
      {{"alice", kAlice}, {"bob", kBob}, {"carol", kCarol}}, &auth);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return auth;
}

TEST(DecodeBase64, Table) {
  struct Case {
    const char* in;
    bool ok;
    const char* out;
  };
  for (const Case& c :
       {Case{"", true, ""}, Case{"YQ==", true, "a"}, Case{"YWI=", true, "ab"},
        Case{"YWJj", true, "abc"}, Case{"YWxpY2U6cHc=", true, "alice:pw"},
        Case{"YWJj\n", false, ""}, Case{"YW=j", false, ""},
        Case{"YQ", false, ""}, Case{"Y*==", false, ""}}) {
    std::string out;
    EXPECT_EQ(DecodeBase64(c.in, &out), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(out, c.out) << c.in;
    }
  }
}

TEST(BasicAuth, VerifiesEachHashSpelling) {
  auto auth = MakeAuth();
  EXPECT_TRUE(auth->Verify("alice", "pw"));
  EXPECT_TRUE(auth->Verify("bob", "pw"));
  EXPECT_TRUE(auth->Verify("carol", "other"));
  EXPECT_FALSE(auth->Verify("alice", "other"));
  EXPECT_FALSE(auth->Verify("alice", "PW"));
  EXPECT_FALSE(auth->Verify("alice", ""));
  EXPECT_FALSE(auth->Verify("mallory", "pw"));
  EXPECT_FALSE(auth->Verify("", ""));
  EXPECT_FALSE(auth->Verify("alice", std::string("pw\0x", 4)));
}

TEST(BasicAuth, CacheNeverAcceptsWhatBcryptRejects) {
  auto auth = MakeAuth();
  EXPECT_TRUE(auth->Verify("alice", "pw"));   // now cached
  EXPECT_TRUE(auth->Verify("alice", "pw"));   // from the cache
  EXPECT_FALSE(auth->Verify("bob", "pw2"));   // other user, other password
  EXPECT_FALSE(auth->Verify("carol", "pw"));  // cached password, other user
  EXPECT_FALSE(auth->Verify("alice", "pw "));
}

TEST(BasicAuth, ChecksAuthorizationHeaders) {
  auto auth = MakeAuth();
  EXPECT_TRUE(auth->Check("Basic YWxpY2U6cHc="));  // alice:pw
  EXPECT_TRUE(auth->Check("basic   YWxpY2U6cHc= "));
  EXPECT_FALSE(auth->Check(""));
  EXPECT_FALSE(auth->Check("Basic"));
  EXPECT_FALSE(auth->Check("Basic "));
  EXPECT_FALSE(auth->Check("Bearer YWxpY2U6cHc="));
  EXPECT_FALSE(auth->Check("BasicYWxpY2U6cHc="));
  EXPECT_FALSE(auth->Check("Basic YWxpY2U="));      // "alice", no colon
  EXPECT_FALSE(auth->Check("Basic YWxpY2U6cHc"));   // not padded
  EXPECT_FALSE(auth->Check("Basic YWxpY2U6cHd4"));  // alice:pwx
}

TEST(BasicAuth, SplitsAtTheFirstColon) {
  std::unique_ptr<BasicAuth> auth;
  // The password runs from the first colon to the end (RFC 7617).
  ASSERT_TRUE(BasicAuth::Create({{"u", kAlice}}, &auth).ok());
  EXPECT_FALSE(auth->Check("Basic dTpwdzp4"));  // u:pw:x, password "pw:x"
  EXPECT_TRUE(auth->Check("Basic dTpwdw=="));   // u:pw
}

TEST(BasicAuth, RejectsNonBcryptHash) {
  std::unique_ptr<BasicAuth> auth;
  EXPECT_FALSE(BasicAuth::Create({{"u", "$1$abc$def"}}, &auth).ok());
}

TEST(BasicAuth, ManyThreadsAgree) {
  auto auth = MakeAuth();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&auth, &wrong, t] {
      for (int i = 0; i < 20; ++i) {
        const bool good = (i + t) % 2 == 0;
        if (auth->Verify("alice", good ? "pw" : "nope") != good) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace nsexp
