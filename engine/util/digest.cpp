#include "engine/util/digest.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <stdexcept>
#include <vector>

#include "engine/util/result.hpp"

namespace seam {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  // Fields arrive a few bytes at a time (ten per audit-log group); gathering them before
  // calling OpenSSL hashes the same byte stream with a thousandth of the calls.
  std::string pending;
  void flush() {
    EVP_DigestUpdate(ctx, pending.data(), pending.size());
    pending.clear();
  }
};
constexpr size_t kGatherBytes = 64 * 1024;

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  impl_->pending.reserve(kGatherBytes + 64);
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(std::string_view bytes) {
  if (bytes.size() >= kGatherBytes) {
    impl_->flush();
    EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
    return;
  }
  impl_->pending.append(bytes);
  if (impl_->pending.size() >= kGatherBytes) impl_->flush();
}

void Sha256::field(std::string_view bytes) {
  uint64_t n = bytes.size();
  char prefix[9] = {'s'};
  for (int i = 0; i < 8; ++i) prefix[1 + i] = static_cast<char>((n >> (8 * i)) & 0xff);
  update(std::string_view(prefix, 9));
  update(bytes);
}

void Sha256::field(int64_t number) {
  char buf[9] = {'i'};
  auto u = static_cast<uint64_t>(number);
  for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>((u >> (8 * i)) & 0xff);
  update(std::string_view(buf, 9));
}

void Sha256::null_field() { update(std::string_view("n", 1)); }

std::string Sha256::hex_final() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  impl_->flush();
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_final();
}

std::string sha256_file_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read " + path);
  Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  return h.hex_final();
}

}  // namespace seam
