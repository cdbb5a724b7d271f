#pragma once
// SHA-256 for stack/input digests, rule versions and the sealed audit chain.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace seam {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // Length-prefixed field, so ("ab","c") and ("a","bc") never hash alike.
  void field(std::string_view bytes);
  void field(int64_t number);
  // A NULL column hashes differently from an empty one.
  void null_field();
  std::string hex_final();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view bytes);
// Digest of a file's bytes; throws UserError when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace seam
