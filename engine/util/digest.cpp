#include "engine/util/digest.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <stdexcept>
#include <vector>

#include "engine/util/result.hpp"

namespace seam {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()), gather_(std::make_unique_for_overwrite<char[]>(kGatherBytes)) {
  impl_->ctx = EVP_MD_CTX_new();
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::flush() {
  EVP_DigestUpdate(impl_->ctx, gather_.get(), used_);
  used_ = 0;
}

void Sha256::update_large(std::string_view bytes) {
  flush();
  if (bytes.size() >= kGatherBytes) {
    EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
    return;
  }
  std::memcpy(gather_.get(), bytes.data(), bytes.size());
  used_ = bytes.size();
}

std::string Sha256::hex_final() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  flush();
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
