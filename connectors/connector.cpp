#include "connectors/connector.hpp"

#include <cstring>
#include <fstream>

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

size_t Connector::count_lines(std::string_view data) {
  size_t n = 0;
  for (const char* p = data.data(); (p = static_cast<const char*>(std::memchr(p, '\n', data.data() + data.size() - p)));
       ++p)
    ++n;
  return n;
}

void Connector::check_not_empty(uint64_t rows, bool allow_empty, const std::string& what,
                                const std::string& system) const {
  if (rows == 0 && !allow_empty)
    throw UserError("input file has " + what + ": " + path_ + " (system '" + system +
                    "'); set allow_empty = true on the source if that is expected");
}

bool allows_empty(const ConnectorSpec& spec) {
  auto it = spec.options.find("allow_empty");
  return it != spec.options.end() && it->second == "true";
}

std::string Connector::load_file(const ConnectorSpec& spec, const std::string& system, size_t padding) {
  std::string data;
  std::ifstream in(spec.path, std::ios::binary | std::ios::ate);
  if (!in)
    throw UserError("input file not found: " + spec.path + " (system '" + system + "', source declared at " +
                    spec.loc.str() + ")");
  // Straight into a buffer of the file's size: one copy of a 250 MB export, not three.
  data.resize(static_cast<size_t>(in.tellg()) + padding);
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size() - padding));
  data.resize(static_cast<size_t>(in.gcount()));
  if (trim(data).empty() && !allows_empty(spec))
    throw UserError("input file is empty: " + spec.path + " (system '" + system +
                    "'); an empty export usually means a failed export. Set allow_empty = true on the source if "
                    "an empty file is expected");
  digest_ = sha256_hex(data);
  return data;
}

}  // namespace seam
