// RunOnWorkers: one function over a few threads, for the walk's parallel
// stages.
#pragma once

#include <cstddef>
#include <functional>

namespace nsexp {

// Calls body(w) once for each w in [0, workers): w = 0 on the calling
// thread, every other on a thread of its own, or on the calling thread too
// when no thread can be started for it. Returns once every call has
// returned; then rethrows the first exception a call threw (std::bad_alloc
// when memory runs out), on the calling thread, whose caller handles it: an
// exception escaping a thread's function would end the process. 0 workers
// count as 1.
void RunOnWorkers(std::size_t workers,
                  const std::function<void(std::size_t)>& body);

}  // namespace nsexp
