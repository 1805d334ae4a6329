// Workload attribution: which container, and which Kubernetes pod, a cgroup
// path belongs to, from the names that runtimes give their cgroups.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsexp {

// The container that one cgroup path names.
struct Workload {
  // "docker", "containerd", "cri-o", "podman", "systemd-nspawn", "lxc";
  // empty when the layout names a container but not its runtime (the
  // kubelet's cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>).
  std::string container_runtime;
  // As kube-state-metrics writes kube_pod_container_info{container_id}:
  // "containerd://<64 hex>", "cri-o://<64 hex>", "docker://<64 hex>".
  // Outside Kubernetes the same "<scheme>://<id>" form: "podman://<64 hex>"
  // (the hex is what `podman inspect --format {{.Id}}` prints),
  // "systemd-nspawn://<machine name>", "lxc://<container name>". A bare
  // "<64 hex>" when the runtime is unknown.
  std::string container_id;
  // The pod UID with dashes, as in kube_pod_info{uid}; empty outside
  // Kubernetes.
  std::string pod_uid;

  bool operator==(const Workload& o) const {
    return container_runtime == o.container_runtime &&
           container_id == o.container_id && pod_uid == o.pod_uid;
  }
};

// Classifies one cgroup path as /proc/PID/cgroup shows it ("/system.slice/
// docker-<id>.scope"), relative to the reader's cgroup namespace, so that
// leading "/.." components may occur; they are skipped. Recognises, at any
// depth (the innermost container wins when containers nest):
//  - docker: docker-<64hex>.scope (systemd), /docker/<64hex> (cgroupfs);
//  - Kubernetes: kubepods[-<qos>]-pod<uid>.slice/{cri-containerd,crio,
//    docker}-<64hex>.scope (systemd), kubepods-...-pod<uid>.slice:
//    cri-containerd:<64hex> (containerd without SystemdCgroup), and
//    pod<uid>/<64hex> or pod<uid>/crio-<64hex> (cgroupfs);
//  - cri-o: crio-<64hex>.scope; crio-conmon-<64hex>.scope is not a
//    container (conmon runs beside it);
//  - podman: libpod-<64hex>.scope, libpod-<64hex>.scope/container,
//    /libpod_parent/libpod-<64hex>; libpod-conmon-<64hex>.scope is not a
//    container;
//  - containerd without Kubernetes: /<namespace>/<64hex>, exactly two
//    components, and nerdctl's nerdctl-<64hex>.scope;
//  - systemd-nspawn: machine.slice/machine-<name>.scope (\xNN unescaped;
//    a name that is not a valid machine name, e.g. one with '/', is not a
//    container);
//  - LXC: /lxc/<name>, /lxc.payload/<name>, /lxc.payload.<name>.
// nullopt for anything else (host services, the root, malformed paths).
// Pure; thread-safe.
std::optional<Workload> ClassifyCgroupPath(std::string_view path);

// Classifies each path in turn and returns the first that names a
// container. Callers list the cgroup v2 path ("0::") first, then the v1
// hierarchies. Pure; thread-safe.
std::optional<Workload> ClassifyCgroupPaths(
    const std::vector<std::string_view>& paths);

// "0123abcd_ef01_..." (the kubelet's systemd slice form) -> the same with
// dashes; nullopt unless it is 32 hex digits in 8-4-4-4-12 groups joined
// all by '_' or all by '-'. Pure.
std::optional<std::string> NormalizePodUid(std::string_view uid);

}  // namespace nsexp
