/* See polycalltest.h for what each function does and why it exists. */
#define _POSIX_C_SOURCE 200809L
#include "polycalltest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local const char *last_error = "";

const char *pc_last_error(void) { return last_error; }

int32_t add_i32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
int64_t add_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
double mul_f64(double a, double b) { return a * b; }
int8_t negate_i8(int8_t x) { return (int8_t)-x; }
bool is_positive(double x) { return x > 0; }
uint64_t utf8_len(const char *s) { return strlen(s); }
int64_t maybe_len(const char *s) { return s == NULL ? -1 : (int64_t)strlen(s); }

double sum_f64(const double *xs, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += xs[i];
  return s;
}

uint64_t byte_sum(const uint8_t *data, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) s += data[i];
  return s;
}

int32_t checked_div(int64_t a, int64_t b, int64_t *out) {
  if (b == 0) {
    last_error = "division by zero";
    errno = EDOM;
    return EDOM;
  }
  if (a == INT64_MIN && b == -1) {
    last_error = "overflow: INT64_MIN / -1";
    errno = ERANGE;
    return ERANGE;
  }
  *out = a / b;
  return 0;
}

int64_t apply(int64_t (*f)(int64_t), int64_t x) { return f(x); }
/* The square root is one instruction so that the library needs no -lm (the Makefile links
 * nothing extra) and loads in any process, not only one that already has libm. */
static double root(double v) {
#if defined(__x86_64__)
  double r;
  __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(v));
  return r;
#elif defined(__aarch64__)
  double r;
  __asm__("fsqrt %d0, %d1" : "=w"(r) : "w"(v));
  return r;
#else
  double r = v > 1 ? v : 1; /* Newton: converges for v >= 0 */
  for (int i = 0; i < 64; i++) r = (r + v / r) / 2;
  return r;
#endif
}

double norm(Point p) { return root(p.x * p.x + p.y * p.y); }

Point midpoint(Point a, Point b) {
  Point m = {(a.x + b.x) / 2, (a.y + b.y) / 2};
  return m;
}

void sleep_ms(int64_t ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

Mixed pc_mixed_bump(Mixed m) {
  Mixed r = {(int8_t)(m.a + 1), m.b + 1, m.c + 1};
  return r;
}

double pc_mixed_sum_ptr(const Mixed *m) { return m->a + (double)m->b + m->c; }

int32_t pc_divmod(int32_t a, int32_t b, int32_t *q, int32_t *r) {
  *q = a / b;
  *r = a % b;
  return 0;
}

void pc_scale_point(const Point *in, double k, Point *out) {
  out->x = in->x * k;
  out->y = in->y * k;
}

void pc_scale(double *xs, size_t n, double k) {
  for (size_t i = 0; i < n; i++) xs[i] *= k;
}

int64_t pc_bump(int64_t *counter, int64_t by) {
  int64_t old = *counter;
  *counter += by;
  return old;
}

size_t pc_iota(int32_t *out, size_t n, int32_t start) {
  for (size_t i = 0; i < n; i++) out[i] = start + (int32_t)i;
  return n;
}

double pc_apply_f64(double (*f)(double), double x) { return f(x); }

int64_t pc_reduce(const int64_t *xs, size_t n, int64_t init, int64_t (*f)(int64_t, int64_t)) {
  int64_t acc = init;
  for (size_t i = 0; i < n; i++) acc = f(acc, xs[i]);
  return acc;
}

int32_t pc_count_if(const double *xs, size_t n, bool (*pred)(const double *)) {
  int32_t count = 0;
  for (size_t i = 0; i < n; i++) count += pred(&xs[i]) ? 1 : 0;
  return count;
}

int32_t pc_open_thing(const char *name) {
  if (strcmp(name, "missing") == 0) {
    errno = ENOENT;
    return -1;
  }
  return 3;
}

const char *pc_greeting(void) { return "hello from C"; }
const char *pc_maybe_null(bool give) { return give ? "given" : NULL; }

int64_t *pc_counter_new(int64_t start) {
  int64_t *c = malloc(sizeof *c);
  if (c != NULL) *c = start;
  return c;
}

int64_t pc_counter_add(int64_t *c, int64_t by) { return *c += by; }
void pc_counter_free(int64_t *c) { free(c); }

double pc_widths(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, int64_t g,
                 uint64_t h, float i) {
  return (double)a + b + c + d + e + f + (double)g + (double)h + i;
}

uint8_t pc_u8_max(void) { return UINT8_MAX; }
uint16_t pc_u16_max(void) { return UINT16_MAX; }
uint32_t pc_u32_max(void) { return UINT32_MAX; }
uint64_t pc_u64_max(void) { return UINT64_MAX; }
