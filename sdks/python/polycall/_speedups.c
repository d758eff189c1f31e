/* Optional C helpers for the Python worker's shared-memory rings (spec/WIRE.md "Shared-memory
 * rings"; polycall/_shm.py has the layout). Built by `make -C sdks/python env` when a C compiler
 * and Python.h are there; without it (or with POLYCALL_SPEEDUPS=0) the pure-Python path runs,
 * and it is the behaviour reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* ring_offer(buffer, offset, size, tail, parts) -> int
 *     Ring.offer (polycall/_shm.py) in C, with the same rules and the same bytes: publishes the
 *     frame `parts` joined make (its 4-byte length prefix, as on the socket, then its body) as
 *     one record of the ring whose header is at `offset` of `buffer` (its data R = `size` bytes
 *     follow the 128-byte header); `tail` is the producer's own copy of the tail. 0, having
 *     written nothing, when the record exceeds R/4, the ring has no room or the consumer is
 *     asleep; -1 when a part is not bytes (the caller's Python path then publishes it); else
 *     the new tail, stored after the record's bytes (a release store). */
#define HEADER_BYTES 128
#define HEAD_OFFSET 64
#define AWAKE_OFFSET 72
#define SKIP_MARKER 0xFFFFFFFFu

static PyObject *ring_offer(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t offset, size;
    unsigned long long tail;
    PyObject *parts;
    if (!PyArg_ParseTuple(args, "w*nnKO!:ring_offer", &view, &offset, &size, &tail, &PyList_Type,
                          &parts)) {
        return NULL;
    }
    if (offset < 0 || offset % 8 != 0 || size <= 0 || (size & (size - 1)) != 0 ||
        offset + HEADER_BYTES + size > view.len || ((uintptr_t)view.buf & 7) != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "ring_offer: the ring is not within the buffer");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(parts);
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *p = PyList_GET_ITEM(parts, k);
        if (!PyBytes_Check(p)) {
            PyBuffer_Release(&view);
            return PyLong_FromLong(-1); /* not bytes: the caller's Python path publishes it */
        }
        total += PyBytes_GET_SIZE(p);
    }
    char *header = (char *)view.buf + offset;
    unsigned char *data = (unsigned char *)header + HEADER_BYTES;
    uint64_t *tail_word = (uint64_t *)header;
    const uint64_t *head_word = (const uint64_t *)(header + HEAD_OFFSET);
    const uint32_t *awake_word = (const uint32_t *)(header + AWAKE_OFFSET);
    long long length = (long long)total - 4;
    long long rec = (length + 11) & ~7LL;
    uint64_t published = 0;
    if (length > 0 && rec <= size / 4 && __atomic_load_n(awake_word, __ATOMIC_RELAXED) != 0) {
        uint64_t head = __atomic_load_n(head_word, __ATOMIC_ACQUIRE);
        uint64_t used = tail - head;
        /* tail - head < 0 in Python: the unsigned difference is then huge, beyond size. */
        if (used <= (uint64_t)size) {
            uint64_t pos = tail & (uint64_t)(size - 1);
            uint64_t pad = pos + (uint64_t)rec > (uint64_t)size ? (uint64_t)size - pos : 0;
            if (pad + (uint64_t)rec <= (uint64_t)size - used) {
                if (pad) {
                    __atomic_store_n((uint32_t *)(data + pos), SKIP_MARKER, __ATOMIC_RELAXED);
                    pos = 0;
                }
                /* The parts go in whole, their big-endian prefix where the record's length
                 * goes, which then overwrites it (as in Python). */
                unsigned char *at = data + pos;
                for (Py_ssize_t k = 0; k < n; k++) {
                    PyObject *p = PyList_GET_ITEM(parts, k);
                    Py_ssize_t m = PyBytes_GET_SIZE(p);
                    memcpy(at, PyBytes_AS_STRING(p), (size_t)m);
                    at += m;
                }
                __atomic_store_n((uint32_t *)(data + pos), (uint32_t)length, __ATOMIC_RELAXED);
                published = tail + pad + (uint64_t)rec;
                __atomic_store_n(tail_word, published, __ATOMIC_RELEASE);
            }
        }
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(published);
}

static PyMethodDef methods[] = {
    {"ring_offer", ring_offer, METH_VARARGS,
     "ring_offer(buffer, offset, size, tail, parts) -> int: Ring.offer in C; the new tail, or 0 "
     "when nothing was published, -1 when a part is not bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "polycall._speedups", "Optional C helpers for the shared-memory rings.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
