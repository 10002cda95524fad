#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common.hpp"

namespace moka {

/// Threads that share the tasks of one parallel pass with the calling thread (slot 0; worker k is
/// slot k). Tasks are claimed from a counter. When the caller runs out of tasks it closes the job
/// and waits only for tasks already claimed, never for a worker that has not woken up yet, so an
/// unscheduled worker (the machine busy with other work) costs nothing but its share of speed.
/// One process-wide pool serves every layer.
class TaskPool {
 public:
  using TaskFn = void (*)(void* context, int task, int slot);

  static TaskPool& Instance();
  ~TaskPool();
  MOKA_DISABLE_COPY(TaskPool);

  /// Runs fn(context, task, slot) for every task in [0, tasks) on up to `threads` threads.
  void Run(int tasks, int threads, TaskFn fn, void* context);

 private:
  TaskPool() = default;
  void Work(int slot);
  void WorkerLoop(int slot);

  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  bool open_ = false;
  int max_slot_ = 0;
  int active_ = 0;
  TaskFn fn_ = nullptr;
  void* context_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0};
  std::exception_ptr error_;
};

/// Runs task(t, slot) for t in [0, tasks) on up to `threads` threads.
template <typename Task>
void RunTasks(int tasks, int threads, Task& task) {
  TaskPool::Instance().Run(
      tasks, threads,
      [](void* context, int t, int slot) { (*static_cast<Task*>(context))(t, slot); }, &task);
}

/// The threads the CPU layers use: BLAS's thread count (OPENBLAS_NUM_THREADS, else the cores).
int CpuThreads();

/// Makes BLAS single-threaded while the task threads run (each would otherwise start BLAS's own
/// threads, oversubscribing the cores), and restores its setting afterwards.
class SingleThreadedBlas {
 public:
  explicit SingleThreadedBlas(bool engage);
  ~SingleThreadedBlas();
  MOKA_DISABLE_COPY(SingleThreadedBlas);

 private:
  const int saved_;
};

}  // namespace moka
