// The namespaces of the fixture trees under tests/fixtures/proc, as
// FakeNamespaceOps tables: what the nsfs ioctls would say about them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "base/namespace_type.h"
#include "ns/fake_namespace_ops.h"

namespace nsexp {
namespace fixture {

// The initial namespaces of the fixture trees.
inline constexpr std::uint64_t kInitCgroup = 4026531835;
inline constexpr std::uint64_t kInitIpc = 4026531839;
inline constexpr std::uint64_t kInitMnt = 4026531841;
inline constexpr std::uint64_t kInitNet = 4026531840;
inline constexpr std::uint64_t kInitPid = 4026531836;
inline constexpr std::uint64_t kInitTime = 4026531834;
inline constexpr std::uint64_t kInitUser = 4026531837;
inline constexpr std::uint64_t kInitUts = 4026531838;

// basic: a container-like process pair.
inline constexpr std::uint64_t kBasicNet = 4026532200;
inline constexpr std::uint64_t kBasicUts = 4026532201;
inline constexpr std::uint64_t kBasicIpc = 4026532202;
inline constexpr std::uint64_t kBasicMnt = 4026532203;
inline constexpr std::uint64_t kBasicPid = 4026532204;

// nested: see AddNested.
inline constexpr std::uint64_t kU1 = 4026532300;
inline constexpr std::uint64_t kP1 = 4026532301;
inline constexpr std::uint64_t kM1 = 4026532302;
inline constexpr std::uint64_t kP2 = 4026532303;
inline constexpr std::uint64_t kU2 = 4026532304;
inline constexpr std::uint64_t kP3 = 4026532310;  // no member process
inline constexpr std::uint64_t kP4 = 4026532311;
inline constexpr std::uint64_t kN1 = 4026532320;
inline constexpr std::uint64_t kU3 = 4026532321;  // no member; owns kN1

// bind_mounts: namespaces that only a bind mount holds.
inline constexpr std::uint64_t kBoundNetBlue = 4026532500;   // both mountinfos
inline constexpr std::uint64_t kBoundNetSpace = 4026532501;  // pid 1's only
inline constexpr std::uint64_t kBoundUts = 4026532502;       // pid 1's only
inline constexpr std::uint64_t kBoundMnt = 4026532503;  // pid 400's own mnt

// holders: what pid 500 holds besides its own namespaces.
inline constexpr std::uint64_t kFdNet = 4026532600;        // fds 3 and 7
inline constexpr std::uint64_t kChildrenPid = 4026532601;  // pid_for_children
inline constexpr std::uint64_t kThreadNet = 4026532602;    // thread 501
inline constexpr std::uint64_t kSocketNet = 4026532603;    // socket 12345
// holders: the sockets of pid 500 (fds 4 and 5 share 12345, fd 6 is 12346)
// and of the exporter itself (pid 1 is "self"; fd 8 is 12347).
inline constexpr std::uint64_t kSharedSocket = 12345;  // in kSocketNet
inline constexpr std::uint64_t kHomeSocket = 12346;    // in the host's net
inline constexpr std::uint64_t kSelfSocket = 12347;    // never asked about

// denied: pid 3's own net namespace.
inline constexpr std::uint64_t kDeniedNet = 4026532400;

inline void AddFlat(FakeNamespaceOps* ops, NamespaceType type,
                    std::uint64_t inode, std::uint64_t owner,
                    std::optional<std::uint64_t> id) {
  FakeNamespace ns;
  ns.type = type;
  ns.owner = owner;
  ns.id = id;
  ops->Set(inode, ns);
}

inline void AddPid(FakeNamespaceOps* ops, std::uint64_t inode,
                   std::optional<std::uint64_t> parent, std::uint64_t owner,
                   std::optional<std::uint64_t> id) {
  FakeNamespace ns;
  ns.type = NamespaceType::kPid;
  ns.parent = parent;
  ns.owner = owner;
  ns.id = id;
  ops->Set(inode, ns);
}

inline void AddUser(FakeNamespaceOps* ops, std::uint64_t inode,
                    std::optional<std::uint64_t> parent, uid_t owner_uid,
                    std::optional<std::uint64_t> id) {
  FakeNamespace ns;
  ns.type = NamespaceType::kUser;
  ns.parent = parent;
  ns.owner = parent;  // NS_GET_USERNS on a user namespace gives its parent
  ns.owner_uid = owner_uid;
  ns.id = id;
  ops->Set(inode, ns);
}

// The initial namespaces, with the small ids a 6.18 kernel gives them (or
// none, for an older kernel).
inline void AddHost(FakeNamespaceOps* ops, bool with_ids = true) {
  auto id = [with_ids](std::uint64_t v) {
    return with_ids ? std::optional<std::uint64_t>(v) : std::nullopt;
  };
  AddFlat(ops, NamespaceType::kCgroup, kInitCgroup, kInitUser, id(1));
  AddFlat(ops, NamespaceType::kIpc, kInitIpc, kInitUser, id(2));
  AddFlat(ops, NamespaceType::kMnt, kInitMnt, kInitUser, id(3));
  AddFlat(ops, NamespaceType::kNet, kInitNet, kInitUser, id(4));
  AddPid(ops, kInitPid, std::nullopt, kInitUser, id(5));
  AddFlat(ops, NamespaceType::kTime, kInitTime, kInitUser, id(6));
  AddUser(ops, kInitUser, std::nullopt, 0, id(7));
  AddFlat(ops, NamespaceType::kUts, kInitUts, kInitUser, id(8));
}

inline void AddBasic(FakeNamespaceOps* ops, bool with_ids = true) {
  AddHost(ops, with_ids);
  auto id = [with_ids](std::uint64_t v) {
    return with_ids ? std::optional<std::uint64_t>(v) : std::nullopt;
  };
  AddFlat(ops, NamespaceType::kNet, kBasicNet, kInitUser, id(100));
  AddFlat(ops, NamespaceType::kUts, kBasicUts, kInitUser, id(101));
  AddFlat(ops, NamespaceType::kIpc, kBasicIpc, kInitUser, id(102));
  AddFlat(ops, NamespaceType::kMnt, kBasicMnt, kInitUser, id(103));
  AddPid(ops, kBasicPid, kInitPid, kInitUser, id(104));
}

// user: init > U1 (uid 1000) > U2; init > U3 (uid 1001, no process).
// pid:  init > P1 > P2; init > P3 (no process) > P4.
// mnt M1 and pid P1 owned by U1, P2 by U2, net N1 by U3.
inline void AddNested(FakeNamespaceOps* ops) {
  AddHost(ops);
  AddUser(ops, kU1, kInitUser, 1000, 200);
  AddUser(ops, kU2, kU1, 1000, 201);
  AddUser(ops, kU3, kInitUser, 1001, 202);
  AddPid(ops, kP1, kInitPid, kU1, 203);
  AddPid(ops, kP2, kP1, kU2, 204);
  AddPid(ops, kP3, kInitPid, kInitUser, 205);
  AddPid(ops, kP4, kP3, kInitUser, 206);
  AddFlat(ops, NamespaceType::kMnt, kM1, kU1, 207);
  AddFlat(ops, NamespaceType::kNet, kN1, kU3, 208);
}

inline void AddBindMounts(FakeNamespaceOps* ops) {
  AddHost(ops);
  AddFlat(ops, NamespaceType::kNet, kBoundNetBlue, kInitUser, 300);
  AddFlat(ops, NamespaceType::kNet, kBoundNetSpace, kInitUser, 301);
  AddFlat(ops, NamespaceType::kUts, kBoundUts, kInitUser, 302);
  AddFlat(ops, NamespaceType::kMnt, kBoundMnt, kInitUser, 303);
}

inline void AddHolders(FakeNamespaceOps* ops) {
  AddHost(ops);
  AddFlat(ops, NamespaceType::kNet, kFdNet, kInitUser, 400);
  AddPid(ops, kChildrenPid, kInitPid, kInitUser, 401);
  AddFlat(ops, NamespaceType::kNet, kThreadNet, kInitUser, 402);
  AddFlat(ops, NamespaceType::kNet, kSocketNet, kInitUser, 403);
  ops->SetSocket(kSharedSocket, kSocketNet);
  ops->SetSocket(kHomeSocket, kInitNet);
  ops->SetSocket(kSelfSocket, kInitNet);
}

}  // namespace fixture
}  // namespace nsexp
