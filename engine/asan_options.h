/* engine/asan_options.h — AddressSanitizer defaults for programs linking
 * libgannet, active only under ASan. Included by engine.c alone (a file
 * every link pulls in: the runtime's weak default would otherwise win over
 * an archive member nobody references).
 *
 * ASan keeps freed memory in a quarantine (256 MiB by default) to catch
 * use-after-free. The engine frees every dropped or delivered message at
 * once, so a burst of QoS 0 traffic to a stalled subscriber shows up as
 * hundreds of MiB resident that the release build never has, and the
 * bounded-memory behaviour could not be checked under ASan. A 16 MiB
 * quarantine still catches use-after-free of recent frees. ASAN_OPTIONS in
 * the environment overrides this. */
#ifndef GN_ENGINE_ASAN_OPTIONS_H
#define GN_ENGINE_ASAN_OPTIONS_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GN_ASAN)
#define GN_ASAN 1
#endif

#ifdef GN_ASAN
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

#endif
