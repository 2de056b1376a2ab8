/* bench/bench_registry.c — the registry's costs that matter in a connection
 * storm and on a change: token checks per second on one core (cold: the
 * full PBKDF2 at several costs; cached: the per-shard verified-token
 * cache), beside the reference mosquitto_passwd's default hash
 * (PBKDF2-HMAC-SHA512, 101 iterations, computed with OpenSSL here in the
 * same run); snapshot lookups; and for a database of N devices the full
 * snapshot build, an incremental patch after one change, and the bytes per
 * device. Prints one JSON object per line.
 * Usage: bench_registry [devices (default 100000)] [seconds per measurement (default 1.0)]
 *        [--only tokens|snapshot] */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/reg_snapshot.h"
#include "engine/platform/registry.h"
#include "engine/platform/registry_store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint8_t sink;

static void bench_cold(uint32_t iterations, double secs)
{
    gn_reg_cred c;
    gn_reg_cred_make_cost(&c, (const uint8_t *)"MP08VKz!8rXwnR-Q*x", 18, iterations);
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 16; i++)
            sink ^= (uint8_t)gn_reg_cred_verify(&c, (const uint8_t *)"MP08VKz!8rXwnR-Q*x", 18);
        n += 16;
    } while ((t = now_s()) - t0 < secs);
    printf("{\"bench\":\"token_check_cold\",\"hash\":\"pbkdf2-sha256\",\"iterations\":%u,"
           "\"checks_per_s\":%.0f,\"us_per_check\":%.2f}\n",
           iterations, (double)n / (t - t0), (t - t0) * 1e6 / (double)n);
}

/* OpenSSL's own PBKDF2: sha512 x 101 is mosquitto_passwd's default hash;
 * sha256 x 256 is ours through the EVP path (what the hand loop replaces). */
static void bench_openssl(const EVP_MD *md, int outlen, int iterations, const char *label, double secs)
{
    uint8_t salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, out[64];
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        PKCS5_PBKDF2_HMAC("MP08VKz!8rXwnR-Q*x", 18, salt, sizeof salt, iterations, md, outlen, out);
        sink ^= out[0];
        n++;
    } while ((t = now_s()) - t0 < secs);
    printf("{\"bench\":\"token_check_cold\",\"hash\":\"%s\",\"iterations\":%d,"
           "\"checks_per_s\":%.0f,\"us_per_check\":%.2f}\n",
           label, iterations, (double)n / (t - t0), (t - t0) * 1e6 / (double)n);
}

static void bench_cached(uint32_t iterations, double secs)
{
    enum { TOKENS = 4096 };
    gn_reg_cred *creds = malloc(TOKENS * sizeof *creds);
    char (*toks)[20] = malloc(TOKENS * sizeof *toks);
    for (int i = 0; i < TOKENS; i++) {
        snprintf(toks[i], sizeof toks[i], "tok-%012d", i);
        gn_reg_cred_make_cost(&creds[i], (const uint8_t *)toks[i], strlen(toks[i]), iterations);
    }
    gn_reg_verifier *v = gn_reg_verifier_create(65536);
    for (int i = 0; i < TOKENS; i++)
        gn_reg_verifier_check(v, &creds[i], (const uint8_t *)toks[i], strlen(toks[i]));
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 64; i++) {
            int k = (int)((n + (uint64_t)i) % TOKENS);
            sink ^= (uint8_t)gn_reg_verifier_check(v, &creds[k], (const uint8_t *)toks[k], strlen(toks[k]));
        }
        n += 64;
    } while ((t = now_s()) - t0 < secs);
    gn_reg_verifier_stats st;
    gn_reg_verifier_get_stats(v, &st);
    printf("{\"bench\":\"token_check_cached\",\"iterations\":%u,\"distinct_tokens\":%d,"
           "\"checks_per_s\":%.0f,\"us_per_check\":%.3f,\"hit_ratio\":%.4f}\n",
           iterations, TOKENS, (double)n / (t - t0), (t - t0) * 1e6 / (double)n,
           (double)st.cache_hits / (double)st.checks);
    gn_reg_verifier_destroy(v);
    free(creds);
    free(toks);
}

static size_t rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtoul(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static void bench_snapshot(uint64_t ndev, double secs)
{
    char dir[] = "/tmp/gnbench-reg-XXXXXX";
    if (!mkdtemp(dir))
        return;
    char path[256];
    snprintf(path, sizeof path, "%s/registry.db", dir);
    gn_store *st;
    char err[256];
    if (gn_store_open(&st, path, GN_STORE_CREATE, 5000, err, sizeof err) != GN_REG_OK) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    gn_store_set_iterations(st, 1);          /* setup speed only: the build does not hash */
    gn_store_org_create(st, "bench1", NULL, GN_REG_PLAN_STANDARD, NULL);
    gn_store_org_set(st, "bench1", "max_devices", "0");
    gn_store_type_add(st, "bench1", "sensor", GN_REG_DEVICE, NULL);
    double t0 = now_s();
    gn_store_begin(st);
    char id[32], tok[32];
    for (uint64_t i = 0; i < ndev; i++) {
        snprintf(id, sizeof id, "dev%llu", (unsigned long long)i);
        snprintf(tok, sizeof tok, "token-%010llu", (unsigned long long)i);
        gn_store_device_spec sp = {.org = "bench1", .type = "sensor", .id = id, .cls = GN_REG_DEVICE,
                                   .token = tok};
        if (gn_store_device_add(st, &sp, NULL, NULL) != GN_REG_OK) {
            fprintf(stderr, "device add: %s\n", gn_store_errmsg(st));
            break;
        }
    }
    gn_store_commit(st);
    gn_store_prune_changes(st, 0);
    double t_import = now_s() - t0;
    size_t rss0 = rss_kb();
    gn_registry_opts o;
    gn_registry_opts_default(&o);
    o.path = path;
    t0 = now_s();
    double c0 = cpu_s();
    gn_registry *r = gn_registry_open(&o, err, sizeof err);
    double t_open = now_s() - t0, c_open = cpu_s() - c0;
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    size_t rss1 = rss_kb();
    gn_registry_stats rs;
    gn_registry_get_stats(r, &rs);
    /* one change -> patch */
    gn_store_device_set_status(st, "bench1", "sensor", "dev7", GN_REG_DISABLED);
    gn_registry_refresh(r);
    gn_registry_stats rs2;
    gn_registry_get_stats(r, &rs2);
    /* 1000 changes in one transaction -> one patch */
    gn_store_begin(st);
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "dev%llu", (unsigned long long)((uint64_t)i * 7919 % ndev));
        gn_store_device_set_status(st, "bench1", "sensor", id, GN_REG_DISABLED);
    }
    gn_store_commit(st);
    t0 = now_s();
    gn_registry_refresh(r);
    double t_patch1000 = now_s() - t0;
    gn_registry_stats rs3;
    gn_registry_get_stats(r, &rs3);
    /* lookups */
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    uint64_t n = 0, found = 0, x = 1;
    double t1 = now_s(), t;
    do {
        for (int i = 0; i < 256; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int len = snprintf(id, sizeof id, "dev%llu", (unsigned long long)((x >> 20) % ndev));
            found += gn_reg_find_device(s, "bench1", 6, "sensor", 6, id, (size_t)len) != NULL;
        }
        n += 256;
    } while ((t = now_s()) - t1 < secs);
    printf("{\"bench\":\"snapshot\",\"devices\":%llu,\"import_s\":%.2f,\"open_s\":%.3f,\"open_cpu_s\":%.3f,"
           "\"full_build_ms\":%.1f,\"patch_1_change_ms\":%.2f,\"patch_1000_changes_ms\":%.1f,"
           "\"refresh_1000_changes_ms\":%.1f,\"rss_per_device_bytes\":%.0f,"
           "\"lookups_per_s\":%.0f,\"found\":%.3f}\n",
           (unsigned long long)ndev, t_import, t_open, c_open, (double)rs.last_build_us / 1000.0,
           (double)rs2.last_patch_us / 1000.0, (double)rs3.last_patch_us / 1000.0,
           t_patch1000 * 1000.0, (double)(rss1 - rss0) * 1024.0 / (double)ndev,
           (double)n / (t - t1), (double)found / (double)n);
    gn_registry_close(r);
    gn_store_close(st);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    uint64_t ndev = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    double secs = argc > 2 ? atof(argv[2]) : 1.0;
    const char *only = argc > 4 && !strcmp(argv[3], "--only") ? argv[4] : "";
    if (!*only || !strcmp(only, "tokens")) {
        static const uint32_t costs[] = {1, 64, 256, 1000, 10000};
        for (size_t i = 0; i < sizeof costs / sizeof costs[0]; i++)
            bench_cold(costs[i], secs);
        bench_openssl(EVP_sha512(), 64, 101, "mosquitto_passwd default: pbkdf2-sha512 (OpenSSL PKCS5_PBKDF2_HMAC)", secs);
        bench_openssl(EVP_sha256(), 32, 256, "pbkdf2-sha256 through OpenSSL PKCS5_PBKDF2_HMAC", secs);
        bench_cached(GN_REG_DEFAULT_ITERATIONS, secs);
    }
    if (!*only || !strcmp(only, "snapshot"))
        bench_snapshot(ndev, secs);
    return 0;
}
