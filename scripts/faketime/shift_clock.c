/* A preload that moves CLOCK_REALTIME (clock_gettime, gettimeofday, time) by SHIFT_CLOCK_S seconds,
 * for programs libfaketime cannot load into: redis-server links jemalloc, whose start-up reads the
 * clock before libfaketime can initialise (libfaketime issue #130, "Unexpected recursive calls to
 * clock_gettime()"). It asks the kernel directly (no dlsym, no malloc), so it is safe that early.
 * Monotonic clocks are left alone. Used only by scripts/faketime-suite.sh. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long shift_s;

__attribute__((constructor)) static void shift_init(void) {
  const char *s = getenv("SHIFT_CLOCK_S");
  shift_s = s ? atoll(s) : 0;
}

static int is_realtime(clockid_t id) {
  return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  long r = syscall(SYS_clock_gettime, id, ts);
  if (r == 0 && ts && is_realtime(id)) ts->tv_sec += shift_s;
  return (int)r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  struct timespec ts;
  (void)tz;
  if (!tv) return 0;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

time_t time(time_t *t) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
  if (t) *t = ts.tv_sec;
  return ts.tv_sec;
}
