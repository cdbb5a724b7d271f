#include "connectors/connector.hpp"

#include <fstream>
#include <sstream>

#include "engine/util/digest.hpp"
#include "engine/util/result.hpp"
#include "engine/util/text.hpp"

namespace seam {

std::unique_ptr<Connector> make_csv_connector(const ConnectorSpec&, const std::string&);
std::unique_ptr<Connector> make_ndjson_connector(const ConnectorSpec&, const std::string&);

const std::vector<ConnectorKind>& connector_kinds() {
  // The registry: one line per source kind.
  static const std::vector<ConnectorKind> kinds = {
      {"csv", {"delimiter", "allow_empty"}, make_csv_connector},
      {"ndjson", {"allow_empty"}, make_ndjson_connector},
  };
  return kinds;
}

const ConnectorKind* find_connector_kind(const std::string& name) {
  for (const auto& k : connector_kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::unique_ptr<Connector> open_connector(const ConnectorSpec& spec, const std::string& system) {
  const ConnectorKind* kind = find_connector_kind(spec.kind);
  if (!kind) throw UserError(spec.loc.str() + ": unknown connector '" + spec.kind + "'");
  for (const auto& [name, value] : spec.options) {
    bool known = false;
    for (const auto& o : kind->options) known = known || o == name;
    if (!known)
      throw UserError(spec.loc.str() + ": connector " + spec.kind + " has no option '" + name + "'" +
                      (did_you_mean(name, kind->options).empty() ? ""
                                                                 : " (did you mean '" + did_you_mean(name, kind->options) + "'?)"));
  }
  return kind->make(spec, system);
}

bool allows_empty(const ConnectorSpec& spec) {
  auto it = spec.options.find("allow_empty");
  return it != spec.options.end() && it->second == "true";
}

std::string Connector::load_file(const ConnectorSpec& spec, const std::string& system) {
  std::ifstream in(spec.path, std::ios::binary);
  if (!in)
    throw UserError("input file not found: " + spec.path + " (system '" + system + "', source declared at " +
                    spec.loc.str() + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = std::move(ss).str();
  if (trim(data).empty() && !allows_empty(spec))
    throw UserError("input file is empty: " + spec.path + " (system '" + system +
                    "'); an empty export usually means a failed export. Set allow_empty = true on the source if "
                    "an empty file is expected");
  digest_ = sha256_hex(data);
  return data;
}

}  // namespace seam
