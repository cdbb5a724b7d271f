#pragma once
// A minimal HTTP/1.1 server on 127.0.0.1 for webhook tests: answers each POST with the
// next scripted status (the last one repeats) and keeps the bodies it received.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace seam::test {

class HttpServer {
 public:
  // `port` 0: any free port; another: that one (a receiver coming back where it was).
  explicit HttpServer(std::vector<int> statuses, int port = 0) : statuses_(std::move(statuses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("test server: cannot listen on 127.0.0.1");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  size_t requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t body_at = std::string::npos, length = 0;
      for (;;) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        if (body_at == std::string::npos && (body_at = req.find("\r\n\r\n")) != std::string::npos) {
          body_at += 4;
          size_t h = req.find("Content-Length:");
          if (h == std::string::npos) h = req.find("content-length:");
          length = h == std::string::npos ? 0 : std::strtoul(req.c_str() + h + 15, nullptr, 10);
        }
        if (body_at != std::string::npos && req.size() >= body_at + length) break;
      }
      int status;
      {
        std::lock_guard lock(mu_);
        status = statuses_[std::min(requests_, statuses_.size() - 1)];
        ++requests_;
        if (body_at != std::string::npos) bodies_.push_back(req.substr(body_at, length));
      }
      std::string answer = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::vector<int> statuses_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  size_t requests_ = 0;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

}  // namespace seam::test
