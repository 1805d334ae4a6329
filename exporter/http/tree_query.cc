// /tree query strings, decoded by CivetWeb.
#include "http/tree_query.h"

#include <string>

#include "CivetServer.h"

namespace nsexp {

Status ParseTreeQuery(std::string_view query, std::string_view accept,
                      TreeQuery* out) {
  *out = TreeQuery();
  std::string type_name = "pid", format_name = "text", value;
  // getParam clears its output when the parameter is absent.
  if (CivetServer::getParam(query.data(), query.size(), "type", value)) {
    type_name = value;
  }
  if (CivetServer::getParam(query.data(), query.size(), "format", value)) {
    format_name = value;
  } else if (accept.find("text/html") != std::string_view::npos) {
    format_name = "html";
  }
  const auto type = ParseNamespaceType(type_name);
  const bool known_format =
      format_name == "text" || format_name == "json" || format_name == "html";
  if (!type || !known_format) {
    return Status::InvalidArgument("want type " + NamespaceTypeNameList() +
                                   " and format text, json or html");
  }
  out->type = *type;
  out->format = format_name == "html"   ? TreeBodyFormat::kHtml
                : format_name == "json" ? TreeBodyFormat::kJson
                                        : TreeBodyFormat::kText;
  return Status::Ok();
}

}  // namespace nsexp
