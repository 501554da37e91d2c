// Persistent fork-join pool behind parallel_for: num_threads()-1 workers that spin briefly, then sleep.
// The pool is created on first use and deliberately never destroyed (joining threads from static
// destructors at JVM/process exit is a classic hang); a forked child drops it and builds a fresh one.
#include "cpu/parallel.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kiln::cpu {
namespace {

// Spinning keeps back-to-back parallel calls (a training step is hundreds of them) from paying a futex
// wake-up each; the bound keeps idle workers from burning a core the JVM wants for something else.
constexpr auto kSpinTime = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

// True on pool workers and on a caller while it runs its own chunk: a parallel_for from there runs inline.
thread_local bool t_in_parallel = false;

using Chunked = std::function<void(int64_t, int64_t)>;

// The first exception any chunk of one parallel_for threw, kept for the calling thread to rethrow after the join (an
// exception escaping a std::thread would call std::terminate; dropping it would let an op report success with half
// its output written).
class FirstError {
  public:
    void run(const Chunked& fn, int64_t begin, int64_t end) noexcept {
        if (begin >= end) return;
        try {
            fn(begin, end);
        } catch (...) {
            std::lock_guard<std::mutex> lk(mu_);
            if (!error_) error_ = std::current_exception();
        }
    }
    void rethrow() {
        if (error_) std::rethrow_exception(error_);
    }

  private:
    std::mutex mu_;
    std::exception_ptr error_;
};

// Bounds of chunk c when [0, n) is cut into `chunks` near-equal contiguous pieces (no overflow for any n).
inline int64_t chunk_begin(int64_t n, int64_t chunks, int64_t c) {
    return (n / chunks) * c + std::min(c, n % chunks);
}

class Pool {
  public:
    explicit Pool(int nworkers) {
        workers_.reserve(nworkers);
        for (int i = 0; i < nworkers; ++i) {
            try {
                workers_.emplace_back([this, i] { worker_main(i + 1); });
            } catch (...) {
                break;  // fewer workers than asked (thread limit reached): still correct, just less parallel
            }
        }
        for (auto& t : workers_) t.detach();  // never joined: see the file comment
    }

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Returns false, without running anything, when another application thread holds the pool.
    bool try_run(int64_t n, int64_t chunks, const Chunked& fn, FirstError& errors) {
        std::unique_lock<std::mutex> busy(busy_mu_, std::try_to_lock);
        if (!busy.owns_lock()) return false;
        {
            std::lock_guard<std::mutex> lk(mu_);
            fn_ = &fn;
            errors_ = &errors;
            n_ = n;
            chunks_ = chunks;
            pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();

        t_in_parallel = true;
        errors.run(fn, 0, chunk_begin(n, chunks, 1));
        t_in_parallel = false;

        wait_until([this] { return pending_.load(std::memory_order_acquire) == 0; }, done_);
        fn_ = nullptr;
        errors_ = nullptr;
        return true;
    }

  private:
    template <class Pred>
    void wait_until(Pred ready, std::condition_variable& cv) {
        const auto until = std::chrono::steady_clock::now() + kSpinTime;
        while (!ready()) {
            if (std::chrono::steady_clock::now() > until) {
                std::unique_lock<std::mutex> lk(mu_);
                cv.wait(lk, ready);
                return;
            }
            for (int i = 0; i < 64 && !ready(); ++i) cpu_relax();
        }
    }

    void worker_main(int id) {
        t_in_parallel = true;
        uint64_t seen = 0;
        for (;;) {
            wait_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, wake_);
            seen = generation_.load(std::memory_order_acquire);
            if (id < chunks_) errors_->run(*fn_, chunk_begin(n_, chunks_, id), chunk_begin(n_, chunks_, id + 1));
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lk(mu_);  // pairs with the caller's predicate check under mu_
                done_.notify_one();
            }
        }
    }

    std::vector<std::thread> workers_;
    std::mutex busy_mu_;  // one application thread's parallel_for at a time; others run inline
    std::mutex mu_;
    std::condition_variable wake_, done_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    // Job: written under mu_ before generation_ is bumped, read by workers after they see the new generation.
    const Chunked* fn_ = nullptr;
    FirstError* errors_ = nullptr;
    int64_t n_ = 0;
    int64_t chunks_ = 0;
};

std::mutex g_pool_mu;
Pool* g_pool = nullptr;  // leaked on purpose

void atfork_prepare() { g_pool_mu.lock(); }
void atfork_parent() { g_pool_mu.unlock(); }
void atfork_child() {
    g_pool = nullptr;  // the child has none of the parent's workers; the old pool's memory is abandoned
    g_pool_mu.unlock();
}

Pool* get_pool() {
    std::lock_guard<std::mutex> lk(g_pool_mu);
    if (g_pool == nullptr) {
        static bool registered = (pthread_atfork(atfork_prepare, atfork_parent, atfork_child), true);
        (void)registered;
        try {
            g_pool = new Pool(num_threads() - 1);
        } catch (...) {
            return nullptr;
        }
    }
    return g_pool;
}

int read_num_threads() {
    if (const char* env = std::getenv("KILN_NUM_THREADS")) {
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && v >= 1) return static_cast<int>(std::min<long>(v, 1024));
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

int num_threads() {
    static const int n = read_num_threads();
    return n;
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
    if (n <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    const int64_t max_chunks = std::max<int64_t>(1, n / grain);
    if (max_chunks == 1 || num_threads() == 1 || t_in_parallel) return fn(0, n);
    Pool* pool = get_pool();
    const int64_t chunks = pool ? std::min<int64_t>(max_chunks, pool->size()) : 1;
    FirstError errors;
    if (chunks == 1 || !pool->try_run(n, chunks, fn, errors)) return fn(0, n);
    errors.rethrow();
}

}  // namespace kiln::cpu
