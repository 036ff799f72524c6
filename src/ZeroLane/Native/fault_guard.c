/*
 * ZeroLane fault guard: turns the SIGBUS of a mapped file that shrank under us into a flag the managed code checks.
 *
 * Design: when another process truncates a file we have mapped, touching a page past the new end raises SIGBUS,
 * which the .NET runtime reports as a fatal AccessViolationException: no managed code can catch it. Managed code
 * registers each file mapping here (start, length, protection). On SIGBUS at an address inside a registered
 * range, the handler replaces the range from the faulting page to its end with anonymous zero pages (same
 * protection), sets the range's `faulted` flag and returns, so the faulting instruction runs again and reads
 * zeros (or writes to memory that is then dropped). The managed accessor checks the flag after each access and
 * throws a clear exception; nothing outside the mapping is read. Any other SIGBUS goes to the handler that was
 * installed before ours (the runtime's), unchanged.
 *
 * The registry is a fixed table, so the handler never allocates or locks: a slot is claimed with a
 * compare-and-swap on `claimed`, filled, and published by a release store of `start`; the handler reads `start`
 * with acquire. Unregistering clears `start` before the caller unmaps, so the handler never remaps a range
 * that is being unmapped by its owner. Everything the handler calls (mmap, sigaction, raise) is a system call.
 *
 * Built by src/ZeroLane/ZeroLane.csproj with the machine's C compiler into libzerolane_native.so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZL_EXPORT __attribute__((visibility("default")))

/* How many mappings can be guarded at once; a registration beyond that is refused (the mapping is unguarded). */
#define ZL_GUARD_SLOTS 16384

struct zl_guard_slot {
    atomic_uintptr_t start;   /* first byte of the mapping; 0 while the slot is free or being filled */
    atomic_uintptr_t end;     /* one past its last byte */
    atomic_int protection;    /* PROT_* of the mapping, given to the zero pages that replace it */
    atomic_int faulted;       /* set to 1 by the handler; read by managed code */
    atomic_int claimed;       /* 1 from register to unregister */
};

static struct zl_guard_slot s_slots[ZL_GUARD_SLOTS];
static atomic_size_t s_slots_in_use_bound;   /* slots at or past this index were never claimed */
static struct sigaction s_previous;
static uintptr_t s_page_mask;
static int s_install_error;
static pthread_once_t s_install_once = PTHREAD_ONCE_INIT;

static void zl_call_previous(int signal_number, siginfo_t *info, void *context)
{
    if (s_previous.sa_flags & SA_SIGINFO) {
        s_previous.sa_sigaction(signal_number, info, context);
        return;
    }
    if (s_previous.sa_handler == SIG_DFL || s_previous.sa_handler == SIG_IGN) {
        /* Nobody handled SIGBUS before us: let the default action (terminate with a core dump) happen as if we
         * had never been installed. The signal is blocked while we run, so it is delivered when we return. */
        struct sigaction default_action = {0};
        default_action.sa_handler = SIG_DFL;
        sigemptyset(&default_action.sa_mask);
        sigaction(signal_number, &default_action, NULL);
        raise(signal_number);
        return;
    }
    s_previous.sa_handler(signal_number);
}

static void zl_on_sigbus(int signal_number, siginfo_t *info, void *context)
{
    int saved_errno = errno;
    /* si_code > 0: raised by the kernel for a memory access, not sent by kill or raise. */
    if (info != NULL && info->si_code > 0) {
        uintptr_t address = (uintptr_t)info->si_addr;
        size_t bound = atomic_load_explicit(&s_slots_in_use_bound, memory_order_acquire);
        for (size_t i = 0; i < bound; i++) {
            struct zl_guard_slot *slot = &s_slots[i];
            /* acquire pairs with the release in zl_fault_guard_register: end and protection are filled */
            uintptr_t start = atomic_load_explicit(&slot->start, memory_order_acquire);
            if (start == 0 || address < start) {
                continue;
            }
            uintptr_t end = atomic_load_explicit(&slot->end, memory_order_relaxed);
            if (address >= end) {
                continue;
            }
            uintptr_t page = address & s_page_mask;
            int protection = atomic_load_explicit(&slot->protection, memory_order_relaxed);
            void *zeros = mmap((void *)page, end - page, protection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (zeros == MAP_FAILED) {
                break;
            }
            atomic_store_explicit(&slot->faulted, 1, memory_order_release);
            errno = saved_errno;
            return;
        }
    }
    errno = saved_errno;
    zl_call_previous(signal_number, info, context);
}

static void zl_install(void)
{
    long page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0) {
        s_install_error = EINVAL;
        return;
    }
    s_page_mask = ~((uintptr_t)page_size - 1);

    struct sigaction current;
    if (sigaction(SIGBUS, NULL, &current) != 0) {
        s_install_error = errno;
        return;
    }
    /* Run the way the handler we chain to expects to run: the .NET runtime's SIGBUS handler must run on the
     * thread's own stack (on the alternate stack it takes the fault for a stack overflow), so SA_ONSTACK and
     * the mask are taken from it rather than chosen here. */
    struct sigaction action = {0};
    action.sa_sigaction = zl_on_sigbus;
    action.sa_flags = SA_SIGINFO | (current.sa_flags & (SA_ONSTACK | SA_RESTART));
    action.sa_mask = current.sa_mask;
    if (sigaction(SIGBUS, &action, &s_previous) != 0) {
        s_install_error = errno;
    }
}

/* Installs the SIGBUS handler once per process. Returns 0, or the errno of the failure. */
ZL_EXPORT int zl_fault_guard_install(void)
{
    pthread_once(&s_install_once, zl_install);
    return s_install_error;
}

/* Whether our handler is the one installed for SIGBUS now (another library may have replaced it since). */
ZL_EXPORT int zl_fault_guard_is_installed(void)
{
    struct sigaction current;
    if (sigaction(SIGBUS, NULL, &current) != 0) {
        return 0;
    }
    return (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == zl_on_sigbus;
}

/* Guards [start, start + length). Returns the slot index, or -1 when the table is full or the range is empty. */
ZL_EXPORT int zl_fault_guard_register(void *start, size_t length, int protection)
{
    if (start == NULL || length == 0 || (uintptr_t)start + length < (uintptr_t)start) {
        return -1;
    }
    for (size_t i = 0; i < ZL_GUARD_SLOTS; i++) {
        struct zl_guard_slot *slot = &s_slots[i];
        int expected = 0;
        if (!atomic_compare_exchange_strong(&slot->claimed, &expected, 1)) {
            continue;
        }
        atomic_store_explicit(&slot->end, (uintptr_t)start + length, memory_order_relaxed);
        atomic_store_explicit(&slot->protection, protection, memory_order_relaxed);
        atomic_store_explicit(&slot->faulted, 0, memory_order_relaxed);
        size_t bound = atomic_load(&s_slots_in_use_bound);
        while (bound <= i && !atomic_compare_exchange_weak(&s_slots_in_use_bound, &bound, i + 1)) {
        }
        /* release pairs with the acquire in zl_on_sigbus: end and protection are visible before start */
        atomic_store_explicit(&slot->start, (uintptr_t)start, memory_order_release);
        return (int)i;
    }
    return -1;
}

/* The flag the handler sets when it replaced part of the slot's range; valid while the slot is registered. */
ZL_EXPORT const atomic_int *zl_fault_guard_flag(int slot)
{
    if (slot < 0 || slot >= ZL_GUARD_SLOTS) {
        return NULL;
    }
    return &s_slots[slot].faulted;
}

/* Stops guarding the slot's range. Call before unmapping it. */
ZL_EXPORT void zl_fault_guard_unregister(int slot)
{
    if (slot < 0 || slot >= ZL_GUARD_SLOTS) {
        return;
    }
    atomic_store_explicit(&s_slots[slot].start, 0, memory_order_release);
    atomic_store_explicit(&s_slots[slot].claimed, 0, memory_order_release);
}
