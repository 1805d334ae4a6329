// RunOnWorkers: threads started per call, joined before it returns.
#include "base/workers.h"

#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace nsexp {

void RunOnWorkers(std::size_t workers,
                  const std::function<void(std::size_t)>& body) {
  if (workers == 0) workers = 1;
  std::vector<std::exception_ptr> thrown(workers);
  const auto run = [&body, &thrown](std::size_t w) {
    try {
      body(w);
    } catch (...) {
      thrown[w] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  std::vector<std::size_t> here = {0};
  for (std::size_t w = 1; w < workers; ++w) {
    try {
      threads.emplace_back(run, w);
    } catch (const std::system_error&) {
      here.push_back(w);  // no thread to be had: run it here
    }
  }
  for (std::size_t w : here) run(w);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : thrown) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace nsexp
