/* Optional C helpers for the Python worker's shared-memory rings (spec/WIRE.md "Shared-memory
 * rings"; polycall/_shm.py has the layout). Built by `make -C sdks/python env` when a C compiler
 * and Python.h are there; without it (or with POLYCALL_SPEEDUPS=0) the pure-Python path runs,
 * and it is the behaviour reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <structmember.h>

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The ring header (polycall/_shm.py has the layout). */
#define HEADER_BYTES 128
#define HEAD_OFFSET 64
#define AWAKE_OFFSET 72
#define SKIP_MARKER 0xFFFFFFFFu

typedef struct {
    const unsigned char *p;
    size_t n;
} piece;

/* Ring.offer of a record made of `pieces` joined (the length prefix first): the new tail, or 0
 * when nothing was published (too big, no room, consumer asleep). */
static uint64_t publish(char *header, Py_ssize_t size, uint64_t tail, const piece *pieces,
                        int count) {
    unsigned char *data = (unsigned char *)header + HEADER_BYTES;
    long long total = 0;
    for (int k = 0; k < count; k++) {
        total += (long long)pieces[k].n;
    }
    long long length = total - 4;
    long long rec = (length + 11) & ~7LL;
    if (length <= 0 || rec > size / 4 ||
        __atomic_load_n((const uint32_t *)(header + AWAKE_OFFSET), __ATOMIC_RELAXED) == 0) {
        return 0;
    }
    uint64_t head = __atomic_load_n((const uint64_t *)(header + HEAD_OFFSET), __ATOMIC_ACQUIRE);
    uint64_t used = tail - head;
    if (used > (uint64_t)size) {
        return 0; /* a head the consumer cannot have written: keep out of its way */
    }
    uint64_t pos = tail & (uint64_t)(size - 1);
    uint64_t pad = pos + (uint64_t)rec > (uint64_t)size ? (uint64_t)size - pos : 0;
    if (pad + (uint64_t)rec > (uint64_t)size - used) {
        return 0;
    }
    if (pad) {
        __atomic_store_n((uint32_t *)(data + pos), SKIP_MARKER, __ATOMIC_RELAXED);
        pos = 0;
    }
    /* The pieces go in whole, the frame's big-endian prefix where the record's length goes,
     * which then overwrites it (as in Python). */
    unsigned char *at = data + pos;
    for (int k = 0; k < count; k++) {
        memcpy(at, pieces[k].p, pieces[k].n);
        at += pieces[k].n;
    }
    __atomic_store_n((uint32_t *)(data + pos), (uint32_t)length, __ATOMIC_RELAXED);
    uint64_t published = tail + pad + (uint64_t)rec;
    __atomic_store_n((uint64_t *)header, published, __ATOMIC_RELEASE);
    return published;
}

/* ring_offer(buffer, offset, size, tail, parts) -> int
 *     Ring.offer (polycall/_shm.py) in C, with the same rules and the same bytes: publishes the
 *     frame `parts` joined make (its 4-byte length prefix, as on the socket, then its body) as
 *     one record of the ring whose header is at `offset` of `buffer` (its data R = `size` bytes
 *     follow the 128-byte header); `tail` is the producer's own copy of the tail. 0, having
 *     written nothing, when the record exceeds R/4, the ring has no room or the consumer is
 *     asleep; -1 when a part is not bytes (the caller's Python path then publishes it); else
 *     the new tail, stored after the record's bytes (a release store). */

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
    piece few[8], *pieces = n <= 8 ? few : PyMem_New(piece, (size_t)n);
    if (pieces == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *p = PyList_GET_ITEM(parts, k);
        if (!PyBytes_Check(p)) {
            if (pieces != few) {
                PyMem_Free(pieces);
            }
            PyBuffer_Release(&view);
            return PyLong_FromLong(-1); /* not bytes: the caller's Python path publishes it */
        }
        pieces[k].p = (const unsigned char *)PyBytes_AS_STRING(p);
        pieces[k].n = (size_t)PyBytes_GET_SIZE(p);
    }
    uint64_t published = publish((char *)view.buf + offset, size, tail, pieces, (int)n);
    if (pieces != few) {
        PyMem_Free(pieces);
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


/* ---- The C fast path of a call (FastPath) ------------------------------------------------------
 *
 * What polycall/_conn.py does for a sync call read from the ring (Wire._ring_or_socket_frame,
 * Connection._take_inline, _serve_sync, _deliver), in C for the common case: a record that is a
 * Frame{call} with no deadline, whose arguments are all null, bool, int, uint, float, string or
 * bytes values of the default width, calling a sync function of the registry. The protobuf
 * reader below reads only that shape; any other record, and any rule it is not sure of, is
 * "not ours" and goes to the Python path whole (which parses it with protobuf and reports the
 * errors): the fast path never answers differently from the Python path, it only skips work.
 *
 * The bookkeeping stays that of the Python path, made from C: the call gets its CallContext
 * and _Serving (the dataclasses, filled field by field through their slot descriptors, as their
 * __init__ would) and is in Connection._serving while it runs, so Cancel, nested calls
 * (polycall.current(), polycall.call), draining and the end of the connection see it as any
 * call; the reader's leader/follower state (_busy, _running...) is kept by _reader_main in
 * Python around FastPath.run. A result the small encoder would write (codec.small_value_encoder)
 * is written here to the same bytes; any other result, and an exception, goes back to Python.
 */

#define MAX_FAST_ARGS 16
#define SMALL_SCALAR 4096 /* codec.SMALL_SCALAR */
/* Result kinds (codec.small_value_kind): how a function's result is written, by its type. */
#define K_NONE 0   /* no small values: Python encodes every result */
#define K_ANY 1
#define K_NULL 2
#define K_BOOL 3
#define K_F64 4
#define K_F32 5
#define K_STRING 6
#define K_BYTES 7
#define K_INT 16 /* + the Scalar enum of an int type: I8 = 2 ... U64 = 9 */
#define K_OPTIONAL 256

typedef struct {
    PyObject_HEAD
    Py_buffer view; /* the rings file, held while this lives */
    int has_view;
    Py_ssize_t in_offset, out_offset, size;
    long long max_frame_bytes;
    PyObject *in_ring, *out_ring; /* the Python Rings: their _head/_pending and _tail */
    PyObject *wire;               /* Wire: _last and ring_stats, as Wire.send keeps them */
    PyObject *registry;           /* functions._registry: name -> Function */
    PyObject *serving;            /* Connection._serving */
    PyObject *conn;
    PyObject *ctx_type, *ctx_fields, *serving_type, *serving_fields;
    PyObject *current; /* the ContextVar of the current call */
    PyObject *parse;   /* _shm._ring_frame: the Python path of a record */
    PyObject *error;   /* ProtocolError */
    PyObject *rlock_acquire, *rlock_release, *alock_acquire, *alock_release;
    PyObject *last_name; /* the str of the last function name read, to reuse */
    unsigned long long calls;
} FastPath;

static PyObject *s_head, *s_pending, *s_tail, *s_fast, *s_last, *s_ring_stats;

/* A varint at *pp (at most 10 bytes, the 10th at most 1, as a uint64 takes); 0 when it breaks
 * a rule or runs past `end`. */
static int read_varint(const unsigned char **pp, const unsigned char *end, uint64_t *out) {
    const unsigned char *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && p < end; shift += 7) {
        unsigned char b = *p++;
        if (shift == 63 && b > 1) {
            return 0;
        }
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* A length-delimited field's bytes: [*start, *start + *n). */
static int read_len(const unsigned char **pp, const unsigned char *end, const unsigned char **start,
                    size_t *n) {
    uint64_t len;
    if (!read_varint(pp, end, &len) || len > (uint64_t)(end - *pp)) {
        return 0;
    }
    *start = *pp;
    *n = (size_t)len;
    *pp += len;
    return 1;
}

/* A UTF-8 string as str; NULL and no exception set when it is not valid UTF-8 (Python's strict
 * decoder refuses what protobuf's check refuses: surrogates, overlong forms...). */
static PyObject *utf8_or_not_ours(const unsigned char *p, size_t n) {
    PyObject *s = PyUnicode_DecodeUTF8((const char *)p, (Py_ssize_t)n, NULL);
    if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
    }
    return s;
}

/* The Python value of a serialized Value of a simple kind, as codec._decode gives it (width
 * unset); NULL with no exception set when the bytes hold anything else: not ours. */
static PyObject *simple_value(const unsigned char *p, const unsigned char *end) {
    int kind = 0;
    uint64_t iv = 0;
    const unsigned char *sp = NULL;
    size_t sn = 0;
    while (p < end) {
        uint64_t tag, v;
        if (!read_varint(&p, end, &tag) || tag > 0xFFFFFFFFu) {
            return NULL;
        }
        unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (field >= 1 && field <= 4 && wt == 0) {
            if (kind || !read_varint(&p, end, &iv)) {
                return NULL; /* a second kind: protobuf keeps the last; Python decides */
            }
            kind = (int)field;
        } else if (field == 5 && wt == 1) {
            if (kind || end - p < 8) {
                return NULL;
            }
            memcpy(&iv, p, 8); /* little-endian on the machines this builds for */
            p += 8;
            kind = 5;
        } else if ((field == 6 || field == 7) && wt == 2) {
            if (kind || !read_len(&p, end, &sp, &sn)) {
                return NULL;
            }
            kind = (int)field;
        } else if (field == 14 && wt == 0) {
            if (!read_varint(&p, end, &v) || v != 0) {
                return NULL; /* a width: codec._decode checks it */
            }
        } else {
            return NULL; /* lists, maps, structs, arrays, handles, fns, unknown fields */
        }
    }
    switch (kind) {
    case 1:
        return iv == 0 ? Py_NewRef(Py_None) : NULL; /* another null_value is an error there */
    case 2:
        return PyBool_FromLong(iv != 0);
    case 3:
        return PyLong_FromLongLong((long long)((iv >> 1) ^ (~(iv & 1) + 1)));
    case 4:
        return PyLong_FromUnsignedLongLong(iv);
    case 5: {
        double d;
        memcpy(&d, &iv, 8);
        return PyFloat_FromDouble(d);
    }
    case 6:
        return utf8_or_not_ours(sp, sn);
    case 7:
        return PyBytes_FromStringAndSize((const char *)sp, (Py_ssize_t)sn);
    default:
        return NULL; /* no kind: an error there */
    }
}

/* A new instance of a slots dataclass, its fields set through their descriptors in order. */
static PyObject *new_record(PyObject *type, PyObject *fields, PyObject **values) {
    PyTypeObject *tp = (PyTypeObject *)type;
    PyObject *obj = tp->tp_alloc(tp, 0);
    if (obj == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(fields, i);
        if (Py_TYPE(d)->tp_descr_set(d, obj, values[i]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

/* The metadata map of a Call, added to `dict` (a MapEntry{1: key, 2: value}). 1 done, 0 not
 * ours, -1 error. */
static int add_metadata(PyObject *dict, const unsigned char *p, const unsigned char *end) {
    const unsigned char *k = (const unsigned char *)"", *v = (const unsigned char *)"";
    size_t kn = 0, vn = 0;
    while (p < end) {
        uint64_t tag;
        if (!read_varint(&p, end, &tag)) {
            return 0;
        }
        if (tag == (1 << 3 | 2)) {
            if (!read_len(&p, end, &k, &kn)) {
                return 0;
            }
        } else if (tag == (2 << 3 | 2)) {
            if (!read_len(&p, end, &v, &vn)) {
                return 0;
            }
        } else {
            return 0;
        }
    }
    PyObject *key = utf8_or_not_ours(k, kn);
    if (key == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *val = utf8_or_not_ours(v, vn);
    if (val == NULL) {
        Py_DECREF(key);
        return PyErr_Occurred() ? -1 : 0;
    }
    int rc = PyDict_SetItem(dict, key, val); /* a repeated key: the last wins, as in protobuf */
    Py_DECREF(key);
    Py_DECREF(val);
    return rc < 0 ? -1 : 1;
}

/* The prepared call of a record, (serving, ctx, fn, args, call_id, kind, function), registered
 * in _serving; Py_None when the record is not ours; NULL on error. */
static PyObject *prepare(FastPath *self, const unsigned char *body, size_t length) {
    const unsigned char *p = body, *end = body + length, *name = NULL, *meta[MAX_FAST_ARGS];
    const unsigned char *args_at[MAX_FAST_ARGS], *args_end[MAX_FAST_ARGS], *meta_end[MAX_FAST_ARGS];
    size_t name_n = 0;
    uint64_t call_id = 0, len;
    int nargs = 0, nmeta = 0, have_id = 0;
    if (length < 2 || *p++ != (4 << 3 | 2) || !read_varint(&p, end, &len) ||
        len != (uint64_t)(end - p)) {
        Py_RETURN_NONE; /* not a Frame holding only a Call */
    }
    while (p < end) {
        uint64_t tag, v;
        const unsigned char *s;
        size_t n;
        if (!read_varint(&p, end, &tag)) {
            Py_RETURN_NONE;
        }
        if (tag == (1 << 3 | 0) && !have_id) {
            if (!read_varint(&p, end, &call_id)) {
                Py_RETURN_NONE;
            }
            have_id = 1;
        } else if (tag == (2 << 3 | 2) && name == NULL) {
            if (!read_len(&p, end, &name, &name_n)) {
                Py_RETURN_NONE;
            }
        } else if (tag == (3 << 3 | 2) && nargs < MAX_FAST_ARGS) {
            if (!read_len(&p, end, &s, &n)) {
                Py_RETURN_NONE;
            }
            args_at[nargs] = s;
            args_end[nargs++] = s + n;
        } else if (tag == (4 << 3 | 0)) {
            if (!read_varint(&p, end, &v) || v != 0) {
                Py_RETURN_NONE; /* a deadline: the task path answers DEADLINE_EXCEEDED on time */
            }
        } else if (tag == (5 << 3 | 2) && nmeta < MAX_FAST_ARGS) {
            if (!read_len(&p, end, &s, &n)) {
                Py_RETURN_NONE;
            }
            meta[nmeta] = s;
            meta_end[nmeta++] = s + n;
        } else {
            Py_RETURN_NONE;
        }
    }
    /* Call id 0 and "name@version" are rare; Python's lookup and framing handle them. */
    if (call_id == 0 || name == NULL || name_n == 0 || memchr(name, '@', name_n) != NULL) {
        Py_RETURN_NONE;
    }
    PyObject *fname = self->last_name;
    if (fname == NULL || PyUnicode_GET_LENGTH(fname) != (Py_ssize_t)name_n ||
        !PyUnicode_IS_COMPACT_ASCII(fname) || memcmp(PyUnicode_DATA(fname), name, name_n) != 0) {
        fname = utf8_or_not_ours(name, name_n);
        if (fname == NULL) {
            return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
        }
        Py_XSETREF(self->last_name, fname);
    }
    /* functions.lookup(name) for a name without "@" is _registry.get(name). */
    PyObject *function = PyDict_GetItemWithError(self->registry, fname);
    if (function == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None); /* NOT_FOUND: Python says so */
    }
    Py_INCREF(function);
    PyObject *out = NULL, *fast = NULL, *key = NULL, *args = NULL, *meta_dict = NULL;
    PyObject *ctx = NULL, *serving = NULL;
    fast = PyObject_GetAttr(function, s_fast);
    if (fast == NULL) {
        goto done;
    }
    /* (fn, kind, parameters), or None for an async function. */
    if (!PyTuple_Check(fast) || PyTuple_GET_SIZE(fast) != 3 ||
        nargs > PyLong_AsLong(PyTuple_GET_ITEM(fast, 2))) {
        out = PyErr_Occurred() ? NULL : Py_NewRef(Py_None); /* too many: INVALID_ARGUMENT */
        goto done;
    }
    key = PyLong_FromUnsignedLongLong(call_id);
    if (key == NULL) {
        goto done;
    }
    int dup = PyDict_Contains(self->serving, key);
    if (dup != 0) {
        out = dup < 0 ? NULL : Py_NewRef(Py_None); /* in flight already: Python refuses it */
        goto done;
    }
    args = PyTuple_New(nargs);
    if (args == NULL) {
        goto done;
    }
    for (int i = 0; i < nargs; i++) {
        PyObject *a = simple_value(args_at[i], args_end[i]);
        if (a == NULL) {
            out = PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
            goto done;
        }
        PyTuple_SET_ITEM(args, i, a);
    }
    meta_dict = PyDict_New();
    if (meta_dict == NULL) {
        goto done;
    }
    for (int i = 0; i < nmeta; i++) {
        int rc = add_metadata(meta_dict, meta[i], meta_end[i]);
        if (rc <= 0) {
            out = rc < 0 ? NULL : Py_NewRef(Py_None);
            goto done;
        }
    }
    /* Everything read: from here on the call is ours. */
    PyObject *ctx_values[] = {self->conn, key, fname, Py_None, meta_dict, Py_False, Py_None};
    ctx = new_record(self->ctx_type, self->ctx_fields, ctx_values);
    if (ctx == NULL) {
        goto done;
    }
    PyObject *serving_values[] = {ctx, Py_None, Py_False};
    serving = new_record(self->serving_type, self->serving_fields, serving_values);
    if (serving == NULL || PyDict_SetItem(self->serving, key, serving) < 0) {
        goto done;
    }
    out = PyTuple_Pack(7, serving, ctx, PyTuple_GET_ITEM(fast, 0), args, key,
                       PyTuple_GET_ITEM(fast, 1), function);
    if (out == NULL) {
        PyDict_DelItem(self->serving, key); /* keep _serving as it was */
    } else {
        self->calls++;
    }
done:
    Py_DECREF(function);
    Py_XDECREF(fast);
    Py_XDECREF(key);
    Py_XDECREF(args);
    Py_XDECREF(meta_dict);
    Py_XDECREF(ctx);
    Py_XDECREF(serving);
    return out;
}

static int get_u64(PyObject *obj, PyObject *name, uint64_t *out) {
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL) {
        return -1;
    }
    *out = PyLong_AsUnsignedLongLong(v);
    Py_DECREF(v);
    return (*out == (uint64_t)-1 && PyErr_Occurred()) ? -1 : 0;
}

static int set_u64(PyObject *obj, PyObject *name, uint64_t value) {
    PyObject *v = PyLong_FromUnsignedLongLong(value);
    if (v == NULL) {
        return -1;
    }
    int rc = PyObject_SetAttr(obj, name, v);
    Py_DECREF(v);
    return rc;
}

/* FastPath.take(max_frame_bytes) -> Frame | tuple | None
 *     Ring.take (polycall/_shm.py) of the incoming ring, the ring's head kept in its Ring, except
 *     that a call the fast path serves comes back prepared (a tuple, see prepare; FastPath.run
 *     runs it): no protobuf message is made for it. ProtocolError as Ring.take raises it. */
static PyObject *fp_take(FastPath *self, PyObject *arg) {
    long long max_frame_bytes = PyLong_AsLongLong(arg);
    uint64_t head;
    if (max_frame_bytes == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (get_u64(self->in_ring, s_head, &head) < 0) {
        return NULL;
    }
    char *header = (char *)self->view.buf + self->in_offset;
    const unsigned char *data = (const unsigned char *)header + HEADER_BYTES;
    uint64_t *head_word = (uint64_t *)(header + HEAD_OFFSET);
    uint64_t usize = (uint64_t)self->size, start = head;
    uint64_t tail = __atomic_load_n((const uint64_t *)header, __ATOMIC_ACQUIRE);
    PyObject *out = NULL, *message = NULL;
    if (tail == head) {
        Py_RETURN_NONE;
    }
    if (tail < head || tail - head > usize || (tail & 7) != 0) {
        message = PyUnicode_FromFormat("ring tail %llu is not within %zd bytes of head %llu",
                                       (unsigned long long)tail, self->size,
                                       (unsigned long long)head);
        goto done;
    }
    uint64_t pos = head & (usize - 1);
    uint32_t length = __atomic_load_n((const uint32_t *)(data + pos), __ATOMIC_RELAXED);
    if (length == SKIP_MARKER) {
        if (head + (usize - pos) > tail) {
            message = PyUnicode_FromString("a ring skip marker beyond the ring's tail");
            goto done;
        }
        head += usize - pos;
        __atomic_store_n(head_word, head, __ATOMIC_RELEASE);
        if (head == tail) {
            out = Py_NewRef(Py_None);
            goto done;
        }
        pos = 0;
        length = __atomic_load_n((const uint32_t *)data, __ATOMIC_RELAXED);
    }
    if (length == 0 || length > usize / 4 || (long long)length > max_frame_bytes) {
        message = PyUnicode_FromFormat("ring record length %lu (ring of %zd bytes)",
                                       (unsigned long)length, self->size);
        goto done;
    }
    uint64_t rec = ((uint64_t)length + 11) & ~(uint64_t)7;
    if (head + rec > tail || pos + rec > usize) {
        message = PyUnicode_FromFormat("ring record of %lu bytes runs beyond the ring's tail",
                                       (unsigned long)length);
        goto done;
    }
    /* Read (and copied) before its space goes back to the hub. */
    const unsigned char *body = data + pos + 4;
    out = prepare(self, body, length);
    if (out == Py_None) {
        Py_DECREF(out);
        out = PyBytes_FromStringAndSize((const char *)body, (Py_ssize_t)length);
    }
    if (out == NULL) {
        goto done; /* memory: the record stays, as a failed ring_take leaves it */
    }
    head += rec;
    __atomic_store_n(head_word, head, __ATOMIC_RELEASE);
done:
    if (head != start && (set_u64(self->in_ring, s_head, head) < 0 ||
                          set_u64(self->in_ring, s_pending, head) < 0)) {
        Py_CLEAR(out);
    }
    if (message != NULL) {
        if (out == NULL && !PyErr_Occurred()) {
            PyErr_SetObject(self->error, message);
        }
        Py_DECREF(message);
        return NULL;
    }
    if (out != NULL && PyBytes_CheckExact(out)) {
        Py_SETREF(out, PyObject_CallOneArg(self->parse, out));
    }
    return out;
}

/* The bytes of the Value `v` as codec.small_value_encoder writes it for a result of `kind`
 * (K_*): up to 24 bytes into `vb`, then `*pn` bytes at `*pl` (a str's UTF-8 or a bytes' data,
 * owned by `v`). 1 written, 0 not a small value (Python writes it, or reports the error). */
static int small_value(long kind, PyObject *v, unsigned char *vb, size_t *vn,
                       const unsigned char **pl, size_t *pn) {
    unsigned char *w = vb;
    *pl = NULL;
    *pn = 0;
    if (kind & K_OPTIONAL) {
        if (v == Py_None) {
            kind = K_NULL;
        } else {
            kind &= ~K_OPTIONAL;
        }
    }
    if (kind == K_ANY) {
        if (v == Py_None) {
            kind = K_NULL;
        } else if (PyBool_Check(v)) {
            kind = K_BOOL;
        } else if (PyLong_CheckExact(v)) {
            int overflow;
            (void)PyLong_AsLongLongAndOverflow(v, &overflow);
            if (overflow < 0) {
                return 0;
            }
            kind = overflow == 0 ? K_INT + 5 : K_INT + 9; /* i64, else u64 (checked below) */
        } else if (PyFloat_CheckExact(v)) {
            kind = K_F64;
        } else if (PyUnicode_CheckExact(v)) {
            kind = K_STRING;
        } else if (PyBytes_CheckExact(v)) {
            kind = K_BYTES;
        } else {
            return 0;
        }
    }
    if (kind == K_NULL) {
        if (v != Py_None) {
            return 0;
        }
        *w++ = 0x08;
        *w++ = 0x00;
    } else if (kind == K_BOOL) {
        if (!PyBool_Check(v)) {
            return 0;
        }
        *w++ = 0x10;
        *w++ = v == Py_True ? 1 : 0;
    } else if (kind == K_F64 || kind == K_F32) {
        if (!PyFloat_CheckExact(v)) {
            return 0;
        }
        double d = PyFloat_AS_DOUBLE(v);
        if (kind == K_F32) {
            if (isfinite(d) && fabs(d) > 3.4028234663852886e38) {
                return 0;
            }
            d = (double)(float)d; /* struct's "<f" round trip */
        }
        *w++ = 0x29;
        memcpy(w, &d, 8);
        w += 8;
        if (kind == K_F32) {
            *w++ = 0x70;
            *w++ = 10; /* F32 */
        }
    } else if (kind > K_INT && kind <= K_INT + 9) {
        int e = (int)(kind - K_INT);
        if (!PyLong_CheckExact(v)) {
            return 0;
        }
        uint64_t u;
        if (e <= 5) { /* I8 I16 I32 I64 */
            int overflow;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (x == -1 && PyErr_Occurred()) {
                return -1;
            }
            int bits = e == 2 ? 8 : e == 3 ? 16 : e == 4 ? 32 : 64;
            if (overflow || (bits < 64 && (x < -(1LL << (bits - 1)) || x >= (1LL << (bits - 1))))) {
                return 0;
            }
            u = ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
            *w++ = 0x18;
        } else { /* U8 U16 U32 U64 */
            u = PyLong_AsUnsignedLongLong(v);
            if (u == (uint64_t)-1 && PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
                    return -1;
                }
                PyErr_Clear(); /* negative, or beyond 64 bits */
                return 0;
            }
            int bits = e == 6 ? 8 : e == 7 ? 16 : e == 8 ? 32 : 64;
            if (bits < 64 && u >= (1ULL << bits)) {
                return 0;
            }
            *w++ = 0x20;
        }
        while (u >= 0x80) {
            *w++ = (unsigned char)(u | 0x80);
            u >>= 7;
        }
        *w++ = (unsigned char)u;
        if (e != 5 && e != 9) {
            *w++ = 0x70;
            *w++ = (unsigned char)e;
        }
    } else if (kind == K_STRING || kind == K_BYTES) {
        const char *s;
        Py_ssize_t n;
        if (kind == K_STRING) {
            if (!PyUnicode_CheckExact(v) || PyUnicode_GET_LENGTH(v) > SMALL_SCALAR) {
                return 0;
            }
            s = PyUnicode_AsUTF8AndSize(v, &n);
            if (s == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                    return -1;
                }
                PyErr_Clear(); /* a lone surrogate: protobuf's path reports it */
                return 0;
            }
            *w++ = 0x32;
        } else {
            if (!PyBytes_CheckExact(v) || PyBytes_GET_SIZE(v) > SMALL_SCALAR) {
                return 0;
            }
            s = PyBytes_AS_STRING(v);
            n = PyBytes_GET_SIZE(v);
            *w++ = 0x3A;
        }
        uint64_t u = (uint64_t)n;
        while (u >= 0x80) {
            *w++ = (unsigned char)(u | 0x80);
            u >>= 7;
        }
        *w++ = (unsigned char)u;
        *pl = (const unsigned char *)s;
        *pn = (size_t)n;
    } else {
        return 0; /* K_NONE */
    }
    *vn = (size_t)(w - vb);
    return 1;
}

static unsigned char *put_varint(unsigned char *w, uint64_t u) {
    while (u >= 0x80) {
        *w++ = (unsigned char)(u | 0x80);
        u >>= 7;
    }
    *w++ = (unsigned char)u;
    return w;
}

static size_t varint_size(uint64_t u) {
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

/* The length prefix and Frame{result{call_id, value}} head of a value of `n` bytes (as
 * codec.result_frame_bytes writes them, call_id > 0) into `w` (at most 40 bytes); its size. */
static size_t result_head(unsigned char *w, uint64_t call_id, size_t n, size_t *body) {
    size_t r = 1 + varint_size(call_id) + 1 + varint_size(n) + n;
    *body = 1 + varint_size(r) + r;
    unsigned char *at = w;
    *at++ = (unsigned char)(*body >> 24);
    *at++ = (unsigned char)(*body >> 16);
    *at++ = (unsigned char)(*body >> 8);
    *at++ = (unsigned char)*body;
    *at++ = 0x2A;
    at = put_varint(at, r);
    *at++ = 0x08;
    at = put_varint(at, call_id);
    *at++ = 0x12;
    at = put_varint(at, n);
    return (size_t)(at - w);
}

static int call_lock(PyObject *method) {
    PyObject *r = PyObject_CallNoArgs(method);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Connection._claim: 1 when this call may answer (no Cancel answered it), 0 if not. */
static int claim(FastPath *self, PyObject *serving) {
    PyObject *d = PyTuple_GET_ITEM(self->serving_fields, 2);
    if (call_lock(self->alock_acquire) < 0) {
        return -1;
    }
    PyObject *answered = Py_TYPE(d)->tp_descr_get(d, serving, (PyObject *)Py_TYPE(serving));
    int rc = answered == NULL ? -1 : !PyObject_IsTrue(answered);
    Py_XDECREF(answered);
    if (rc == 1 && Py_TYPE(d)->tp_descr_set(d, serving, Py_True) < 0) {
        rc = -1;
    }
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (call_lock(self->alock_release) < 0) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return -1;
    }
    PyErr_Restore(et, ev, tb);
    return rc;
}

static int count_ring_send(FastPath *self) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* time.monotonic_ns's clock */
    if (set_u64(self->wire, s_last, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) <
        0) {
        return -1;
    }
    PyObject *stats = PyObject_GetAttr(self->wire, s_ring_stats);
    if (stats == NULL) {
        return -1;
    }
    int rc = -1;
    if (PyList_Check(stats) && PyList_GET_SIZE(stats) > 2) {
        long long n = PyLong_AsLongLong(PyList_GET_ITEM(stats, 2));
        PyObject *v = n == -1 && PyErr_Occurred() ? NULL : PyLong_FromLongLong(n + 1);
        rc = v == NULL ? -1 : PyList_SetItem(stats, 2, v);
    } else {
        PyErr_SetString(PyExc_TypeError, "Wire.ring_stats is not a list of 5 counts");
    }
    Py_DECREF(stats);
    return rc;
}

/* FastPath.run(prepared) -> None | True | bytes | (1, value) | (2, exception)
 *     Runs a call that take() prepared, as Connection._serve_sync and _deliver do: the function
 *     under its CallContext (the `current` ContextVar), then a small result written by hand onto
 *     the outgoing ring. None: answered on the ring, or a Cancel answered it first; True:
 *     answered on the ring, whose consumer sleeps (the caller sends Wake); bytes: the whole
 *     Result frame, which the ring did not take (the caller sends it). The call is then out of
 *     _serving. (1, value): a result this does not write; (2, exception): the function raised
 *     an Exception; in both the call is still in _serving, and the caller answers it. Another
 *     BaseException propagates, as it does out of _serve_sync. */
static PyObject *fp_run(FastPath *self, PyObject *prep) {
    if (!PyTuple_CheckExact(prep) || PyTuple_GET_SIZE(prep) != 7) {
        PyErr_SetString(PyExc_TypeError, "FastPath.run: not a prepared call");
        return NULL;
    }
    PyObject *serving = PyTuple_GET_ITEM(prep, 0), *ctx = PyTuple_GET_ITEM(prep, 1);
    PyObject *fn = PyTuple_GET_ITEM(prep, 2), *args = PyTuple_GET_ITEM(prep, 3);
    PyObject *key = PyTuple_GET_ITEM(prep, 4);
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(prep, 5));
    uint64_t call_id = PyLong_AsUnsignedLongLong(key);
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *token = PyContextVar_Set(self->current, ctx);
    if (token == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_Call(fn, args, NULL);
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    int reset = PyContextVar_Reset(self->current, token);
    Py_DECREF(token);
    if (reset < 0) {
        Py_XDECREF(result);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return NULL;
    }
    if (result == NULL) {
        if (et == NULL || !PyErr_GivenExceptionMatches(et, PyExc_Exception)) {
            PyErr_Restore(et, ev, tb);
            return NULL;
        }
        PyErr_NormalizeException(&et, &ev, &tb);
        if (tb != NULL) {
            PyException_SetTraceback(ev, tb);
        }
        PyObject *out = Py_BuildValue("(iO)", 2, ev);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return out;
    }
    PyErr_Restore(et, ev, tb); /* nothing */
    unsigned char head[48], vb[32];
    size_t vn = 0, pn = 0, body = 0;
    const unsigned char *pl = NULL;
    int small = small_value(kind, result, vb, &vn, &pl, &pn);
    if (small < 0) {
        Py_DECREF(result);
        return NULL;
    }
    size_t hn = small ? result_head(head, call_id, vn + pn, &body) : 0;
    if (!small || (long long)body > self->max_frame_bytes) {
        PyObject *out = Py_BuildValue("(iO)", 1, result);
        Py_DECREF(result);
        return out;
    }
    piece pieces[3] = {{head, hn}, {vb, vn}, {pl, pn}};
    PyObject *out = NULL;
    /* Connection._deliver: out of _serving, then the right to answer. */
    if (PyDict_DelItem(self->serving, key) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
            goto done;
        }
        PyErr_Clear();
    }
    int mine = claim(self, serving);
    if (mine <= 0) {
        out = mine < 0 ? NULL : Py_NewRef(Py_None);
        goto done;
    }
    /* Wire.send: the outgoing ring has one producer at a time (Wire._rlock). */
    if (call_lock(self->rlock_acquire) < 0) {
        goto done;
    }
    uint64_t tail, published = 0;
    int got = get_u64(self->out_ring, s_tail, &tail);
    if (got == 0) {
        char *header = (char *)self->view.buf + self->out_offset;
        published = publish(header, self->size, tail, pieces, 3);
        if (published && set_u64(self->out_ring, s_tail, published) < 0) {
            got = -1;
        }
    }
    PyErr_Fetch(&et, &ev, &tb);
    if (call_lock(self->rlock_release) < 0) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        goto done;
    }
    PyErr_Restore(et, ev, tb);
    if (got < 0) {
        goto done;
    }
    if (published) {
        /* Releasing the lock after the tail store was the full fence WIRE.md asks for before
         * looking at `awake` (as in Wire.send). */
        if (count_ring_send(self) < 0) {
            goto done;
        }
        const uint32_t *awake =
            (const uint32_t *)((char *)self->view.buf + self->out_offset + AWAKE_OFFSET);
        out = Py_NewRef(__atomic_load_n(awake, __ATOMIC_RELAXED) ? Py_None : Py_True);
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(body + 4));
    if (out != NULL) {
        char *at = PyBytes_AS_STRING(out);
        for (int k = 0; k < 3; k++) {
            memcpy(at, pieces[k].p, pieces[k].n);
            at += pieces[k].n;
        }
    }
done:
    Py_DECREF(result); /* after the pieces (which may point into it) were copied */
    return out;
}

/* result_frame(call_id, kind, value) -> bytes | None: the Result frame FastPath.run writes
 * (length prefix included), None when it leaves the value to Python (for the tests). */
static PyObject *result_frame(PyObject *module, PyObject *args) {
    (void)module;
    unsigned long long call_id;
    long kind;
    PyObject *v;
    if (!PyArg_ParseTuple(args, "KlO:result_frame", &call_id, &kind, &v)) {
        return NULL;
    }
    if (call_id == 0) {
        PyErr_SetString(PyExc_ValueError, "result_frame: call id 0");
        return NULL;
    }
    unsigned char head[48], vb[32];
    size_t vn = 0, pn = 0, body = 0;
    const unsigned char *pl = NULL;
    int small = small_value(kind, v, vb, &vn, &pl, &pn);
    if (small <= 0) {
        return small < 0 ? NULL : Py_NewRef(Py_None);
    }
    size_t hn = result_head(head, call_id, vn + pn, &body);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(hn + vn + pn));
    if (out != NULL) {
        char *at = PyBytes_AS_STRING(out);
        memcpy(at, head, hn);
        memcpy(at + hn, vb, vn);
        if (pn) {
            memcpy(at + hn + vn, pl, pn);
        }
    }
    return out;
}

static int fp_traverse(FastPath *self, visitproc visit, void *arg) {
    Py_VISIT(self->in_ring);
    Py_VISIT(self->out_ring);
    Py_VISIT(self->wire);
    Py_VISIT(self->registry);
    Py_VISIT(self->serving);
    Py_VISIT(self->conn);
    Py_VISIT(self->ctx_type);
    Py_VISIT(self->ctx_fields);
    Py_VISIT(self->serving_type);
    Py_VISIT(self->serving_fields);
    Py_VISIT(self->current);
    Py_VISIT(self->parse);
    Py_VISIT(self->error);
    Py_VISIT(self->rlock_acquire);
    Py_VISIT(self->rlock_release);
    Py_VISIT(self->alock_acquire);
    Py_VISIT(self->alock_release);
    Py_VISIT(self->last_name);
    return 0;
}

static int fp_clear(FastPath *self) {
    Py_CLEAR(self->in_ring);
    Py_CLEAR(self->out_ring);
    Py_CLEAR(self->wire);
    Py_CLEAR(self->registry);
    Py_CLEAR(self->serving);
    Py_CLEAR(self->conn);
    Py_CLEAR(self->ctx_type);
    Py_CLEAR(self->ctx_fields);
    Py_CLEAR(self->serving_type);
    Py_CLEAR(self->serving_fields);
    Py_CLEAR(self->current);
    Py_CLEAR(self->parse);
    Py_CLEAR(self->error);
    Py_CLEAR(self->rlock_acquire);
    Py_CLEAR(self->rlock_release);
    Py_CLEAR(self->alock_acquire);
    Py_CLEAR(self->alock_release);
    Py_CLEAR(self->last_name);
    return 0;
}

static void fp_dealloc(FastPath *self) {
    PyObject_GC_UnTrack(self);
    fp_clear(self);
    if (self->has_view) {
        PyBuffer_Release(&self->view);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *fp_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)kwds;
    FastPath *self = (FastPath *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    PyObject *rlock, *alock;
    if (!PyArg_ParseTuple(args, "w*nnnLOOOO!O!OOO!OO!OOOOO:FastPath", &self->view,
                          &self->in_offset, &self->out_offset, &self->size,
                          &self->max_frame_bytes, &self->in_ring, &self->out_ring, &self->wire,
                          &PyDict_Type, &self->registry, &PyDict_Type, &self->serving,
                          &self->conn, &self->ctx_type, &PyTuple_Type, &self->ctx_fields,
                          &self->serving_type, &PyTuple_Type, &self->serving_fields,
                          &self->current, &self->parse, &self->error, &rlock, &alock)) {
        /* The object pointers were not taken: nothing to release but the buffer, if any. */
        self->in_ring = self->out_ring = self->wire = self->registry = self->serving = NULL;
        self->conn = self->ctx_type = self->ctx_fields = self->serving_type = NULL;
        self->serving_fields = self->current = self->parse = self->error = NULL;
        Py_DECREF(self);
        return NULL;
    }
    self->has_view = 1;
    Py_INCREF(self->in_ring);
    Py_INCREF(self->out_ring);
    Py_INCREF(self->wire);
    Py_INCREF(self->registry);
    Py_INCREF(self->serving);
    Py_INCREF(self->conn);
    Py_INCREF(self->ctx_type);
    Py_INCREF(self->ctx_fields);
    Py_INCREF(self->serving_type);
    Py_INCREF(self->serving_fields);
    Py_INCREF(self->current);
    Py_INCREF(self->parse);
    Py_INCREF(self->error);
    Py_ssize_t s = self->size;
    int bad = self->in_offset < 0 || self->in_offset % 8 != 0 || self->out_offset < 0 ||
              self->out_offset % 8 != 0 || s <= 0 || (s & (s - 1)) != 0 ||
              self->in_offset + HEADER_BYTES + s > self->view.len ||
              self->out_offset + HEADER_BYTES + s > self->view.len ||
              ((uintptr_t)self->view.buf & 7) != 0;
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "FastPath: the rings are not within the buffer");
    } else if (!PyType_Check(self->ctx_type) || !PyType_Check(self->serving_type) ||
               PyTuple_GET_SIZE(self->ctx_fields) != 7 ||
               PyTuple_GET_SIZE(self->serving_fields) != 3) {
        PyErr_SetString(PyExc_TypeError, "FastPath: unexpected CallContext/_Serving fields");
        bad = 1;
    }
    for (int i = 0; !bad && i < 10; i++) {
        PyObject *d = PyTuple_GET_ITEM(i < 7 ? self->ctx_fields : self->serving_fields,
                                       i < 7 ? i : i - 7);
        if (Py_TYPE(d)->tp_descr_set == NULL || Py_TYPE(d)->tp_descr_get == NULL) {
            PyErr_SetString(PyExc_TypeError, "FastPath: a field without a slot descriptor");
            bad = 1;
        }
    }
    if (!bad) {
        self->rlock_acquire = PyObject_GetAttrString(rlock, "acquire");
        self->rlock_release = PyObject_GetAttrString(rlock, "release");
        self->alock_acquire = PyObject_GetAttrString(alock, "acquire");
        self->alock_release = PyObject_GetAttrString(alock, "release");
        bad = !self->rlock_acquire || !self->rlock_release || !self->alock_acquire ||
              !self->alock_release;
    }
    if (bad) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyMethodDef fp_methods[] = {
    {"take", (PyCFunction)fp_take, METH_O,
     "take(max_frame_bytes) -> Frame | tuple | None: Ring.take of the incoming ring; a call the fast path "
     "serves comes back prepared (a tuple for run)."},
    {"run", (PyCFunction)fp_run, METH_O,
     "run(prepared) -> None | True | bytes | (1, value) | (2, exception): runs a prepared call "
     "and answers it on the ring when it can (see _speedups.c)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef fp_members[] = {
    {"calls", T_ULONGLONG, offsetof(FastPath, calls), READONLY,
     "calls prepared by the fast path so far"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FastPathType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "polycall._speedups.FastPath",
    .tp_basicsize = sizeof(FastPath),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C fast path of a sync call read from the shared-memory ring (see _conn.py).",
    .tp_new = fp_new,
    .tp_dealloc = (destructor)fp_dealloc,
    .tp_traverse = (traverseproc)fp_traverse,
    .tp_clear = (inquiry)fp_clear,
    .tp_methods = fp_methods,
    .tp_members = fp_members,
};

static PyMethodDef methods[] = {
    {"ring_take", ring_take, METH_VARARGS,
     "ring_take(buffer, offset, size, head, max_frame_bytes) -> (head, body): Ring.poll and "
     "Ring.release in C; body is bytes, None (empty) or a str (the ProtocolError's message)."},
    {"ring_offer", ring_offer, METH_VARARGS,
     "ring_offer(buffer, offset, size, tail, parts) -> int: Ring.offer in C; the new tail, or 0 "
     "when nothing was published, -1 when a part is not bytes."},
    {"result_frame", result_frame, METH_VARARGS,
     "result_frame(call_id, kind, value) -> bytes | None: the Result frame FastPath.run writes "
     "for a small value, None when it leaves the value to Python."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "polycall._speedups", "Optional C helpers for the shared-memory rings.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    s_head = PyUnicode_InternFromString("_head");
    s_pending = PyUnicode_InternFromString("_pending");
    s_tail = PyUnicode_InternFromString("_tail");
    s_fast = PyUnicode_InternFromString("fast");
    s_last = PyUnicode_InternFromString("_last");
    s_ring_stats = PyUnicode_InternFromString("ring_stats");
    if (!s_head || !s_pending || !s_tail || !s_fast || !s_last || !s_ring_stats ||
        PyType_Ready(&FastPathType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&FastPathType);
    if (PyModule_AddObject(m, "FastPath", (PyObject *)&FastPathType) < 0) {
        Py_DECREF(&FastPathType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
