#pragma once
// SHA-256 for stack/input digests, rule versions and the sealed audit chain.
#include <cstdint>
#include <cstring>
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

  // Small inputs are gathered and hashed 64 KB at a time: the audit log hashes a dozen
  // fields of a few bytes per group, and a call into OpenSSL (or even a std::string
  // append) for each cost more than the hashing. Inline, so a field is a bounds check and
  // a copy.
  void update(std::string_view bytes) {
    if (bytes.empty()) return;  // an empty view may hold no pointer: memcpy(p, nullptr, 0) is UB
    if (bytes.size() <= kGatherBytes - used_) {
      std::memcpy(gather_.get() + used_, bytes.data(), bytes.size());
      used_ += bytes.size();
      return;
    }
    update_large(bytes);
  }
  // Length-prefixed field, so ("ab","c") and ("a","bc") never hash alike.
  void field(std::string_view bytes) {
    tagged('s', bytes.size());
    update(bytes);
  }
  void field(int64_t number) { tagged('i', static_cast<uint64_t>(number)); }
  // A NULL column hashes differently from an empty one.
  void null_field() { update(std::string_view("n", 1)); }
  std::string hex_final();

 private:
  static constexpr size_t kGatherBytes = 64 * 1024;
  // A tag byte and eight little-endian bytes.
  void tagged(char tag, uint64_t n) {
    if (kGatherBytes - used_ < 9) flush();
    char* p = gather_.get() + used_;
    p[0] = tag;
    for (int i = 0; i < 8; ++i) p[1 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
    used_ += 9;
  }
  void flush();
  void update_large(std::string_view bytes);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<char[]> gather_;
  size_t used_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// Digest of a file's bytes; throws UserError when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace seam
