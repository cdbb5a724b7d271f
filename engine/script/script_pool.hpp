#pragma once
// Script hosts for several threads: a host runs one call at a time, so each thread that
// calls user functions borrows a host of its own, and gives it back when done. Hosts are
// made on demand (ScriptHost::replicate), kept for the rest of the run, and at most
// `most` exist; a borrower past that waits for one to come back.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/script/script_host.hpp"

namespace seam {

class ScriptPool {
 public:
  // `first` (not owned, may be null) is lent first; `most` counts it. Makes one replica
  // at once, to know whether it can: when that fails (a warning says why), the pool
  // lends `first` alone.
  ScriptPool(ScriptHost* first, size_t most);

  // A borrowed host, given back when the lease ends; null when the pool has no host.
  class Lease {
   public:
    Lease(ScriptPool* pool, ScriptHost* host) : pool_(pool), host_(host) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), host_(o.host_) { o.host_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    ScriptHost* get() const { return host_; }

   private:
    ScriptPool* pool_;
    ScriptHost* host_;
  };
  // Thread-safe. Throws what replicate() throws.
  Lease acquire();

  // How many threads can call user functions at once: 1 when the host cannot be
  // replicated (or there is none), else `most`.
  size_t capacity() const { return offered_; }

 private:
  void give_back(ScriptHost* host);

  std::mutex mutex_;
  std::condition_variable returned_;
  ScriptHost* first_;
  size_t capacity_;   // may drop, under the lock, when a replica cannot be made after all
  size_t offered_ = 0;  // capacity_ as the constructor found it
  size_t made_ = 0;  // hosts in use or idle, `first` included
  std::vector<ScriptHost*> idle_;
  std::vector<std::unique_ptr<ScriptHost>> owned_;
};

}  // namespace seam
