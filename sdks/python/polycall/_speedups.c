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

/* ring_take(buffer, offset, size, head, max_frame_bytes) -> (head, body)
 *     Ring.poll then Ring.release (polycall/_shm.py) in C, with the same rules: the next
 *     record's frame bytes copied out as `body` (bytes) and its space freed at once (the head
 *     word stored, a release store), or None when the ring is empty (a skip marker may have
 *     been passed: `head` is the consumer's new head either way). A record breaking the rules of
 *     WIRE.md gives `body` as the str message of the ProtocolError the Python path raises. */
static PyObject *ring_take(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t offset, size;
    unsigned long long head;
    long long max_frame_bytes;
    if (!PyArg_ParseTuple(args, "w*nnKL:ring_take", &view, &offset, &size, &head,
                          &max_frame_bytes)) {
        return NULL;
    }
    if (offset < 0 || offset % 8 != 0 || size <= 0 || (size & (size - 1)) != 0 ||
        offset + HEADER_BYTES + size > view.len || ((uintptr_t)view.buf & 7) != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "ring_take: the ring is not within the buffer");
        return NULL;
    }
    char *header = (char *)view.buf + offset;
    const unsigned char *data = (const unsigned char *)header + HEADER_BYTES;
    const uint64_t *tail_word = (const uint64_t *)header;
    uint64_t *head_word = (uint64_t *)(header + HEAD_OFFSET);
    uint64_t usize = (uint64_t)size;
    uint64_t tail = __atomic_load_n(tail_word, __ATOMIC_ACQUIRE);
    PyObject *body = NULL;
    if (tail == head) {
        body = Py_NewRef(Py_None);
        goto done;
    }
    if (tail < head || tail - head > usize || (tail & 7) != 0) {
        body = PyUnicode_FromFormat("ring tail %llu is not within %zd bytes of head %llu",
                                    (unsigned long long)tail, size, head);
        goto done;
    }
    uint64_t pos = head & (usize - 1);
    uint32_t length = __atomic_load_n((const uint32_t *)(data + pos), __ATOMIC_RELAXED);
    if (length == SKIP_MARKER) {
        if (head + (usize - pos) > tail) {
            body = PyUnicode_FromString("a ring skip marker beyond the ring's tail");
            goto done; /* the head stays where it was, as in Python */
        }
        head += usize - pos;
        __atomic_store_n(head_word, (uint64_t)head, __ATOMIC_RELEASE);
        if (head == tail) {
            body = Py_NewRef(Py_None);
            goto done;
        }
        pos = 0;
        length = __atomic_load_n((const uint32_t *)data, __ATOMIC_RELAXED);
    }
    if (length == 0 || length > usize / 4 || (long long)length > max_frame_bytes) {
        body = PyUnicode_FromFormat("ring record length %lu (ring of %zd bytes)",
                                    (unsigned long)length, size);
        goto done;
    }
    uint64_t rec = ((uint64_t)length + 11) & ~(uint64_t)7;
    if (head + rec > tail || pos + rec > usize) {
        body = PyUnicode_FromFormat("ring record of %lu bytes runs beyond the ring's tail",
                                    (unsigned long)length);
        goto done;
    }
    body = PyBytes_FromStringAndSize((const char *)data + pos + 4, (Py_ssize_t)length);
    if (body == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    head += rec;
    __atomic_store_n(head_word, (uint64_t)head, __ATOMIC_RELEASE);
done:
    PyBuffer_Release(&view);
    if (body == NULL) {
        return NULL;
    }
    PyObject *h = PyLong_FromUnsignedLongLong(head);
    if (h == NULL) {
        Py_DECREF(body);
        return NULL;
    }
    PyObject *out = PyTuple_Pack(2, h, body);
    Py_DECREF(h);
    Py_DECREF(body);
    return out;
}

static PyMethodDef methods[] = {
    {"ring_take", ring_take, METH_VARARGS,
     "ring_take(buffer, offset, size, head, max_frame_bytes) -> (head, body): Ring.poll and "
     "Ring.release in C; body is bytes, None (empty) or a str (the ProtocolError's message)."},
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
