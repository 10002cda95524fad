#include "task_pool.hpp"

#include <cblas.h>

#include <algorithm>

namespace moka {

TaskPool& TaskPool::Instance() {
  static TaskPool pool;
  return pool;
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void TaskPool::Run(int tasks, int threads, TaskFn fn, void* context) {
  std::unique_lock<std::mutex> running(run_mutex_, std::try_to_lock);
  // One job at a time; a second caller meanwhile (two nets in two threads) runs its tasks alone.
  if (threads <= 1 || tasks <= 1 || !running.owns_lock()) {
    for (int task = 0; task < tasks; ++task) fn(context, task, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_.size()) < threads - 1) {
      const int slot = static_cast<int>(workers_.size()) + 1;
      workers_.emplace_back([this, slot] { WorkerLoop(slot); });
    }
    fn_ = fn;
    context_ = context;
    tasks_ = tasks;
    next_.store(0);
    max_slot_ = std::min(threads, tasks) - 1;
    open_ = true;
    ++generation_;
  }
  wake_.notify_all();
  Work(0);
  std::unique_lock<std::mutex> lock(mutex_);
  open_ = false;
  done_.wait(lock, [this] { return active_ == 0; });
  if (error_) {
    std::exception_ptr error = error_;
    error_ = nullptr;
    std::rethrow_exception(error);
  }
}

void TaskPool::Work(int slot) {
  for (int task = next_.fetch_add(1); task < tasks_; task = next_.fetch_add(1)) {
    try {
      fn_(context_, task, slot);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      next_.store(tasks_);
    }
  }
}

void TaskPool::WorkerLoop(int slot) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    if (!open_ || slot > max_slot_) continue;
    ++active_;
    lock.unlock();
    Work(slot);
    lock.lock();
    if (--active_ == 0) done_.notify_all();
  }
}

int CpuThreads() {
  return std::max(1, openblas_get_num_threads());
}

SingleThreadedBlas::SingleThreadedBlas(bool engage)
    : saved_(engage ? openblas_get_num_threads() : 1) {
  if (saved_ != 1) openblas_set_num_threads(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if (saved_ != 1) openblas_set_num_threads(saved_);
}

}  // namespace moka
