// Rows given in memory (a test's fixtures), served through the Connector interface so the
// system's real mapping reads them. Not a source kind a stack can declare.
#include "connectors/fixture.hpp"

namespace seam {
namespace {

class FixtureConnector final : public Connector {
 public:
  FixtureConnector(std::vector<FixtureRow> rows, std::string name) : rows_(std::move(rows)) { path_ = std::move(name); }

  std::optional<int> resolve(const std::string& column, std::string&) override {
    columns_.push_back(column);
    return static_cast<int>(columns_.size() - 1);
  }
  bool next() override {
    if (pos_ >= rows_.size()) return false;
    current_ = &rows_[pos_++];
    raw_.clear();
    for (const auto& [k, v] : *current_) raw_ += (raw_.empty() ? "" : ", ") + k + "=" + v;
    return true;
  }
  uint64_t line() const override { return pos_; }  // the row's position in the fixture, 1-based
  std::string_view raw() const override { return raw_; }
  const std::string& malformed() const override { return none_; }
  std::optional<std::string_view> get(int handle) override {
    auto it = current_->find(columns_[static_cast<size_t>(handle)]);
    if (it == current_->end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::vector<FixtureRow> rows_;
  std::vector<std::string> columns_;
  size_t pos_ = 0;
  const FixtureRow* current_ = nullptr;
  std::string raw_, none_;
};

}  // namespace

std::unique_ptr<Connector> make_fixture_connector(std::vector<FixtureRow> rows, std::string name) {
  return std::make_unique<FixtureConnector>(std::move(rows), std::move(name));
}

}  // namespace seam
