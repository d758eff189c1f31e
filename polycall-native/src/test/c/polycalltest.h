/*
 * polycalltest: the project's own C library for testing the native bridge (polycall-native).
 *
 * Two groups of functions:
 *   - the conformance functions (add_i32 ... sleep_ms) that every bridge implements with the
 *     same semantics, bound under the prefix "cconf" by NativeConformanceFunctions;
 *   - pc_* functions exercising one native feature each: structs by value with mixed
 *     alignment, out-params, callbacks, error returns with errno, in-out buffers.
 *
 * Every function is thread-safe; the last error message is thread-local.
 */
#ifndef POLYCALLTEST_H
#define POLYCALLTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * struct Point, 16 bytes, align 8:
 *
 *   0        8        16
 *   +--------+--------+
 *   |   x    |   y    |   double, double
 *   +--------+--------+
 */
typedef struct Point {
  double x;
  double y;
} Point;

/*
 * struct Mixed, 24 bytes, align 8: the padding is the point of it.
 *
 *   0    1               8                16       20       24
 *   +----+---------------+----------------+--------+--------+
 *   | a  |  pad (7)      |       b        |   c    | pad(4) |
 *   +----+---------------+----------------+--------+--------+
 *    int8                  int64            float
 */
typedef struct Mixed {
  int8_t a;
  int64_t b;
  float c;
} Mixed;

/* ---- conformance ---- */
int32_t add_i32(int32_t a, int32_t b);
int64_t add_i64(int64_t a, int64_t b);
double mul_f64(double a, double b);
int8_t negate_i8(int8_t x);
bool is_positive(double x);
uint64_t utf8_len(const char *s);
int64_t maybe_len(const char *s); /* -1 for NULL */
double sum_f64(const double *xs, size_t n);
uint64_t byte_sum(const uint8_t *data, size_t n);
/* 0 and *out = a / b, or EDOM with errno = EDOM and pc_last_error() = "division by zero". */
int32_t checked_div(int64_t a, int64_t b, int64_t *out);
int64_t apply(int64_t (*f)(int64_t), int64_t x);
double norm(Point p);
Point midpoint(Point a, Point b);
void sleep_ms(int64_t ms);

/* ---- features ---- */
const char *pc_last_error(void);
/* Every field + 1 (a + 1, b + 1, c + 1), by value in and out. */
Mixed pc_mixed_bump(Mixed m);
/* a + b + c as a double, read through a pointer. */
double pc_mixed_sum_ptr(const Mixed *m);
/* Out-params: *q = a / b, *r = a % b; returns 0 (b is never 0 in the tests). */
int32_t pc_divmod(int32_t a, int32_t b, int32_t *q, int32_t *r);
/* Writes the point (x, y) scaled by k into *out. */
void pc_scale_point(const Point *in, double k, Point *out);
/* In-out buffer: xs[i] *= k. */
void pc_scale(double *xs, size_t n, double k);
/* In-out scalar: *counter += by, returns the old value. */
int64_t pc_bump(int64_t *counter, int64_t by);
/* Fills out[0..n) with start, start+1, ...; returns n. */
size_t pc_iota(int32_t *out, size_t n, int32_t start);
/* Callbacks. */
double pc_apply_f64(double (*f)(double), double x);
int64_t pc_reduce(const int64_t *xs, size_t n, int64_t init, int64_t (*f)(int64_t, int64_t));
/* Calls f once per element with a pointer to it; returns how many calls returned true. */
int32_t pc_count_if(const double *xs, size_t n, bool (*pred)(const double *));
/* Error returns: a negative result and errno = ENOENT when name is "missing". */
int32_t pc_open_thing(const char *name);
/* Strings. */
const char *pc_greeting(void);   /* static storage: "hello from C" */
const char *pc_maybe_null(bool give); /* NULL unless give */
/* Pointers as handles: a counter on the heap. */
int64_t *pc_counter_new(int64_t start);
int64_t pc_counter_add(int64_t *c, int64_t by);
void pc_counter_free(int64_t *c);
/* Every integer width and sign, summed as a double. */
double pc_widths(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, int64_t g,
                 uint64_t h, float i);
uint8_t pc_u8_max(void);
uint16_t pc_u16_max(void);
uint32_t pc_u32_max(void);
uint64_t pc_u64_max(void);

#endif
