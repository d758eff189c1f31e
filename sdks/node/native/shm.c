// The one thing Node cannot do by itself for the shared-memory rings (spec/WIRE.md, "Shared-memory
// rings"): map a file read-write and shared. `map(path)` returns the whole file as an external
// ArrayBuffer; the ring logic (src/shm.js) works on it with typed arrays and Atomics, and the
// mapping goes away (munmap) when the ArrayBuffer is collected. Besides, `yield()` gives the core
// away between polls. Nothing else lives here: the addon has no state and no threads.
//
// Built with plain cc against Node's own node_api.h (see the Makefile); Node-API keeps it
// binary-compatible across Node versions.

#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// Longer than any path the hub makes (a socket directory plus a short name); a longer one is
// refused rather than truncated.
#define MAX_PATH 4096

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

// Throws an Error saying what failed on which path, and why.
static napi_value fail(napi_env env, const char *what, const char *path, int err) {
  char msg[MAX_PATH + 128];
  snprintf(msg, sizeof msg, "%s %s: %s", what, path, err ? strerror(err) : "unexpected");
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value map_file(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, NULL, "map(path): path must be a string");
    return NULL;
  }
  char path[MAX_PATH];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return NULL;
  if (len == 0 || len >= sizeof path - 1 || strlen(path) != len) {
    napi_throw_range_error(env, NULL, "map(path): path is empty, too long or contains NUL");
    return NULL;
  }
  // O_NOFOLLOW: the hub names a regular file it made; a symlink there is not ours to follow.
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail(env, "cannot open", path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return fail(env, "cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    napi_throw_error(env, NULL, "map(path): not a regular, non-empty file");
    return NULL;
  }
  size_t size = (size_t)st.st_size;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);  // the mapping keeps the file; the hub may unlink it from now on
  if (p == MAP_FAILED) return fail(env, "cannot map", path, err);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, p, size, unmap, (void *)(uintptr_t)size, &buffer) != napi_ok) {
    munmap(p, size);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    // A Node built with the V8 sandbox refuses external buffers: the caller falls back to the socket.
    if (!pending) napi_throw_error(env, NULL, "map(path): this Node refuses external ArrayBuffers");
    return NULL;
  }
  return buffer;
}

// `yield()`: sched_yield(2), for the polling loop. A poller that spins without it holds its core
// for its whole window while the thread it waits for (the hub's, on a machine with more busy
// threads than cores) may be runnable on that very core.
static napi_value yield_cpu(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  sched_yield();
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "map", NAPI_AUTO_LENGTH, map_file, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "map", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "yield", NAPI_AUTO_LENGTH, yield_cpu, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "yield", fn) != napi_ok) return NULL;
  return exports;
}
