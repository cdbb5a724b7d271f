#pragma once
#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.hpp"
#include "engine/spec/test_spec.hpp"

namespace seam {

// A connector over in-memory rows; `name` stands for the path in rejects.
std::unique_ptr<Connector> make_fixture_connector(std::vector<FixtureRow> rows, std::string name);

}  // namespace seam
