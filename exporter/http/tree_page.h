// The /tree page for a browser: the tree model as one self-contained HTML
// document (inline style and script, no external assets).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "ns/tree_view.h"

namespace nsexp {

struct TreePageOptions {
  // The Content-Security-Policy nonce of the inline <style> and <script>
  // (TreePageNonce()); base64 characters only.
  std::string nonce;
  // Namespaces at a depth below this are open (<details open>); deeper
  // ones start folded, so that a thousand namespaces stay readable.
  std::uint32_t open_depth = 2;
  // The filter box's initial text. The script also takes it from the
  // page URL's "filter" parameter when this is empty.
  std::string filter;
  std::string version;  // shown in the footer
};

// "in" with the five characters that matter in HTML text and in quoted
// attribute values (< > & " ') escaped. Pure.
std::string HtmlEscape(std::string_view in);

// The page for "model": a type selector (a GET form to /tree with
// format=html), a filter box that narrows the tree to namespaces whose
// label, member commands, container (id or runtime), pod UID or bind
// mount path contain the text, and the
// hierarchy as nested <details class="ns"> elements, one per namespace,
// carrying data-type, data-inode and data-parent (the inode of the
// namespace it is nested in; empty at the top). Every string from the
// system is HTML-escaped once. Pure.
std::string RenderTreePage(const TreeModel& model,
                           const TreePageOptions& options);

// The Content-Security-Policy for a page rendered with "nonce": nothing
// but the nonce's inline style and script, forms to the exporter itself,
// no framing, no other fetches. Pure.
std::string TreePageContentSecurityPolicy(const std::string& nonce);

// The classifier of the tree model: a /proc/PID/cgroup text -> the
// container its paths name (workload/ClassifyCgroupPaths, v2 path first),
// strings sanitised as the metrics' label values are. Thread-safe.
CgroupClassifier ContainerClassifier();

// A fresh nonce: 16 random bytes, base64. kIoError when the system has no
// random bytes to give. Thread-safe.
[[nodiscard]] Status TreePageNonce(std::string* out);

}  // namespace nsexp
