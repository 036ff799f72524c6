/*
 * The iceoryx peer of `zerolane bench` (part `iceoryx`), built by IceoryxPeerBuild.cs against Debian's iceoryx 2.0.3
 * C binding (cc -O2 iceoryx_peer.c -I/usr/include/iceoryx/v2.0.3 -liceoryx_binding_c); usage in main.
 *
 * Design: pong and sub start first and say "ready"; ping times round trips, pub sends. busy-spin polls
 * iox_sub_take_chunk (iceoryx users' way to the lowest latency); blocking sleeps in a waitset on HAS_DATA (their way
 * to spare a core). The work per frame mirrors the ring's rows (RingPeer.cs): the sender loans a chunk and copies the
 * frame in from a reused array, as the ring's writer copies in; the receiver touches one 8-byte word per 4 KiB plus
 * the last word in place (FrameToucher.cs). Neither end drops (WAIT_FOR_CONSUMER / BLOCK_PRODUCER), as in the ring.
 * A sample's first byte is 0 for data, else a control code. Each peer ends with one JSON line on stdout (ping's with
 * the one-way percentiles); errors go to stderr (as iceoryx's logs do), exit code 1. Mode roudi runs RouDi as its
 * child, so RouDi (which removes its shared memory when it stops on SIGTERM or SIGINT) cannot outlive the bench.
 */
#include "iceoryx_binding_c/log.h"
#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"
#include "iceoryx_binding_c/subscriber.h"
#include "iceoryx_binding_c/wait_set.h"
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { DATA = 0, START = 1, STOP = 2 }; /* a sample's first byte */
static const char *s_mode = "?";
static int s_blocking;
static uint64_t s_deadline; /* warm-up + window + 60 s: a peer whose partner died gives up then */
static iox_ws_storage_t s_waitset_storage;
static iox_ws_t s_waitset;
static iox_notification_info_t s_events[1];
static uint64_t s_missed_events;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); /* the clock .NET's Stopwatch reads, so both sides' rows time alike */
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void fail(const char *what)
{
    fprintf(stderr, "iceoryx %s peer: %s\n", s_mode, what);
    exit(1);
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause() /* what the ring's busy-spin does between polls (Thread.SpinWait(1)) */
#else
#define cpu_relax() ((void)0)
#endif

/* FrameToucher.Touch: the last 8 bytes plus one 8-byte word per 4 KiB, read in place. */
static uint64_t touch(const uint8_t *frame, uint32_t length)
{
    if (length < 8)
        return frame[0];
    uint64_t sum, word;
    memcpy(&sum, frame + length - 8, 8);
    for (uint32_t offset = 0; offset < length - 8; offset += 4096) {
        memcpy(&word, frame + offset, 8);
        sum += word;
    }
    return sum;
}

/* The next sample, polled or waited for; the waitset's timeout lets a sleeping peer notice the deadline. */
static const uint8_t *take(iox_sub_t sub)
{
    const void *chunk = NULL;
    for (uint64_t polls = 1;; polls++) {
        enum iox_ChunkReceiveResult result = iox_sub_take_chunk(sub, &chunk);
        if (result == ChunkReceiveResult_SUCCESS)
            return chunk;
        if (result != ChunkReceiveResult_NO_CHUNK_AVAILABLE)
            fail("iox_sub_take_chunk failed");
        if (s_blocking)
            iox_ws_timed_wait(s_waitset, (struct timespec){.tv_nsec = 100000000}, s_events, 1, &s_missed_events);
        else
            cpu_relax();
        if ((s_blocking || (polls & 1023) == 0) && now_ns() > s_deadline)
            fail("gave up: the partner stopped sending");
    }
}

/* Loans a chunk, copies the frame in and publishes it; publish waits while the subscriber's queue is full. */
static void send(iox_pub_t pub, const uint8_t *source, uint32_t length, uint8_t kind)
{
    void *chunk = NULL;
    enum iox_AllocationResult result;
    while ((result = iox_pub_loan_chunk(pub, &chunk, length)) != AllocationResult_SUCCESS) {
        if (result != AllocationResult_RUNNING_OUT_OF_CHUNKS || now_ns() > s_deadline)
            fail("iox_pub_loan_chunk failed (no mempool for this frame size?)");
        cpu_relax();
    }
    memcpy(chunk, source, length);
    ((uint8_t *)chunk)[0] = kind;
    iox_pub_publish_chunk(pub, chunk);
}

static int compare(const void *a, const void *b)
{
    return (*(const uint64_t *)a > *(const uint64_t *)b) - (*(const uint64_t *)a < *(const uint64_t *)b);
}

/* LatencySamples.Rank: the nearest rank, ceil(q * n) - 1, halved (one way = half a round trip). */
static double one_way(const uint64_t *sorted, uint64_t count, double quantile)
{
    double position = quantile * (double)count;
    uint64_t index = (uint64_t)position;
    if ((double)index >= position && index > 0)
        index--;
    return (double)sorted[index < count ? index : count - 1] / 2.0;
}

static int run_roudi_guard(char **command)
{
    pid_t guard = getpid(), roudi = fork();
    if (roudi < 0)
        fail("fork failed");
    if (roudi == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the guard is single-threaded: its thread's death is its death */
        setpgid(0, 0);                    /* out of the terminal's group: Ctrl+C is the bench's to handle */
        if (getppid() != guard)
            _exit(1);
        execv(command[0], command);
        perror("iceoryx roudi guard: exec");
        _exit(127);
    }
    /* RouDi stops when the bench closes our stdin (or dies), or when we die (by SIGTERM, say). */
    struct pollfd input = {.fd = 0, .events = POLLIN};
    char buffer[64];
    int status = 0;
    for (;;) {
        if (waitpid(roudi, &status, WNOHANG) == roudi) /* RouDi ended by itself (another RouDi runs?) */
            return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        if (poll(&input, 1, 50) > 0 && read(0, buffer, sizeof buffer) <= 0)
            break; /* the bench closed our stdin, or died */
    }
    kill(roudi, SIGTERM);
    waitpid(roudi, &status, 0);
    return 0;
}

int main(int argc, char **argv)
{
    s_mode = argc > 1 ? argv[1] : "?";
    signal(SIGINT, SIG_IGN); /* Ctrl+C reaches the whole group: the bench stops its children itself, cleanly */
    if (argc > 2 && strcmp(s_mode, "roudi") == 0)
        return run_roudi_guard(argv + 2);
    if (argc != 9)
        fail("usage: pong|sub|ping|pub busy-spin|blocking NAME FRAME_BYTES QUEUE WARMUP_S SECONDS MAX_SAMPLES | roudi PATH ARGS");
    int ping = !strcmp(s_mode, "ping"), pong = !strcmp(s_mode, "pong"), pub = !strcmp(s_mode, "pub"), sub = !strcmp(s_mode, "sub");
    s_blocking = !strcmp(argv[2], "blocking");
    const char *name = argv[3];
    uint32_t length = (uint32_t)strtoul(argv[4], NULL, 10), queue = (uint32_t)strtoul(argv[5], NULL, 10);
    uint64_t max_samples = strtoull(argv[8], NULL, 10);
    double warmup = strtod(argv[6], NULL), seconds = strtod(argv[7], NULL);
    if (!(ping || pong || pub || sub) || length == 0 || queue == 0 || max_samples == 0)
        fail("bad arguments");
    s_deadline = now_ns() + (uint64_t)((warmup + seconds + 60) * 1e9);
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches the bench at once */
    char runtime[100];
    snprintf(runtime, sizeof runtime, "%s-%s", name, s_mode);
    iox_set_loglevel(Iceoryx_LogLevel_Warn);
    iox_runtime_init(runtime);
    /* Latency: ping -> topic "ping" -> pong -> topic "pong" -> ping. Throughput: pub -> topic "data" -> sub. */
    iox_pub_storage_t pub_storage;
    iox_sub_storage_t sub_storage;
    iox_pub_t publisher = NULL;
    iox_sub_t subscriber = NULL;
    if (!sub) {
        iox_pub_options_t options;
        iox_pub_options_init(&options);
        options.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
        publisher = iox_pub_init(&pub_storage, "zlbench", name, ping ? "ping" : pong ? "pong" : "data", &options);
    }
    if (!pub) {
        iox_sub_options_t options;
        iox_sub_options_init(&options);
        options.queueCapacity = queue;
        options.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
        subscriber = iox_sub_init(&sub_storage, "zlbench", name, ping ? "pong" : pong ? "ping" : "data", &options);
        /* Only a blocking subscriber gets a waitset: attached, it makes every publish signal its semaphore too. */
        if (s_blocking) {
            s_waitset = iox_ws_init(&s_waitset_storage);
            if (iox_ws_attach_subscriber_state(s_waitset, subscriber, SubscriberState_HAS_DATA, 0, NULL) != WaitSetResult_SUCCESS)
                fail("could not attach the subscriber to a waitset");
        }
    }
    uint8_t *source = malloc(length);
    if (source == NULL)
        fail("out of memory");
    for (uint32_t i = 0; i < length; i++)
        source[i] = (uint8_t)(i * 31 + 7); /* FrameToucher.FillPattern */
    printf("ready\n");

    /* The sending side waits until RouDi has connected every port of the pair: nothing is published into the void. */
    while ((ping || pub) && (!iox_pub_has_subscribers(publisher)
                             || (ping && iox_sub_get_subscription_state(subscriber) != SubscribeState_SUBSCRIBED))) {
        if (now_ns() > s_deadline)
            fail("the partner never subscribed");
        usleep(1000);
    }

    uint64_t frames = 0, checksum = 0, started = 0, elapsed = 0, *samples = NULL;
    if (ping) {
        if ((samples = malloc(max_samples * sizeof *samples)) == NULL)
            fail("out of memory");
        memset(samples, 0, max_samples * sizeof *samples); /* fault the pages in before anything is timed */
        const uint8_t *held = NULL;
        uint64_t end = now_ns() + (uint64_t)(warmup * 1e9), previous = now_ns();
        for (int measuring = 0;;) {
            send(publisher, source, length, DATA);
            /* The previous reply is released once the next ping is on its way (off the round trip, as RingPeer). */
            if (held)
                iox_sub_release_chunk(subscriber, held);
            held = take(subscriber);
            checksum += touch(held, length);
            uint64_t now = now_ns();
            if (measuring) {
                samples[frames++] = now - previous;
                if (now >= end || frames == max_samples)
                    break;
            } else if (now >= end) {
                measuring = 1;
                started = now;
                end = now + (uint64_t)(seconds * 1e9);
            }
            previous = now;
        }
        elapsed = now_ns() - started;
        iox_sub_release_chunk(subscriber, held);
        send(publisher, source, length, STOP);
        iox_sub_release_chunk(subscriber, take(subscriber)); /* STOP's echo: the pong has read everything */
    } else if (pong) {
        for (uint8_t kind = DATA; kind != STOP;) {
            const uint8_t *request = take(subscriber);
            kind = request[0];
            checksum += touch(request, length);
            /* Reply first, then release the request (off the round trip, as RingPeer's echo does). */
            send(publisher, source, length, kind);
            iox_sub_release_chunk(subscriber, request);
            frames += kind == DATA;
        }
    } else if (pub) {
        uint64_t check_mask = length >= 4096 ? 0 : 63, end = now_ns() + (uint64_t)(warmup * 1e9);
        for (uint64_t sent = 1, measuring = 0;; sent++) {
            send(publisher, source, length, DATA);
            frames += measuring;
            if ((sent & check_mask) != 0 || now_ns() < end)
                continue;
            if (measuring)
                break;
            send(publisher, source, length, START);
            measuring = 1;
            started = now_ns();
            end = started + (uint64_t)(seconds * 1e9);
        }
        elapsed = now_ns() - started;
        send(publisher, source, length, STOP);
        /* Exiting removes the publisher: first wait until the subscriber has read STOP and left. */
        while (iox_pub_has_subscribers(publisher) && now_ns() < s_deadline)
            usleep(1000);
    } else {
        /* sub: data frames between START and STOP, timed from reading START to reading STOP, as the ring's reader. */
        for (uint8_t kind = DATA; kind != STOP;) {
            const uint8_t *frame = take(subscriber);
            kind = frame[0];
            checksum += touch(frame, length);
            frames += started != 0 && kind == DATA;
            iox_sub_release_chunk(subscriber, frame);
            if (kind == START)
                started = now_ns();
        }
        elapsed = now_ns() - started;
    }
    printf("{\"frames\":%" PRIu64 ",\"elapsed_ns\":%" PRIu64 ",\"checksum\":%" PRIu64, frames, elapsed, checksum);
    if (ping) {
        qsort(samples, frames, sizeof *samples, compare);
        printf(",\"samples\":%" PRIu64 ",\"p50_ns\":%.1f,\"p99_ns\":%.1f,\"p999_ns\":%.1f,\"max_ns\":%.1f", frames,
               one_way(samples, frames, 0.50), one_way(samples, frames, 0.99), one_way(samples, frames, 0.999),
               samples[frames - 1] / 2.0);
    }
    printf("}\n");
    if (s_waitset)
        iox_ws_deinit(s_waitset);
    if (subscriber)
        iox_sub_deinit(subscriber);
    if (publisher)
        iox_pub_deinit(publisher);
    iox_runtime_shutdown();
    return 0;
}
