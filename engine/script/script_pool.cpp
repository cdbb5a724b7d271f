#include "engine/script/script_pool.hpp"

#include <spdlog/spdlog.h>

namespace seam {

ScriptPool::ScriptPool(ScriptHost* first, size_t most) : first_(first), capacity_(1) {
  if (first_ == nullptr) {
    capacity_ = offered_ = 0;
    return;
  }
  idle_.push_back(first_);
  made_ = 1;
  // Asked once, here: a host that cannot replicate keeps every caller on the one state.
  if (most > 1) {
    std::unique_ptr<ScriptHost> probe;
    try {
      probe = first_->replicate();
    } catch (const std::exception& e) {  // slower, not wrong: every call on the one state
      spdlog::warn("Lua runs on one thread: {}", e.what());
    }
    if (probe) {
      capacity_ = most;
      idle_.push_back(probe.get());
      owned_.push_back(std::move(probe));
      made_ = 2;
    }
  }
  offered_ = capacity_;
}

ScriptPool::Lease::~Lease() {
  if (host_ && pool_) pool_->give_back(host_);
}

ScriptPool::Lease ScriptPool::acquire() {
  std::unique_lock lock(mutex_);
  if (capacity_ == 0) return Lease(this, nullptr);
  for (;;) {
    if (!idle_.empty()) {
      ScriptHost* h = idle_.back();
      idle_.pop_back();
      return Lease(this, h);
    }
    if (made_ >= capacity_) {
      returned_.wait(lock);
      continue;
    }
    ++made_;
    lock.unlock();
    // Made outside the lock: loading a stack takes milliseconds, and other borrowers need
    // not wait for it.
    std::unique_ptr<ScriptHost> made;
    try {
      made = first_->replicate();
    } catch (const std::exception& e) {  // slower, not wrong, as in the constructor
      spdlog::warn("Lua runs on {} state(s): {}", made_ - 1, e.what());
    }
    lock.lock();
    if (!made) {  // cannot make more after all: share the ones there are
      --made_;
      capacity_ = made_;
      continue;
    }
    ScriptHost* h = made.get();
    owned_.push_back(std::move(made));
    return Lease(this, h);
  }
}

void ScriptPool::give_back(ScriptHost* host) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(host);
  }
  returned_.notify_one();
}

}  // namespace seam
