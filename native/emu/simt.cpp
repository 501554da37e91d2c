// Kiln's CUDA emulator (native/emu): the SIMT engine. A block's CUDA threads are fibers, each with its own stack, run
// by a round-robin scheduler on one OS thread; a fiber gives the OS thread back only where it waits (a block barrier,
// a warp collective, a spin wait) or ends. The switch saves the callee-saved registers and the stack pointer (x86-64
// System V), so switching costs a few nanoseconds and a block of 1024 threads costs 1024 small stacks.
#include <sys/mman.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "emu.h"
#include "race.h"
#include "kiln_emu/device.h"

#if !defined(__x86_64__)
#error "Kiln's CUDA emulator switches fibers with x86-64 code"
#endif

// kiln_emu_switch(save, load): saves this context's registers on its stack and its stack pointer in *save, then
// resumes the context whose stack pointer is load. kiln_emu_fiber_start is where a new fiber's first switch returns
// to: it calls r13(r12), which never returns.
asm(R"(
    .text
    .globl kiln_emu_switch
    .hidden kiln_emu_switch
    .type kiln_emu_switch,@function
kiln_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size kiln_emu_switch,.-kiln_emu_switch

    .globl kiln_emu_fiber_start
    .hidden kiln_emu_fiber_start
    .type kiln_emu_fiber_start,@function
kiln_emu_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size kiln_emu_fiber_start,.-kiln_emu_fiber_start
)");
extern "C" void kiln_emu_switch(void** save, void* load);
extern "C" void kiln_emu_fiber_start();

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define KILN_EMU_ASAN 1
#else
#define KILN_EMU_ASAN 0
#endif

namespace kiln_emu {

namespace {

// 128 KiB of address space per CUDA thread (pages are committed as touched; a kernel's frame is a few KiB). The
// lowest 4 KiB of each stack hold a pattern that is checked when the block ends: a thread that overflowed its stack
// is reported (without guard pages, which would cost two memory mappings per thread: a cooperative grid of 264
// blocks of 256 threads would pass Linux's default limit of 65530).
constexpr size_t kStackBytes = 128 * 1024;
constexpr size_t kCanaryBytes = 4096;
constexpr unsigned char kCanary = 0xa5;

enum class State { Ready, AtBlockBarrier, AtWarpBarrier, Done };

// One cp.async in flight: it lands (src read, dst written) at the first cp.async.wait_group that covers its group.
struct AsyncCopy {
    void* dst;
    const void* src;
    int size, src_bytes;
    unsigned group;
};

struct Fiber {
    void* sp = nullptr;
    void* fake_stack = nullptr;  // AddressSanitizer's, while the fiber is switched out
    unsigned char* stack = nullptr;
    ThreadState ts{};
    State state = State::Ready;
    std::vector<AsyncCopy> copies;  // this thread's cp.async in flight, in issue order
    unsigned open_group = 0;        // the group that new copies join; cp.async.commit_group closes it
    void* race = nullptr;           // its ThreadSanitizer fiber (the race check)
};

struct Warp {
    unsigned present = 0;  // lanes that exist (a block's last warp may be partial)
    unsigned live = 0;     // lanes that have not exited
    unsigned arrived = 0;  // lanes waiting at the warp barrier now
    unsigned generation = 0;  // collectives completed
    uint64_t race_sync[2];    // the race check's release/acquire objects, for even and odd generations
    alignas(16) unsigned char slots[32 * kSlotBytes];
};

// A block's shared memory, one allocation per array, each its own so that AddressSanitizer reports an access past
// its end: 0xff bytes (float NaN) when made, as a GPU's shared memory holds whatever was there before.
struct SharedArray {
    const void* site = nullptr;  // the static array's declaration (device.h's static_shared); null: the dynamic one
    unsigned char* data = nullptr;
    size_t align = 0;
    SharedArray(const void* site, size_t bytes, size_t align) : site(site), align(align) {
        data = static_cast<unsigned char*>(::operator new(bytes, std::align_val_t(align)));
        std::memset(data, 0xff, bytes);
    }
    SharedArray(SharedArray&& o) noexcept : site(o.site), data(std::exchange(o.data, nullptr)), align(o.align) {}
    SharedArray(const SharedArray&) = delete;
    ~SharedArray() {
        if (data) ::operator delete(data, std::align_val_t(align));
    }
};

struct Block {
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    unsigned live = 0, arrived = 0;
    std::vector<SharedArray> shared;  // the static arrays in the order first reached
    size_t static_bytes = 0;
    std::unique_ptr<SharedArray> dynamic;
    const std::function<void()>* thread = nullptr;
    void* scheduler_sp = nullptr;
    const void* scheduler_bottom = nullptr;  // the scheduler's stack, as AddressSanitizer reports it
    size_t scheduler_size = 0;
    unsigned generation = 0;  // __syncthreads completed
    // The race check's objects: [0] the block's start, [1] and [2] __syncthreads of even and odd generations. Its
    // end is the launch's (run_grid's `done`).
    uint64_t race_sync[3];
    const void* done = nullptr;
    void* scheduler_race = nullptr;
};

// Stacks are mapped per OS thread, a block's worth at a time, and reused by every block the thread runs (of the race
// check's fiber set, race.h: a stack stays with its fiber).
struct StackSet {
    std::vector<std::pair<unsigned char*, size_t>> regions;
    std::vector<unsigned char*> stacks;
    std::vector<void*> race_fibers;  // one per stack: the set's TSan fibers (race.h), each on its own stack
    ~StackSet() {
        for (void* f : race_fibers) race::destroy(f);
        for (auto& r : regions) munmap(r.first, r.second);
    }
    void reserve(size_t n) {
        if (stacks.size() >= n) return;
        const size_t more = n - stacks.size(), bytes = more * kStackBytes;
        void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            std::fprintf(stderr, "kiln CUDA emulator: cannot map %zu thread stacks\n", more);
            std::abort();
        }
        regions.emplace_back(static_cast<unsigned char*>(m), bytes);
        for (size_t i = 0; i < more; ++i) {
            // The canary is written once: a stack is reused block after block, and an overflow ends the process.
            unsigned char* stack = static_cast<unsigned char*>(m) + i * kStackBytes;
            std::memset(stack, kCanary, kCanaryBytes);
            stacks.push_back(stack);
            race_fibers.push_back(race::create());
        }
    }
};

struct StackPool {
    std::vector<std::unique_ptr<StackSet>> sets;
    // Set `index`, with at least n stacks and fibers.
    StackSet& reserve(size_t index, size_t n) {
        while (sets.size() <= index) sets.push_back(std::make_unique<StackSet>());
        sets[index]->reserve(n);
        return *sets[index];
    }
};

thread_local StackPool tl_stacks;
thread_local Block* tl_block = nullptr;
thread_local Fiber* tl_fiber = nullptr;

[[noreturn]] void fatal(const char* what) {
    const ThreadState& t = tl_fiber->ts;
    std::fprintf(stderr, "kiln CUDA emulator: %s (block (%u,%u,%u), thread (%u,%u,%u))\n", what, t.block_idx.x,
                 t.block_idx.y, t.block_idx.z, t.thread_idx.x, t.thread_idx.y, t.thread_idx.z);
    std::abort();
}

// Under AddressSanitizer every switch is announced (its fiber API), so that ASan knows which stack is live; without
// it, ASan would take a fiber's frames for overflows of the scheduler's stack.
void asan_enter(void** fake_stack, const void* bottom, size_t size) {
#if KILN_EMU_ASAN
    __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#endif
}
void asan_entered(void* fake_stack, const void** old_bottom, size_t* old_size) {
#if KILN_EMU_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#endif
}

// From a fiber back to its block's scheduler; `exiting`: the fiber never resumes.
void to_scheduler(bool exiting = false) {
    Block& b = *tl_block;
    Fiber& f = *tl_fiber;
    asan_enter(exiting ? nullptr : &f.fake_stack, b.scheduler_bottom, b.scheduler_size);
    race::switch_to(b.scheduler_race);
    kiln_emu_switch(&f.sp, b.scheduler_sp);
    asan_entered(f.fake_stack, &tl_block->scheduler_bottom, &tl_block->scheduler_size);
}

void release_block(Block& b) {
    b.arrived = 0;
    ++b.generation;
    for (Fiber& f : b.fibers)
        if (f.state == State::AtBlockBarrier) f.state = State::Ready;
}

void release_warp(Block& b, Warp& w, unsigned warp_index) {
    w.arrived = 0;
    ++w.generation;
    const size_t first = (size_t)warp_index * 32, end = std::min(first + 32, b.fibers.size());
    for (size_t i = first; i < end; ++i)
        if (b.fibers[i].state == State::AtWarpBarrier) b.fibers[i].state = State::Ready;
}

[[noreturn]] void fiber_main(Fiber* f) {
    asan_entered(nullptr, &tl_block->scheduler_bottom, &tl_block->scheduler_size);
    Block& b = *tl_block;
    race::acquire(&b.race_sync[0]);
    (*b.thread)();
    // What an exited thread wrote is ordered before the barriers the others still pass, and before the launch's end.
    race::release(&b.race_sync[1]);
    race::release(&b.race_sync[2]);
    race::release(b.done);
    f->state = State::Done;
    --b.live;
    Warp& w = b.warps[f->ts.linear / 32];
    w.live &= ~(1u << (f->ts.linear % 32));
    // Exited threads count as arrived at __syncthreads, as on the GPU since Volta.
    if (b.arrived > 0 && b.arrived == b.live) release_block(b);
    to_scheduler(true);
    __builtin_unreachable();
}

void start_fiber(Fiber& f, unsigned char* stack, bool fresh_fiber) {
    f.stack = stack;
    f.copies.clear();  // a thread that exited with copies in flight: nothing waited for them, nothing may read them
    f.open_group = 0;
#if KILN_EMU_ASAN
    // A stack is reused: the redzones of the frames its last fiber left (it never returned) are stale.
    __asan_unpoison_memory_region(stack + kCanaryBytes, kStackBytes - kCanaryBytes);
#endif
    // So are, for a new fiber of the race check, the accesses they made: another block's thread, unordered with it.
    if (fresh_fiber) race::forget(stack + kCanaryBytes, kStackBytes - kCanaryBytes);
    // The frame kiln_emu_switch pops: mxcsr + x87 control word, r15, r14, r13, r12, rbx, rbp, return address; the
    // return lands on kiln_emu_fiber_start with a 16-byte-aligned stack, as a call instruction expects to leave it.
    auto* top = reinterpret_cast<uint64_t*>(stack + kStackBytes - 64);
    uint64_t* sp = top - 8;
    uint32_t csr[2] = {0, 0};
    asm volatile("stmxcsr %0" : "=m"(csr[0]));
    asm volatile("fnstcw %0" : "=m"(csr[1]));
    std::memcpy(&sp[0], csr, 8);
    sp[1] = 0;                                              // r15
    sp[2] = 0;                                              // r14
    sp[3] = reinterpret_cast<uint64_t>(&fiber_main);        // r13: the function
    sp[4] = reinterpret_cast<uint64_t>(&f);                 // r12: its argument
    sp[5] = 0;                                              // rbx
    sp[6] = 0;                                              // rbp
    sp[7] = reinterpret_cast<uint64_t>(&kiln_emu_fiber_start);
    f.sp = sp;
    f.state = State::Ready;
}

[[noreturn]] void report_deadlock(Block& b) {
    size_t at_block = 0, at_warp = 0, done = 0;
    for (const Fiber& f : b.fibers) {
        at_block += f.state == State::AtBlockBarrier;
        at_warp += f.state == State::AtWarpBarrier;
        done += f.state == State::Done;
    }
    const ThreadState& t = b.fibers[0].ts;
    std::fprintf(stderr,
                 "kiln CUDA emulator: deadlock in block (%u,%u,%u) of %zu threads: %zu wait at __syncthreads, %zu at a "
                 "warp collective, %zu have exited; no thread can run\n",
                 t.block_idx.x, t.block_idx.y, t.block_idx.z, b.fibers.size(), at_block, at_warp, done);
    std::abort();
}

// splitmix64's finalizer: a well-mixed 64-bit hash, enough to draw thread orders from.
uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t schedule_seed() {
    static const uint64_t seed = [] {
        const char* s = std::getenv("KILN_EMU_SEED");
        return s ? std::strtoull(s, nullptr, 0) : 1ull;
    }();
    return seed;
}

// Runs one block to its end. Its threads' accesses are ordered before `done` is acquired: by run_grid when the launch
// ends and, where the race check orders every block before the next (one fiber set, race.h), by this OS thread
// before it runs anything else.
void run_block(const Config& cfg, uint3 block_idx, uint64_t linear_block, const std::function<void()>& thread,
               const void* done) {
    // The race check's fibers (race.h): block i of the launch runs on fiber set i mod sets, or on new fibers.
    const unsigned sets = race::fiber_sets();
    const bool fresh = sets == 0;
    const unsigned bx = cfg.block.x, by = cfg.block.y, bz = cfg.block.z, n = bx * by * bz;
    // On the heap, with its release/acquire objects: ThreadSanitizer forgets those when they are freed, and the next
    // block's, at the same address on the stack, would otherwise carry this block's orders.
    auto owned = std::make_unique<Block>();
    Block& b = *owned;
    b.thread = &thread;
    b.done = done;
    b.scheduler_race = race::current();
    b.fibers.resize(n);
    b.warps.resize((n + 31) / 32);
    for (size_t w = 0; w < b.warps.size(); ++w) {
        const unsigned lanes = std::min(32u, n - (unsigned)w * 32);
        b.warps[w].present = b.warps[w].live = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
        std::memset(b.warps[w].slots, 0xff, sizeof b.warps[w].slots);
    }
    b.live = n;
    StackSet& pool = tl_stacks.reserve(fresh ? 0 : linear_block % sets, n);
    if (cfg.smem > 0) b.dynamic = std::make_unique<SharedArray>(nullptr, cfg.smem, 128);
    for (unsigned i = 0; i < n; ++i) {
        Fiber& f = b.fibers[i];
        f.ts.thread_idx = uint3{i % bx, (i / bx) % by, i / (bx * by)};
        f.ts.block_idx = block_idx;
        f.ts.block_dim = cfg.block;
        f.ts.grid_dim = cfg.grid;
        f.ts.linear = i;
        // A fiber's own accesses are ordered, so one of an earlier block's threads, with one barrier, orders that
        // whole block before this one: blocks of one set are ordered, those of different sets are not.
        f.race = fresh ? race::create() : pool.race_fibers[i];
        race::name(f.race, f.ts);
        start_fiber(f, pool.stacks[i], fresh);
    }
    race::release(&b.race_sync[0]);
    Block* outer_block = tl_block;
    Fiber* outer_fiber = tl_fiber;
    tl_block = &b;
    // Each sweep runs the ready threads in a new order, a permutation drawn from (seed, block, sweep): a thread
    // runs on until it waits, so a missing barrier shows as soon as some thread runs ahead of another that it
    // should have waited for, whichever of the two it is. The draw is fixed, so a failure repeats run after run;
    // KILN_EMU_SEED draws other orders.
    std::vector<unsigned> order(n);
    for (unsigned i = 0; i < n; ++i) order[i] = i;
    uint64_t rng = mix64(schedule_seed() ^ mix64(((uint64_t)block_idx.z << 42) ^ ((uint64_t)block_idx.y << 21) ^
                                                  block_idx.x));
    for (unsigned done = 0; done < n;) {
        bool ran = false;
        done = 0;
        for (unsigned i = n; i > 1; --i) std::swap(order[i - 1], order[(rng = mix64(rng)) % i]);
        for (unsigned i : order) {
            Fiber& f = b.fibers[i];
            if (f.state == State::Ready) {
                tl_fiber = &f;
                void* fake_stack = nullptr;
                asan_enter(&fake_stack, f.stack, kStackBytes);
                race::switch_to(f.race);
                kiln_emu_switch(&b.scheduler_sp, f.sp);
                asan_entered(fake_stack, nullptr, nullptr);
                ran = true;
            }
            done += f.state == State::Done;
        }
        if (!ran && done < n) report_deadlock(b);
    }
    static const auto canary = [] {
        std::array<unsigned char, kCanaryBytes> c;
        c.fill(kCanary);
        return c;
    }();
    for (const Fiber& f : b.fibers) {
        if (std::memcmp(f.stack, canary.data(), kCanaryBytes) != 0) {
            std::fprintf(stderr, "kiln CUDA emulator: thread (%u,%u,%u) of block (%u,%u,%u) overflowed its %zu KiB "
                         "stack\n", f.ts.thread_idx.x, f.ts.thread_idx.y, f.ts.thread_idx.z, block_idx.x,
                         block_idx.y, block_idx.z, kStackBytes / 1024);
            std::abort();
        }
    }
    tl_block = outer_block;
    tl_fiber = outer_fiber;
    if (sets == 1) race::acquire(done);  // this block (and those before it) before what this OS thread runs next
    // Its memory (shared arrays, the threads' cp.async lists) may go unordered with the threads that used it, as a
    // GPU reclaims a block's resources: quietly, or the race check would take the freeing for a race with them.
    race::quiet(true);
    if (fresh)
        for (Fiber& f : b.fibers) race::destroy(f.race);
    owned.reset();
    race::quiet(false);
}

}  // namespace

ThreadState* current() { return tl_fiber ? &tl_fiber->ts : nullptr; }

void sync_block() {
    Block& b = *tl_block;
    const void* barrier = &b.race_sync[1 + b.generation % 2];
    race::release(barrier);
    if (++b.arrived == b.live) {
        release_block(b);
    } else {
        tl_fiber->state = State::AtBlockBarrier;
        to_scheduler();
    }
    race::acquire(barrier);
}

void sync_warp(unsigned mask, bool reset_slots) {
    Block& b = *tl_block;
    const unsigned lane = tl_fiber->ts.linear % 32, warp_index = tl_fiber->ts.linear / 32;
    Warp& w = b.warps[warp_index];
    const unsigned expected = mask & w.present;
    if (!(expected & (1u << lane))) fatal("a warp collective's mask leaves out the lane that calls it");
    if (expected & ~w.live) fatal("a warp collective's mask names a lane that has exited");
    const void* collective = &w.race_sync[w.generation % 2];
    race::release(collective);
    w.arrived |= 1u << lane;
    if ((w.arrived & expected) == expected) {
        if (reset_slots) {
            race::acquire(collective);  // after every lane's reads of the slots, and before their next writes
            std::memset(w.slots, 0xff, sizeof w.slots);
            race::release(collective);
        }
        release_warp(b, w, warp_index);
    } else {
        tl_fiber->state = State::AtWarpBarrier;
        to_scheduler();
    }
    race::acquire(collective);
}

unsigned char* warp_slots() { return tl_block->warps[tl_fiber->ts.linear / 32].slots; }

unsigned char* dynamic_shared() { return tl_block->dynamic ? tl_block->dynamic->data : nullptr; }

void* block_shared(const void* site, size_t bytes, size_t align) {
    Block& b = *tl_block;
    for (const SharedArray& a : b.shared)
        if (a.site == site) return a.data;
    // CUDA's limit for a kernel's static arrays, which ptxas enforces.
    if ((b.static_bytes += bytes) > kSharedDefaultPerBlock) fatal("the static __shared__ arrays pass 48 KiB");
    race::quiet(true);  // the block's memory, not that of the thread that happened to reach the declaration first
    unsigned char* data = b.shared.emplace_back(site, bytes, align).data;
    race::quiet(false);
    return data;
}

void spin_pause() { std::this_thread::yield(); }

int blocks_per_sm(int block_size, size_t dynamic_smem) {
    const int warps = (block_size + 31) / 32;
    int blocks = std::min(kMaxBlocksPerSm, kMaxThreadsPerSm / (warps * 32));
    const size_t per_block = dynamic_smem + kSharedReservedPerBlock;
    blocks = std::min(blocks, (int)(kSharedPerSm / per_block));
    return blocks;
}

void run_grid(const Config& cfg, const std::function<void()>& thread, bool cooperative) {
    const dim3 g = cfg.grid;
    auto block_at = [&](uint64_t i) {
        return uint3{(unsigned)(i % g.x), (unsigned)((i / g.x) % g.y), (unsigned)(i / ((uint64_t)g.x * g.y))};
    };
    const uint64_t blocks = (uint64_t)g.x * g.y * g.z;
    // Every thread of the launch releases `done` at its end, and the launch's end acquires it: the race check then
    // orders all of a launch before what follows it (and, with one fiber set, each block before the next).
    const auto done = std::make_unique<uint64_t>(0);
    if (!cooperative) {
        // One block at a time, in a drawn order: start + k * stride (mod blocks) with the stride prime to the count,
        // drawn from the schedule seed and the grid's size. A GPU runs a launch's blocks at once and in any order,
        // so a block that reads what another block of the same launch writes is a race there; in index order here it
        // would always find the lower blocks' results already written.
        uint64_t rng = mix64(schedule_seed() ^ mix64(blocks));
        uint64_t stride = blocks > 1 ? 1 + (rng = mix64(rng)) % (blocks - 1) : 1;
        while (std::gcd(stride, blocks) != 1) stride = stride % blocks + 1;
        uint64_t i = blocks > 1 ? mix64(rng) % blocks : 0;
        for (uint64_t k = 0; k < blocks; ++k, i = (i + stride) % blocks)
            run_block(cfg, block_at(i), i, thread, done.get());
        race::acquire(done.get());
        return;
    }
    // The blocks of a cooperative grid wait for each other (grid barriers), so they all run at once.
    std::vector<std::thread> threads;
    threads.reserve(blocks);
    try {
        for (uint64_t i = 0; i < blocks; ++i)
            threads.emplace_back([&, i] { run_block(cfg, block_at(i), 0, thread, done.get()); });
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "kiln CUDA emulator: cannot start the %llu OS threads of a cooperative grid: %s\n",
                     (unsigned long long)blocks, e.what());
        std::abort();
    }
    for (std::thread& t : threads) t.join();
    race::acquire(done.get());
}

// ---- cp.async (ptx.cpp has the other hand-written PTX) --------------------------------------------------------------
namespace ptx {

// cp.async as the hardware allows it to behave: the destination is garbage (0xff bytes, NaN as a float) from the
// issue until the wait that covers the copy's group, and the copy lands at that wait, never earlier. A kernel that
// reads a tile before waiting for it, or that issues a copy into a buffer another thread may still be reading, then
// reads NaN instead of the data it expected; copying at once, as the emulator used to, hid both races.
void cp_async(void* dst, const void* src, int size, int src_bytes) {
    Fiber& f = *tl_fiber;
    std::memset(dst, 0xff, (size_t)size);
    f.copies.push_back(AsyncCopy{dst, src, size, src_bytes, f.open_group});
}

void cp_async_commit() { ++tl_fiber->open_group; }

void cp_async_wait(int pending) {
    Fiber& f = *tl_fiber;
    // Committed groups are 0 .. open_group - 1; all but the `pending` most recent land. The open group's copies stay
    // in flight, as wait_group does not cover them.
    const int64_t last_landing = (int64_t)f.open_group - pending;
    size_t kept = 0;
    for (const AsyncCopy& c : f.copies) {
        if ((int64_t)c.group < last_landing) {
            const int n = c.src_bytes > 0 ? c.src_bytes : 0;
            if (n > 0) std::memcpy(c.dst, c.src, (size_t)n);
            if (n < c.size) std::memset(static_cast<char*>(c.dst) + n, 0, (size_t)(c.size - n));
        } else {
            f.copies[kept++] = c;
        }
    }
    f.copies.resize(kept);
}

}  // namespace ptx

}  // namespace kiln_emu
