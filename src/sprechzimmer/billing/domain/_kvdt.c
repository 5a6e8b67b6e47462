/* The KVDT line loop in C: the hot path of KvdtReader (kvdt.py) and nothing else.
 *
 * kvdt.py reads the file in blocks of whole lines and checks each block for stray bytes; this
 * scanner then validates every line of a block (three-digit length against the real length, four-
 * digit field) and walks the lines of the fields the rules use, building the same Case and Service
 * objects as the Python loop (KvdtReader._iter_python), which stays the reference. Every value seen
 * for the first time and every error goes back to the reader's Python methods (_date, _gop, _lanr,
 * _time, _digits, _quarter, _record, _fail, _scan, ...), so the German messages and the validation rules
 * live in one place; the scanner only caches what they returned. tests/billing runs every KVDT test
 * on both loops.
 *
 * Untrusted input: every read is bounded by the block's length; lines are found with memchr.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <datetime.h>
#include <stdint.h>
#include <string.h>

/* Actions, in the order of kvdt.py's _IGNORE ... _PRIVATE. */
enum {
    A_IGNORE, A_RECORD, A_CASE_ID, A_QUARTER, A_SUBGROUP, A_DATE, A_GOP, A_MULTIPLIER, A_TIME, A_LANR,
    A_BSNR_SERVICE, A_BSNR, A_TSS, A_PRIVATE, A_BILLING_QUARTER, A_NAME, A_FIRST_NAME, A_BIRTH, A_PAYER,
    A_PSEUDONYM, A_AGE, A_COUNT
};
#define FIELDS 10000

/* A cache of raw values (up to 15 bytes: dates, GOPs, LANRs, times) -> what the reader's Python method
 * made of them, without making a bytes object per lookup. Open addressing, grows at half full. */
#define KEY_MAX 15
typedef struct {
    unsigned char len; /* 0 = empty slot */
    char key[KEY_MAX];
    PyObject *value;
} Entry;
typedef struct {
    Entry *entries;
    size_t mask, used;
} Map;

static size_t
map_hash(const char *p, Py_ssize_t n)
{
    size_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static int
map_init(Map *m, size_t capacity)
{
    m->entries = PyMem_Calloc(capacity, sizeof(Entry));
    m->mask = capacity - 1;
    m->used = 0;
    if (!m->entries) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static Entry *
map_slot(Map *m, const char *p, Py_ssize_t n)
{
    for (size_t i = map_hash(p, n) & m->mask;; i = (i + 1) & m->mask) {
        Entry *e = &m->entries[i];
        if (!e->len || (e->len == n && !memcmp(e->key, p, (size_t)n)))
            return e;
    }
}

/* Stores a new reference to value under p[:n] (1 <= n <= KEY_MAX, not yet in the map). */
static int
map_put(Map *m, const char *p, Py_ssize_t n, PyObject *value)
{
    if (2 * (m->used + 1) > m->mask + 1) {
        Map bigger;
        if (map_init(&bigger, 2 * (m->mask + 1)))
            return -1;
        for (size_t i = 0; i <= m->mask; i++) {
            Entry *e = &m->entries[i];
            if (e->len)
                *map_slot(&bigger, e->key, e->len) = *e;
        }
        bigger.used = m->used;
        PyMem_Free(m->entries);
        *m = bigger;
    }
    Entry *e = map_slot(m, p, n);
    e->len = (unsigned char)n;
    memcpy(e->key, p, (size_t)n);
    e->value = Py_NewRef(value);
    m->used++;
    return 0;
}

static void
map_clear(Map *m)
{
    if (!m->entries)
        return;
    for (size_t i = 0; i <= m->mask; i++)
        if (m->entries[i].len)
            Py_CLEAR(m->entries[i].value);
    PyMem_Free(m->entries);
    m->entries = NULL;
}

/* Case and Service objects are made by copying a prototype's slots (made by their own __init__ in
 * kvdt.py) and setting the few the line gives: a Python __init__ per service is a fifth of the
 * loop's time. Both classes have only __slots__ holding objects. */
#define MAX_SLOTS 16
typedef struct {
    PyObject *proto;
    int count;
    Py_ssize_t offsets[MAX_SLOTS];
} Maker;

static int
maker_init(Maker *m, PyObject *proto)
{
    PyObject *type = (PyObject *)Py_TYPE(proto);
    PyObject *slots = PyObject_GetAttrString(type, "__slots__");
    if (!slots)
        return -1;
    PyObject *names = PySequence_Tuple(slots);
    Py_DECREF(slots);
    if (!names)
        return -1;
    int ok = PyTuple_GET_SIZE(names) <= MAX_SLOTS;
    m->count = 0;
    for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(names); i++) {
        PyObject *descr = PyObject_GetAttr(type, PyTuple_GET_ITEM(names, i));
        if (!descr) {
            Py_DECREF(names);
            return -1;
        }
        ok = Py_IS_TYPE(descr, &PyMemberDescr_Type) && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX;
        if (ok)
            m->offsets[m->count++] = ((PyMemberDescrObject *)descr)->d_member->offset;
        Py_DECREF(descr);
    }
    Py_DECREF(names);
    if (!ok || ((PyTypeObject *)type)->tp_dictoffset) {
        PyErr_Format(PyExc_TypeError, "%R: only object slots, at most %d", type, MAX_SLOTS);
        return -1;
    }
    Py_XSETREF(m->proto, Py_NewRef(proto));
    return 0;
}

static Py_ssize_t
maker_offset(Maker *m, const char *name)
{
    PyObject *descr = PyObject_GetAttrString((PyObject *)Py_TYPE(m->proto), name);
    if (!descr)
        return -1;
    Py_ssize_t offset = Py_IS_TYPE(descr, &PyMemberDescr_Type) ? ((PyMemberDescrObject *)descr)->d_member->offset : -1;
    Py_DECREF(descr);
    if (offset < 0)
        PyErr_Format(PyExc_TypeError, "%s is not a slot", name);
    return offset;
}

static PyObject *
maker_new(Maker *m)
{
    PyTypeObject *type = Py_TYPE(m->proto);
    PyObject *obj = type->tp_alloc(type, 0);
    if (!obj)
        return NULL;
    for (int i = 0; i < m->count; i++) {
        PyObject *value = *(PyObject **)((char *)m->proto + m->offsets[i]);
        *(PyObject **)((char *)obj + m->offsets[i]) = Py_XNewRef(value);
    }
    return obj;
}

/* obj.<slot at offset> = value (a new reference is taken). */
static inline void
put(PyObject *obj, Py_ssize_t offset, PyObject *value)
{
    PyObject **p = (PyObject **)((char *)obj + offset);
    PyObject *old = *p;
    *p = Py_NewRef(value);
    Py_XDECREF(old);
}

typedef struct {
    PyObject_HEAD
    PyObject *reader;            /* the KvdtReader: slow paths and messages */
    unsigned char table[FIELDS]; /* field number -> action */
    int adjust;                  /* bytes of the line end outside a split line: 1 CR LF, 2 LF */
    int cut;                     /* bytes dropped from the end of a line's content: 1 for CR LF */
    Maker cases, services_;      /* prototypes of Case and Service */
    Py_ssize_t c_case_id, c_record_type, c_bsnr, c_subgroup, c_tss_acute, c_services, c_line, c_quarter, c_name,
        c_first_name, c_birth, c_payer; /* Case slots */
    Py_ssize_t s_gop, s_date, s_visit, s_time, s_multiplier, s_lanr, s_bsnr; /* Service slots */
    PyObject *kinds;             /* tuple of the record kinds as str ("0101" ... "0104") */
    Map dates, gops, lanrs, times, quarters, bsnrs, subgroups; /* raw value -> what _date/_gop/_lanr/_time/_quarter made of it */
    PyObject *long_values;       /* the same for values over KEY_MAX bytes: (method, bytes) -> value */
    PyObject *visits;            /* ints 0..n for the visit slot, reused */
    PyObject *kase;              /* the open treatment case or NULL */
    PyObject *services;          /* its services list */
    PyObject *service;           /* the last service of the open visit or NULL */
    PyObject *date;              /* the open visit's date or NULL */
    PyObject *case_bsnr;         /* mirror of kase.bsnr */
    int case_has_id;
    long visit;
    PyObject *bsnr;              /* the file's BSNR (field 0201 outside a case), None until seen */
    Py_ssize_t number;           /* lines read so far */
    int seen_record;
} Scanner;

static PyObject *s_date_m, *s_gop_m, *s_lanr_m, *s_time_m, *s_digits_m, *s_quarter_m, *s_billing_quarter_m,
    *s_record_m, *s_fail_m, *s_scan_m, *s_finish_m, *s_case_id_m, *s_subgroup_m, *s_multiplier_m, *s_pseudonym_m,
    *s_age_m, *s_bsnr_m, *s_bad_block_m;

static int
is_digits(const char *p, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* reader.<method>(*args); a new reference or NULL with the reader's exception set. */
static PyObject *
call(Scanner *self, PyObject *method, PyObject *const *args, size_t nargs)
{
    PyObject *stack[5];
    stack[0] = self->reader;
    for (size_t i = 0; i < nargs && i < 4; i++)
        stack[i + 1] = args[i];
    return PyObject_VectorcallMethod(method, stack, nargs + 1, NULL);
}

/* Calls reader._fail(number, key[, field]), which raises; always returns -1. */
static int
fail(Scanner *self, Py_ssize_t number, const char *key, const char *field)
{
    PyObject *num = PyLong_FromSsize_t(number);
    PyObject *k = PyUnicode_FromString(key);
    PyObject *f = field ? PyUnicode_FromStringAndSize(field, 4) : NULL;
    if (num && k && (f || !field)) {
        PyObject *args[3] = {num, k, f};
        PyObject *r = call(self, s_fail_m, args, f ? 3 : 2);
        if (r) { /* _fail must raise */
            Py_DECREF(r);
            PyErr_SetString(PyExc_RuntimeError, "KvdtReader._fail returned");
        }
    }
    Py_XDECREF(num);
    Py_XDECREF(k);
    Py_XDECREF(f);
    return -1;
}

/* reader.<method>(value, number) with the value as bytes; a new reference or NULL. */
static PyObject *
call_value(Scanner *self, PyObject *method, const char *p, Py_ssize_t n, Py_ssize_t number)
{
    PyObject *value = PyBytes_FromStringAndSize(p, n);
    PyObject *num = PyLong_FromSsize_t(number);
    PyObject *r = NULL;
    if (value && num) {
        PyObject *args[2] = {value, num};
        r = call(self, method, args, 2);
    }
    Py_XDECREF(value);
    Py_XDECREF(num);
    return r;
}

/* What reader.<method>(value, number) made of p[:n], asked once per distinct value.
 * A borrowed reference (owned by the cache) or NULL. */
static PyObject *
cached(Scanner *self, Map *map, PyObject *method, const char *p, Py_ssize_t n, Py_ssize_t number)
{
    if (n >= 1 && n <= KEY_MAX) {
        Entry *e = map_slot(map, p, n);
        if (e->len)
            return e->value;
    }
    PyObject *value = call_value(self, method, p, n, number);
    if (!value)
        return NULL;
    int failed;
    if (n >= 1 && n <= KEY_MAX) {
        failed = map_put(map, p, n, value);
    } else { /* rare: keep it alive in a list so the borrowed reference stays valid */
        failed = PyList_Append(self->long_values, value);
    }
    Py_DECREF(value);
    return failed ? NULL : value;
}

/* reader._digits(value, 9, number, field) */
static PyObject *
digits9(Scanner *self, const char *p, Py_ssize_t n, Py_ssize_t number, const char *field)
{
    PyObject *nine = PyLong_FromLong(9);
    PyObject *f = PyUnicode_FromString(field);
    PyObject *value = PyBytes_FromStringAndSize(p, n);
    PyObject *num = PyLong_FromSsize_t(number);
    PyObject *r = NULL;
    if (nine && f && value && num) {
        PyObject *args[4] = {value, nine, num, f};
        r = call(self, s_digits_m, args, 4);
    }
    Py_XDECREF(nine);
    Py_XDECREF(f);
    Py_XDECREF(value);
    Py_XDECREF(num);
    return r;
}

static void
close_case(Scanner *self)
{
    Py_CLEAR(self->kase);
    Py_CLEAR(self->services);
    Py_CLEAR(self->service);
    Py_CLEAR(self->date);
    Py_CLEAR(self->case_bsnr);
    self->case_has_id = 0;
    self->visit = 0;
}

/* Hands the open case to `out` (after the case-id check of reader._finish) and closes it. */
static int
finish_case(Scanner *self, PyObject *out)
{
    if (!self->case_has_id) {
        PyObject *args[1] = {self->kase};
        PyObject *r = call(self, s_finish_m, args, 1);
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    if (PyList_Append(out, self->kase))
        return -1;
    close_case(self);
    return 0;
}

/* Raises the error of the first bad line through reader._scan(lines, base, adjust). */
static PyObject *
scan_error(Scanner *self, PyObject *block, Py_ssize_t base)
{
    PyObject *lines = PyObject_CallMethod(block, "split", "y", "\n");
    PyObject *b = PyLong_FromSsize_t(base);
    PyObject *a = PyLong_FromLong(self->adjust);
    PyObject *checked = NULL;
    if (lines && b) { /* a bad byte (a CR inside a line) anywhere in the block comes first */
        PyObject *args[2] = {block, b};
        checked = call(self, s_bad_block_m, args, 2);
    }
    if (checked && lines && b && a) {
        PyObject *args[3] = {lines, b, a};
        PyObject *r = call(self, s_scan_m, args, 3);
        if (r) {
            Py_DECREF(r);
            PyErr_SetString(PyExc_RuntimeError, "KvdtReader._scan found no bad line");
        }
    }
    Py_XDECREF(checked);
    Py_XDECREF(lines);
    Py_XDECREF(b);
    Py_XDECREF(a);
    return NULL;
}

/* The int for the visit slot (small ints are shared by CPython anyway; this saves the call). */
static PyObject *
visit_number(Scanner *self)
{
    if (self->visit < PyList_GET_SIZE(self->visits))
        return Py_NewRef(PyList_GET_ITEM(self->visits, self->visit));
    return PyLong_FromLong(self->visit);
}

/* One line of a field the rules use; mirrors one branch of KvdtReader._iter_python. 0, or -1 with
 * an exception set. */
static int
line(Scanner *self, int action, const char *head, const char *v, Py_ssize_t n, Py_ssize_t number, PyObject *out)
{
    PyObject *x;
    switch (action) {
    case A_PRIVATE:
        return n ? fail(self, number, "private", head + 3) : 0;
    case A_GOP: {
        if (!self->kase)
            return 0;
        if (!self->date)
            return fail(self, number, "gop_without_date", NULL);
        PyObject *gop = cached(self, &self->gops, s_gop_m, v, n, number);
        if (!gop)
            return -1;
        PyObject *visit = visit_number(self);
        if (!visit)
            return -1;
        PyObject *service = maker_new(&self->services_);
        if (!service) {
            Py_DECREF(visit);
            return -1;
        }
        /* A Service holds only strings, numbers, a date and None: it cannot be part of a reference
         * cycle, so the cyclic GC need not visit it (as CPython does for tuples of such values).
         * Files keep thousands of Scheine open while grouping; visiting their services was a sixth
         * of the check's time. */
        PyObject_GC_UnTrack(service);
        put(service, self->s_gop, gop);
        put(service, self->s_date, self->date);
        put(service, self->s_visit, visit);
        Py_DECREF(visit);
        Py_XSETREF(self->service, service);
        return PyList_Append(self->services, service);
    }
    case A_DATE: {
        if (!self->kase)
            return 0;
        PyObject *date = cached(self, &self->dates, s_date_m, v, n, number);
        if (!date)
            return -1;
        Py_XSETREF(self->date, Py_NewRef(date));
        self->visit++;
        Py_CLEAR(self->service);
        return 0;
    }
    case A_LANR: {
        if (!self->kase)
            return 0;
        if (!self->service)
            return fail(self, number, "lanr_without_gop", NULL);
        PyObject *lanr = cached(self, &self->lanrs, s_lanr_m, v, n, number);
        if (!lanr)
            return -1;
        put(self->service, self->s_lanr, lanr);
        return 0;
    }
    case A_RECORD: {
        if (self->kase && finish_case(self, out))
            return -1;
        self->seen_record = 1;
        if (n != 4 || memcmp(v, "010", 3) || v[3] < '1' || v[3] > '4') {
            /* not a treatment Schein: reader._record counts it and notes the data package */
            x = call_value(self, s_record_m, v, n, number);
            if (!x)
                return -1;
            Py_DECREF(x);
            return 0;
        }
        PyObject *services = PyList_New(0);
        PyObject *num = PyLong_FromSsize_t(number);
        PyObject *kase = maker_new(&self->cases);
        if (!services || !num || !kase) {
            Py_XDECREF(services);
            Py_XDECREF(num);
            Py_XDECREF(kase);
            return -1;
        }
        /* Like its services (see A_GOP), a Schein as read holds only strings, bytes, numbers, a
         * Quarter and the list of its services: no cycle can pass through it or that list, so the
         * cyclic GC need not visit them while the grouping window holds thousands (a tenth of the
         * check's time went to full collections over them). Whoever puts a container into a Case
         * later (contacts of the JSON format are made in Python, tracked) cannot make a cycle
         * through it either: nothing refers back to a Case from below. */
        PyObject_GC_UnTrack(kase);
        PyObject_GC_UnTrack(services);
        put(kase, self->c_record_type, PyTuple_GET_ITEM(self->kinds, v[3] - '1'));
        put(kase, self->c_bsnr, self->bsnr);
        put(kase, self->c_services, services);
        put(kase, self->c_line, num);
        Py_DECREF(num);
        close_case(self);
        self->kase = kase;
        self->services = services;
        self->case_bsnr = Py_NewRef(self->bsnr);
        return 0;
    }
    case A_PSEUDONYM:
    case A_AGE: {
        /* privacy mode: validated wherever they stand, kept only inside a Schein */
        x = call_value(self, action == A_PSEUDONYM ? s_pseudonym_m : s_age_m, v, n, number);
        if (!x)
            return -1;
        if (self->kase)
            put(self->kase, action == A_PSEUDONYM ? self->c_name : self->c_birth, x);
        Py_DECREF(x);
        return 0;
    }
    case A_BILLING_QUARTER:
        x = call_value(self, s_billing_quarter_m, v, n, number);
        if (!x)
            return -1;
        Py_DECREF(x);
        return 0;
    }
    if (!self->kase) {
        if (action == A_BSNR && self->bsnr == Py_None) {
            x = digits9(self, v, n, number, "0201");
            if (!x)
                return -1;
            Py_SETREF(self->bsnr, x);
        }
        return 0;
    }
    switch (action) {
    case A_CASE_ID: {
        int plain = n > 0;
        for (Py_ssize_t i = 0; i < n && plain; i++)
            plain = (unsigned char)v[i] > 0x20 && (unsigned char)v[i] < 0x7f; /* nothing to strip or decode */
        x = plain ? PyUnicode_DecodeASCII(v, n, NULL) : call_value(self, s_case_id_m, v, n, number);
        if (!x)
            return -1;
        put(self->kase, self->c_case_id, x);
        self->case_has_id = PyUnicode_GET_LENGTH(x) > 0;
        Py_DECREF(x);
        return 0;
    }
    case A_TIME:
        if (!self->service)
            return fail(self, number, "time_without_gop", NULL);
        x = cached(self, &self->times, s_time_m, v, n, number);
        if (!x)
            return -1;
        put(self->service, self->s_time, x);
        return 0;
    case A_MULTIPLIER:
        if (!self->service)
            return fail(self, number, "multiplier_without_gop", NULL);
        x = call_value(self, s_multiplier_m, v, n, number);
        if (!x)
            return -1;
        put(self->service, self->s_multiplier, x);
        Py_DECREF(x);
        return 0;
    case A_QUARTER:
        x = cached(self, &self->quarters, s_quarter_m, v, n, number);
        if (!x)
            return -1;
        put(self->kase, self->c_quarter, x);
        return 0;
    case A_NAME:
    case A_FIRST_NAME:
    case A_BIRTH:
    case A_PAYER:
        x = PyBytes_FromStringAndSize(v, n);
        if (!x)
            return -1;
        put(self->kase, action == A_NAME ? self->c_name : action == A_FIRST_NAME ? self->c_first_name
                        : action == A_BIRTH ? self->c_birth : self->c_payer, x);
        Py_DECREF(x);
        return 0;
    case A_SUBGROUP:
        x = cached(self, &self->subgroups, s_subgroup_m, v, n, number);
        if (!x)
            return -1;
        put(self->kase, self->c_subgroup, x);
        return 0;
    case A_TSS:
        put(self->kase, self->c_tss_acute, n == 1 && v[0] == '2' ? Py_True : Py_False);
        return 0;
    case A_BSNR_SERVICE: {
        if (!self->service)
            return fail(self, number, "bsnr_without_gop", NULL);
        x = cached(self, &self->bsnrs, s_bsnr_m, v, n, number);
        if (!x)
            return -1;
        Py_INCREF(x); /* the cache owns one reference; this branch hands one on or drops it */
        put(self->service, self->s_bsnr, x);
        int same = self->case_bsnr == Py_None;
        if (!same && (same = PyObject_RichCompareBool(self->case_bsnr, self->bsnr, Py_EQ)) < 0) {
            Py_DECREF(x);
            return -1;
        }
        if (same) {
            put(self->kase, self->c_bsnr, x);
            Py_SETREF(self->case_bsnr, x);
        } else {
            Py_DECREF(x);
        }
        return 0;
    }
    case A_BSNR: {
        int truthy = PyObject_IsTrue(self->case_bsnr);
        if (truthy)
            return truthy < 0 ? -1 : 0;
        x = digits9(self, v, n, number, "0201");
        if (!x)
            return -1;
        put(self->kase, self->c_bsnr, x);
        Py_SETREF(self->case_bsnr, x);
        return 0;
    }
    }
    return 0;
}

/* feed(block) -> list of the cases finished in this block. ``block`` holds whole lines separated by
 * LF, without the last line's LF (kvdt.py's KvdtReader._blocks). */
static PyObject *
Scanner_feed(Scanner *self, PyObject *block)
{
    if (!PyBytes_Check(block)) {
        PyErr_SetString(PyExc_TypeError, "feed() takes bytes");
        return NULL;
    }
    if (!self->reader) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner not initialised");
        return NULL;
    }
    const char *buf = PyBytes_AS_STRING(block);
    Py_ssize_t size = PyBytes_GET_SIZE(block);
    Py_ssize_t base = self->number;

    /* Pass 1: every line has a three-digit length that matches and a four-digit field, in a CR LF
     * file ends with CR, and has no CR inside (kvdt.py's _blocks leaves that to this pass; the error
     * is then the block's first bad byte, as on the Python loop: scan_error asks _bad_block first). */
    Py_ssize_t lines = 0;
    for (Py_ssize_t pos = 0;;) {
        const char *nl = memchr(buf + pos, '\n', (size_t)(size - pos));
        Py_ssize_t end = nl ? nl - buf : size;
        Py_ssize_t len = end - pos;
        const char *p = buf + pos;
        lines++;
        if (len < 7 || !is_digits(p, 7) ||
            (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0') != len + self->adjust ||
            (self->adjust == 1 && p[len - 1] != '\r') || memchr(p, '\r', (size_t)(len - 1)))
            return scan_error(self, block, base);
        if (!nl)
            break;
        pos = end + 1;
    }

    /* Pass 2: the fields the rules use. */
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    Py_ssize_t number = base;
    for (Py_ssize_t pos = 0;;) {
        const char *nl = memchr(buf + pos, '\n', (size_t)(size - pos));
        Py_ssize_t end = nl ? nl - buf : size;
        const char *p = buf + pos;
        number++;
        int field = (p[3] - '0') * 1000 + (p[4] - '0') * 100 + (p[5] - '0') * 10 + (p[6] - '0');
        int action = self->table[field];
        if (action != A_IGNORE) {
            Py_ssize_t n = end - pos - 7 - self->cut;
            if (line(self, action, p, p + 7, n < 0 ? 0 : n, number, out)) {
                self->number = base + lines;
                Py_DECREF(out);
                return NULL;
            }
        }
        if (!nl)
            break;
        pos = end + 1;
    }
    self->number = base + lines;
    return out;
}

/* finish() -> the last open case (checked like any other) or None. */
static PyObject *
Scanner_finish(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->kase)
        Py_RETURN_NONE;
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    if (finish_case(self, out)) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *kase = Py_NewRef(PyList_GET_ITEM(out, 0));
    Py_DECREF(out);
    return kase;
}

static int Scanner_clear(Scanner *self);

static int
Scanner_init(Scanner *self, PyObject *args, PyObject *kwds)
{
    PyObject *reader, *case_proto, *service_proto, *kinds;
    Py_buffer table;
    int adjust;
    static char *names[] = {"reader", "table", "adjust", "case", "service", "kinds", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oy*iOOO!", names, &reader, &table, &adjust, &case_proto,
                                     &service_proto, &PyTuple_Type, &kinds))
        return -1;
    int ok = table.len == FIELDS && (adjust == 1 || adjust == 2) && PyTuple_GET_SIZE(kinds) == 4;
    if (ok) {
        memcpy(self->table, table.buf, FIELDS);
        for (int i = 0; i < FIELDS; i++)
            ok &= self->table[i] < A_COUNT;
    }
    PyBuffer_Release(&table);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "Scanner(reader, table of 10000 actions, adjust 1|2, a Case, a Service, "
                                          "4 record kinds)");
        return -1;
    }
    Scanner_clear(self);
    if (maker_init(&self->cases, case_proto) || maker_init(&self->services_, service_proto))
        return -1;
    struct { Py_ssize_t *offset; Maker *maker; const char *name; } slots[] = {
        {&self->c_case_id, &self->cases, "case_id"}, {&self->c_record_type, &self->cases, "record_type"},
        {&self->c_bsnr, &self->cases, "bsnr"}, {&self->c_subgroup, &self->cases, "subgroup"},
        {&self->c_tss_acute, &self->cases, "tss_acute"}, {&self->c_services, &self->cases, "services"},
        {&self->c_line, &self->cases, "line"}, {&self->c_quarter, &self->cases, "quarter"},
        {&self->c_name, &self->cases, "name"}, {&self->c_first_name, &self->cases, "first_name"},
        {&self->c_birth, &self->cases, "birth"}, {&self->c_payer, &self->cases, "payer"},
        {&self->s_gop, &self->services_, "gop"}, {&self->s_date, &self->services_, "date"},
        {&self->s_visit, &self->services_, "visit"}, {&self->s_time, &self->services_, "time"},
        {&self->s_multiplier, &self->services_, "multiplier"}, {&self->s_lanr, &self->services_, "lanr"},
        {&self->s_bsnr, &self->services_, "bsnr"},
    };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
        if ((*slots[i].offset = maker_offset(slots[i].maker, slots[i].name)) < 0)
            return -1;
    self->adjust = adjust;
    self->cut = adjust == 1 ? 1 : 0;
    self->reader = Py_NewRef(reader);
    self->kinds = Py_NewRef(kinds);
    self->bsnr = Py_NewRef(Py_None);
    self->long_values = PyList_New(0);
    self->visits = PyList_New(0);
    if (!self->long_values || !self->visits || map_init(&self->dates, 256) || map_init(&self->gops, 256)
        || map_init(&self->lanrs, 64) || map_init(&self->times, 64) || map_init(&self->quarters, 16)
        || map_init(&self->bsnrs, 16) || map_init(&self->subgroups, 16))
        return -1;
    for (long i = 0; i < 64; i++) {
        PyObject *number = PyLong_FromLong(i);
        if (!number || PyList_Append(self->visits, number)) {
            Py_XDECREF(number);
            return -1;
        }
        Py_DECREF(number);
    }
    self->number = 0;
    self->seen_record = 0;
    return 0;
}

static int
map_traverse(Map *m, visitproc visit, void *arg)
{
    if (m->entries)
        for (size_t i = 0; i <= m->mask; i++)
            if (m->entries[i].len)
                Py_VISIT(m->entries[i].value);
    return 0;
}

static int
Scanner_traverse(Scanner *self, visitproc visit, void *arg)
{
    Py_VISIT(self->reader);
    Py_VISIT(self->cases.proto);
    Py_VISIT(self->services_.proto);
    Py_VISIT(self->kinds);
    Py_VISIT(self->long_values);
    Py_VISIT(self->visits);
    Py_VISIT(self->kase);
    Py_VISIT(self->services);
    Py_VISIT(self->service);
    Py_VISIT(self->date);
    Py_VISIT(self->case_bsnr);
    Py_VISIT(self->bsnr);
    if (map_traverse(&self->dates, visit, arg) || map_traverse(&self->gops, visit, arg)
        || map_traverse(&self->lanrs, visit, arg) || map_traverse(&self->times, visit, arg)
        || map_traverse(&self->quarters, visit, arg) || map_traverse(&self->bsnrs, visit, arg)
        || map_traverse(&self->subgroups, visit, arg))
        return -1;
    return 0;
}

static int
Scanner_clear(Scanner *self)
{
    Py_CLEAR(self->reader);
    Py_CLEAR(self->cases.proto);
    Py_CLEAR(self->services_.proto);
    Py_CLEAR(self->kinds);
    Py_CLEAR(self->long_values);
    Py_CLEAR(self->visits);
    close_case(self);
    Py_CLEAR(self->bsnr);
    map_clear(&self->dates);
    map_clear(&self->gops);
    map_clear(&self->lanrs);
    map_clear(&self->times);
    map_clear(&self->quarters);
    map_clear(&self->bsnrs);
    map_clear(&self->subgroups);
    return 0;
}

static void
Scanner_dealloc(Scanner *self)
{
    PyObject_GC_UnTrack(self);
    Scanner_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Scanner_get_bsnr(Scanner *self, void *closure)
{
    return Py_NewRef(self->bsnr ? self->bsnr : Py_None);
}

static PyObject *
Scanner_get_number(Scanner *self, void *closure)
{
    return PyLong_FromSsize_t(self->number);
}

static PyObject *
Scanner_get_seen_record(Scanner *self, void *closure)
{
    return PyBool_FromLong(self->seen_record);
}

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_O, "feed(block) -> cases finished in the block"},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS, "finish() -> the last case or None"},
    {NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"bsnr", (getter)Scanner_get_bsnr, NULL, "the file's BSNR (field 0201) or None", NULL},
    {"number", (getter)Scanner_get_number, NULL, "lines read", NULL},
    {"seen_record", (getter)Scanner_get_seen_record, NULL, "whether a record (8000) was read", NULL},
    {NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sprechzimmer.billing.domain._kvdt.Scanner",
    .tp_doc = "The KVDT line loop of KvdtReader (see kvdt.py).",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_traverse = (traverseproc)Scanner_traverse,
    .tp_clear = (inquiry)Scanner_clear,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

/* -- the first pass of the rules (rules.py, QuarterCheck._check) ---------------------------------
 *
 * One walk over the services of a Behandlungsfall that gathers what the rules of 4.3.1 look at: the
 * points, the counts, the visits and their inferred contact kinds, the Pauschalen per Arztfall, 01435,
 * 88220, the GOPs with a limit or an age tier, the services R8 counts. rules._first_pass is the same in
 * Python and stays the reference (the tests compare both on every check). Catalogue look-ups go
 * through a dict code -> info tuple (CatalogueView.infos: gop, fast bits, points, kind, limit group,
 * limit) that CatalogueView.info fills on a miss. */

/* Bits of Gop.fast (catalogue.py F_*) and the kind codes of CatalogueView.info. */
enum { F_VIDEO_VISIT = 1, F_PERSONAL = 2, F_LIMITED = 64, F_CAP = 128, F_KIND = 256, F_TIERED = 32, F_VOLUME = 512 };
enum { K_OTHER, K_PAUSCHALE, K_TELEPHONE, K_MARKER };

static struct {
    int ready;
    Py_ssize_t s_gop, s_date, s_visit, s_lanr, s_multiplier, c_services;
    Py_ssize_t c_contacts, c_record_type, c_tss_acute, c_birth; /* read by check_plain */
    Py_ssize_t c_name, c_first_name, c_payer, c_quarter, c_bsnr; /* read by group_key, check_plain */
    PyTypeObject *case_type, *service_type;                     /* check_plain takes only these */
    PyObject *video, *telephone, *personal, *volume_key; /* contact kinds, "35*" */
    PyObject *fast_name, *points_name, *base_name;       /* Gop attributes */
    PyObject *age_min_name, *age_max_name, *year_name, *number_name;
} rules;

static Py_ssize_t
slot_offset(PyObject *type, const char *name)
{
    PyObject *descr = PyObject_GetAttrString(type, name);
    if (!descr)
        return -1;
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type) && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX)
        offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    Py_DECREF(descr);
    if (offset < 0)
        PyErr_Format(PyExc_TypeError, "%R.%s is not an object slot", type, name);
    return offset;
}

/* configure(Case, Service, VIDEO, TELEPHONE, PERSONAL): the classes whose slots first_pass reads and
 * the contact kinds it returns (rules.py calls it once). */
static PyObject *
configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyType_Check(args[0]) || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "configure(Case, Service, VIDEO, TELEPHONE, PERSONAL)");
        return NULL;
    }
    if ((rules.c_services = slot_offset(args[0], "services")) < 0 || (rules.s_gop = slot_offset(args[1], "gop")) < 0
        || (rules.s_date = slot_offset(args[1], "date")) < 0 || (rules.s_visit = slot_offset(args[1], "visit")) < 0
        || (rules.s_lanr = slot_offset(args[1], "lanr")) < 0
        || (rules.s_multiplier = slot_offset(args[1], "multiplier")) < 0
        || (rules.c_contacts = slot_offset(args[0], "contacts")) < 0
        || (rules.c_record_type = slot_offset(args[0], "record_type")) < 0
        || (rules.c_tss_acute = slot_offset(args[0], "tss_acute")) < 0
        || (rules.c_birth = slot_offset(args[0], "birth")) < 0
        || (rules.c_name = slot_offset(args[0], "name")) < 0
        || (rules.c_first_name = slot_offset(args[0], "first_name")) < 0
        || (rules.c_payer = slot_offset(args[0], "payer")) < 0
        || (rules.c_quarter = slot_offset(args[0], "quarter")) < 0
        || (rules.c_bsnr = slot_offset(args[0], "bsnr")) < 0)
        return NULL;
    Py_XSETREF(rules.case_type, (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(rules.service_type, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(rules.video, Py_NewRef(args[2]));
    Py_XSETREF(rules.telephone, Py_NewRef(args[3]));
    Py_XSETREF(rules.personal, Py_NewRef(args[4]));
    if ((!rules.volume_key && !(rules.volume_key = PyUnicode_InternFromString("35*")))
        || (!rules.fast_name && !(rules.fast_name = PyUnicode_InternFromString("fast")))
        || (!rules.points_name && !(rules.points_name = PyUnicode_InternFromString("points")))
        || (!rules.base_name && !(rules.base_name = PyUnicode_InternFromString("base")))
        || (!rules.age_min_name && !(rules.age_min_name = PyUnicode_InternFromString("age_min")))
        || (!rules.age_max_name && !(rules.age_max_name = PyUnicode_InternFromString("age_max")))
        || (!rules.year_name && !(rules.year_name = PyUnicode_InternFromString("year")))
        || (!rules.number_name && !(rules.number_name = PyUnicode_InternFromString("number"))))
        return NULL;
    rules.ready = 1;
    Py_RETURN_NONE;
}

static inline PyObject *
slot(PyObject *obj, Py_ssize_t offset)
{
    PyObject *value = *(PyObject **)((char *)obj + offset);
    return value ? value : Py_None;
}

typedef struct {
    long key;          /* Schein number << 16 | visit */
    int flags;         /* 1 video, 2 01435, 4 in person */
    PyObject *first;   /* its first service (borrowed: the Scheine hold it) */
    PyObject *doctor;  /* that service's LANR (borrowed) */
} Visit;

/* counter[key] += amount (a dict of ints) */
static int
add_to(PyObject *counter, PyObject *key, long long amount)
{
    PyObject *old = PyDict_GetItemWithError(counter, key);
    if (!old && PyErr_Occurred())
        return -1;
    long long value = amount;
    if (old) {
        value += PyLong_AsLongLong(old);
        if (value == -1 && PyErr_Occurred())
            return -1;
    }
    PyObject *v = PyLong_FromLongLong(value);
    if (!v)
        return -1;
    int r = PyDict_SetItem(counter, key, v);
    Py_DECREF(v);
    return r;
}

static int
append_new(PyObject **list, PyObject *item) /* steals item */
{
    if (!item)
        return -1;
    if (!*list && !(*list = PyList_New(0))) {
        Py_DECREF(item);
        return -1;
    }
    int r = PyList_Append(*list, item);
    Py_DECREF(item);
    return r;
}

/* first_pass(scheine, infos, info, unknown_gops, want_caps) -> (total, count, unknown, unpriced,
 * marker, special, first_of_visit, kind_of_visit, pauschalen, pauschale_of, limited, lanrs, phone,
 * tiered, cap_services, same_day, first_day); see rules._first_pass. */
static PyObject *
first_pass(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!rules.ready) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    if (nargs != 5 || !PyDict_Check(args[1]) || !PyDict_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "first_pass(scheine, infos, info, unknown_gops, want_caps)");
        return NULL;
    }
    PyObject *infos = args[1], *info_of = args[2], *unknown_gops = args[3];
    int want_caps = PyObject_IsTrue(args[4]);
    PyObject *scheine = PySequence_Fast(args[0], "scheine must be a sequence");
    if (!scheine || want_caps < 0)
        return NULL;
    PyObject *pauschalen = PyDict_New(), *pauschale_of = PyDict_New(), *lanrs = PySet_New(NULL);
    PyObject *limited = NULL, *phone = NULL, *tiered = NULL, *caps = want_caps ? PyList_New(0) : NULL;
    PyObject *first_of_visit = NULL, *kind_of_visit = NULL, *result = NULL, *first_day = NULL;
    Visit *visits = NULL;
    Py_ssize_t nvisits = 0, cap = 0;
    PyObject **days = NULL;
    Py_ssize_t ndays = 0;
    long long total = 0;
    Py_ssize_t count = 0, unknown = 0, unpriced = 0, marker = 0;
    long special = 0;
    int same_day = 0;
    if (!pauschalen || !pauschale_of || !lanrs || (want_caps && !caps))
        goto error;
    Py_ssize_t nscheine = PySequence_Fast_GET_SIZE(scheine);
    PyObject **items = PySequence_Fast_ITEMS(scheine);
    for (Py_ssize_t number = 0; number < nscheine; number++) {
        PyObject *schein = items[number];
        PyObject *services = slot(schein, rules.c_services);
        if (!PyList_Check(services)) {
            PyErr_SetString(PyExc_TypeError, "Case.services must be a list");
            goto error;
        }
        long offset = (long)number << 16;
        PyObject *last_number = NULL, *last_lanr = NULL;
        Visit *current = NULL;
        Py_ssize_t n = PyList_GET_SIZE(services);
        count += n;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *service = PyList_GET_ITEM(services, i);
            PyObject *code = slot(service, rules.s_gop);
            PyObject *visit_number = slot(service, rules.s_visit);
            PyObject *lanr = slot(service, rules.s_lanr);
            if (visit_number != last_number) {
                int same = last_number ? PyObject_RichCompareBool(visit_number, last_number, Py_EQ) : 0;
                if (same < 0)
                    goto error;
                if (!same) {
                    last_number = visit_number;
                    long key = PyLong_AsLong(visit_number);
                    if (key == -1 && PyErr_Occurred())
                        goto error;
                    key |= offset;
                    current = NULL;
                    for (Py_ssize_t v = 0; v < nvisits; v++)
                        if (visits[v].key == key) {
                            current = &visits[v];
                            break;
                        }
                    if (!current) {
                        if (nvisits == cap) {
                            cap = cap ? 2 * cap : 16;
                            Visit *bigger = PyMem_Realloc(visits, (size_t)cap * sizeof(Visit));
                            PyObject **more = PyMem_Realloc(days, (size_t)cap * sizeof(PyObject *));
                            if (bigger)
                                visits = bigger;
                            if (more)
                                days = more;
                            if (!bigger || !more) {
                                PyErr_NoMemory();
                                goto error;
                            }
                        }
                        current = &visits[nvisits++];
                        current->key = key;
                        current->flags = 0;
                        current->first = service;
                        current->doctor = lanr;
                        PyObject *day = slot(service, rules.s_date);
                        int seen = 0;
                        for (Py_ssize_t d = 0; d < ndays && !seen; d++)
                            if ((seen = PyObject_RichCompareBool(days[d], day, Py_EQ)) < 0)
                                goto error;
                        if (seen) {
                            same_day = 1;
                        } else {
                            days[ndays++] = day;
                            int earlier = first_day ? PyObject_RichCompareBool(day, first_day, Py_LT) : 1;
                            if (earlier < 0)
                                goto error;
                            if (earlier)
                                first_day = day;
                        }
                    }
                }
            }
            if (lanr != last_lanr) {
                last_lanr = lanr;
                if (lanr != Py_None && PyObject_IsTrue(lanr) == 1 && PySet_Add(lanrs, lanr))
                    goto error;
            }
            PyObject *info = PyDict_GetItemWithError(infos, code);
            if (!info) {
                if (PyErr_Occurred())
                    goto error;
                PyObject *made = PyObject_CallOneArg(info_of, code); /* CatalogueView.info stores it */
                if (!made)
                    goto error;
                Py_DECREF(made);
                info = PyDict_GetItemWithError(infos, code); /* borrowed from infos, which holds it */
                if (!info) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_RuntimeError, "info(code) must store its answer in infos");
                    goto error;
                }
            }
            if (info == Py_None) {
                unknown++;
                if (add_to(unknown_gops, code, 1))
                    goto error;
                continue;
            }
            if (!PyTuple_Check(info) || PyTuple_GET_SIZE(info) != 6) {
                PyErr_SetString(PyExc_TypeError, "infos: (gop, fast, points, kind, group, limit)");
                goto error;
            }
            PyObject *gop = PyTuple_GET_ITEM(info, 0);
            PyObject *points = PyTuple_GET_ITEM(info, 2);
            if (points == Py_None) {
                unpriced++;
            } else {
                long long p = PyLong_AsLongLong(points);
                long long m = PyLong_AsLongLong(slot(service, rules.s_multiplier));
                if ((p == -1 || m == -1) && PyErr_Occurred())
                    goto error;
                total += p * m;
            }
            long fast = PyLong_AsLong(PyTuple_GET_ITEM(info, 1));
            if (!fast)
                continue;
            special |= fast;
            if (fast & F_CAP) {
                if (caps) {
                    PyObject *visit = PyLong_FromLong(current->key);
                    if (!visit || append_new(&caps, PyTuple_Pack(3, service, gop, visit)) < 0) {
                        Py_XDECREF(visit);
                        goto error;
                    }
                    Py_DECREF(visit);
                }
                if (fast == F_CAP)
                    continue;
            }
            if (fast & F_PERSONAL) {
                current->flags |= 4;
                if (fast == F_PERSONAL)
                    continue;
            }
            if (fast & F_KIND) {
                long kind = PyLong_AsLong(PyTuple_GET_ITEM(info, 3));
                if (kind == K_PAUSCHALE) {
                    if (add_to(pauschalen, code, 1))
                        goto error;
                    int has = PyDict_Contains(pauschale_of, lanr);
                    if (has < 0 || (!has && PyDict_SetItem(pauschale_of, lanr, code)))
                        goto error;
                } else if (kind == K_TELEPHONE) {
                    current->flags |= 2;
                    if (append_new(&phone, PyTuple_Pack(3, service, lanr, schein)))
                        goto error;
                } else if (kind == K_MARKER) {
                    marker++;
                }
            }
            if (fast & F_VIDEO_VISIT)
                current->flags |= 1;
            if (fast & F_LIMITED) {
                PyObject *group = PyTuple_GET_ITEM(info, 4);
                if (!limited && !(limited = PyDict_New()))
                    goto error;
                PyObject *entry = PyDict_GetItemWithError(limited, group);
                if (entry) {
                    long before = PyLong_AsLong(PyList_GET_ITEM(entry, 0)); /* entries are made below */
                    PyObject *times = before == -1 && PyErr_Occurred() ? NULL : PyLong_FromLong(before + 1);
                    if (!times || PyList_SetItem(entry, 0, times))
                        goto error;
                    if (PyList_Append(PyList_GET_ITEM(entry, 2), code))
                        goto error;
                } else {
                    if (PyErr_Occurred())
                        goto error;
                    PyObject *codes = PyList_New(1);
                    if (!codes)
                        goto error;
                    PyList_SET_ITEM(codes, 0, Py_NewRef(code));
                    PyObject *one = PyLong_FromLong(1);
                    entry = one ? PyList_New(3) : NULL;
                    if (!entry) {
                        Py_XDECREF(one);
                        Py_DECREF(codes);
                        goto error;
                    }
                    PyList_SET_ITEM(entry, 0, one);
                    PyList_SET_ITEM(entry, 1, Py_NewRef(PyTuple_GET_ITEM(info, 5)));
                    PyList_SET_ITEM(entry, 2, codes);
                    int r = PyDict_SetItem(limited, group, entry);
                    Py_DECREF(entry);
                    if (r)
                        goto error;
                }
            }
            if (fast & F_TIERED && append_new(&tiered, Py_NewRef(gop)))
                goto error;
        }
    }
    /* Contact inference (rules._first_pass): video, 01435, in person, the case's 88220, the visit's
     * doctor's 01435 without a Pauschale, else in person. */
    first_of_visit = PyDict_New();
    kind_of_visit = PyDict_New();
    if (!first_of_visit || !kind_of_visit)
        goto error;
    for (Py_ssize_t v = 0; v < nvisits; v++) {
        int flags = visits[v].flags;
        PyObject *kind;
        if (flags & 1)
            kind = rules.video;
        else if (flags & 2)
            kind = rules.telephone;
        else if (flags & 4)
            kind = rules.personal;
        else if (marker)
            kind = rules.video;
        else {
            kind = rules.personal;
            Py_ssize_t calls = phone ? PyList_GET_SIZE(phone) : 0;
            for (Py_ssize_t c = 0; c < calls; c++) {
                PyObject *caller = PyTuple_GET_ITEM(PyList_GET_ITEM(phone, c), 1);
                int same = PyObject_RichCompareBool(caller, visits[v].doctor, Py_EQ);
                int has = same > 0 ? PyDict_Contains(pauschale_of, caller) : 0;
                if (same < 0 || has < 0)
                    goto error;
                if (same && !has) {
                    kind = rules.telephone;
                    break;
                }
            }
        }
        PyObject *key = PyLong_FromLong(visits[v].key);
        if (!key || PyDict_SetItem(first_of_visit, key, visits[v].first) || PyDict_SetItem(kind_of_visit, key, kind)) {
            Py_XDECREF(key);
            goto error;
        }
        Py_DECREF(key);
    }
    result = Py_BuildValue("(LnnnnlOOOOOOOOOOO)", total, count, unknown, unpriced, marker, special, first_of_visit,
                           kind_of_visit, pauschalen, pauschale_of, limited ? limited : Py_None, lanrs,
                           phone ? phone : Py_None, tiered ? tiered : Py_None, caps ? caps : Py_None,
                           same_day ? Py_True : Py_False, first_day ? first_day : Py_None);
error:
    PyMem_Free(visits);
    PyMem_Free(days);
    Py_DECREF(scheine);
    Py_XDECREF(pauschalen);
    Py_XDECREF(pauschale_of);
    Py_XDECREF(lanrs);
    Py_XDECREF(limited);
    Py_XDECREF(phone);
    Py_XDECREF(tiered);
    Py_XDECREF(caps);
    Py_XDECREF(first_of_visit);
    Py_XDECREF(kind_of_visit);
    return result;
}

/* count_caps(cap_services, kind_of_visit, totals, by_video, volume): R8's counters of one
 * Behandlungsfall; see rules._count_caps, its reference. */
static PyObject *
count_caps(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!rules.ready) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    if (nargs != 5 || !PyList_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])
        || !PyDict_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "count_caps(cap_services, kind_of_visit, totals, by_video, volume)");
        return NULL;
    }
    PyObject *caps = args[0], *kinds = args[1], *totals = args[2], *by_video = args[3];
    int volume = PyObject_IsTrue(args[4]);
    if (volume < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(caps); i++) {
        PyObject *item = PyList_GET_ITEM(caps, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_SetString(PyExc_TypeError, "cap services: (service, gop, visit)");
            return NULL;
        }
        PyObject *service = PyTuple_GET_ITEM(item, 0), *gop = PyTuple_GET_ITEM(item, 1);
        PyObject *fast_obj = PyObject_GetAttr(gop, rules.fast_name);
        long fast = fast_obj ? PyLong_AsLong(fast_obj) : -1;
        Py_XDECREF(fast_obj);
        if (fast == -1 && PyErr_Occurred())
            return NULL;
        long long multiplier = PyLong_AsLongLong(slot(service, rules.s_multiplier));
        if (multiplier == -1 && PyErr_Occurred())
            return NULL;
        PyObject *lanr = slot(service, rules.s_lanr), *key;
        long long amount;
        if (volume && fast & F_VOLUME) {
            PyObject *points = PyObject_GetAttr(gop, rules.points_name);
            if (!points)
                return NULL;
            long long p = points == Py_None ? 0 : PyLong_AsLongLong(points);
            Py_DECREF(points);
            if (p == -1 && PyErr_Occurred())
                return NULL;
            amount = p * multiplier * 100;
            key = PyTuple_Pack(2, lanr, rules.volume_key);
        } else {
            PyObject *base = PyObject_GetAttr(gop, rules.base_name);
            if (!base)
                return NULL;
            amount = multiplier;
            key = PyTuple_Pack(2, lanr, base);
            Py_DECREF(base);
        }
        if (!key)
            return NULL;
        PyObject *kind = PyDict_GetItemWithError(kinds, PyTuple_GET_ITEM(item, 2));
        if ((!kind && (PyErr_Occurred() || !PyErr_Format(PyExc_KeyError, "visit %R", PyTuple_GET_ITEM(item, 2))))
            || add_to(totals, key, amount) || (kind == rules.video && add_to(by_video, key, amount))) {
            Py_DECREF(key);
            return NULL;
        }
        Py_DECREF(key);
    }
    Py_RETURN_NONE;
}

/* ---- The plain Behandlungsfall ------------------------------------------------------------------
 *
 * check_plain(scheine, age, state) -> None or (total points x 100, services, unknown, video_only)
 * state: (infos, info, unknown_gops, lanr_checked, caps, tally, units, practice, no_unit)
 *
 * Most Behandlungsfälle of a quarter have no finding: a Pauschale of the right age tier and services
 * on separate days, in person or all by video with 88220. This walk recognises that common shape and,
 * only then, counts it as QuarterCheck.add would: the unknown GOPs, R8's counters, the case cap's
 * units and the totals (``tally``, folded into QuarterCheck's attributes by its summary()).
 * QuarterCheck._add_plain then makes the result. Everything else answers None before anything is changed, and QuarterCheck takes the full
 * path (rules.py, the reference; tests/billing/test_accelerated.py compares both): 01435, 88220
 * without an all-video case or an all-video case without it (R6), a GOP of the slower checks (R10,
 * dates, R13), an excluded surcharge in a video-only case (R4), a GOP not deliverable by video on a
 * video visit (R1/R11), a Pauschale beside a video visit (R3, R12), a limit per case exceeded (R5), a
 * wrong age tier (R14), two visits on one day (R9), a LANR not yet validated or faulty, an emergency
 * Schein (0104), stated contacts, more visits, LANRs or services of a kind than the fixed arrays
 * below hold, and any value of a type the reader does not make.
 *
 * caps: None (no R8 in this quarter) or (totals, by_video, volume) as for count_caps.
 * tally: [cases, scheine, points x 100, services, unknown, unpriced, video-only, counted, counted
 * video-only, plain cases] (a list of TALLY ints). units: R7's counters, unit -> [counted, video-only,
 * points x 100] (a defaultdict); practice: whether the unit is the practice (BSNR) rather than each
 * LANR; no_unit: the unit of a case without one.
 * age: the case's stated age (Case.age, TreatmentCase.age) or None; otherwise the age comes from
 * field 3103 of the first Schein as in model.age_of. */

#define PLAIN_VISITS 64
#define PLAIN_SMALL 16
#define PLAIN_SERVICES 256
#define TALLY 10
enum { T_CASES, T_SCHEINE, T_POINTS, T_SERVICES, T_UNKNOWN, T_UNPRICED, T_VIDEO_ONLY, T_COUNTED, T_COUNTED_VIDEO, T_PLAIN };
enum { F_MIN_CONTACTS = 4, F_SLOW = 8, F_EXCLUDED = 16 };

typedef struct {
    long key;   /* Schein number << 16 | visit */
    int flags;  /* 1 video, 4 in person */
} PlainVisit;

typedef struct {
    PyObject *group; /* borrowed from the catalogue's info tuple */
    long long limit, times;
} PlainLimit;

typedef struct {
    PyObject *service, *gop; /* borrowed: the Scheine and the catalogue hold them */
    long fast;
    long long points, multiplier;
    int visit; /* index into the visits */
} PlainCap;

/* An int that fits comfortably (|value| < 2^40) or -1 with *ok = 0. */
static long long
small_int(PyObject *value, int *ok)
{
    if (!PyLong_CheckExact(value)) {
        *ok = 0;
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || v >= (1LL << 40) || v <= -(1LL << 40)) {
        *ok = 0;
        return -1;
    }
    return v;
}

/* The age as model.age_of computes it: 1 known (*age set), 0 unknown, -1 not plain. ``first``: the
 * first service day as JJJJMMTT, 0 when the case has no services. */
static int
plain_age(PyObject *stated, PyObject *birth, long first, long long *age)
{
    int ok = 1;
    if (stated != Py_None) {
        *age = small_int(stated, &ok);
        return ok ? 1 : -1;
    }
    if (birth == Py_None)
        return 0;
    if (!PyBytes_CheckExact(birth))
        return -1;
    const char *text = PyBytes_AS_STRING(birth);
    Py_ssize_t len = PyBytes_GET_SIZE(birth);
    if (len == 0)
        return 0;
    const char *digits = text;
    Py_ssize_t ndigits = len;
    int stated_age = len >= 6 && memcmp(text, "alter:", 6) == 0;
    if (stated_age) {
        digits = text + 6;
        ndigits = len - 6;
    } else if (len != 8 || !first) {
        return 0;
    }
    if (ndigits == 0)
        return 0;
    if (ndigits > 9)
        return -1; /* a number Python reads without limit: leave it to Python */
    long long value = 0;
    for (Py_ssize_t i = 0; i < ndigits; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return 0;
        value = value * 10 + (digits[i] - '0');
    }
    if (stated_age) {
        *age = value;
        return 1;
    }
    long long month = value / 100 % 100, day = value % 100;
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return 0; /* the placeholder 00000000, or an unknown day or month */
    long long years = (long long)first - value;
    if (years < 0)
        return 0;
    *age = years / 10000;
    return 1;
}

/* Whether the GOP's age tier (age_min, age_max) admits ``age``: 1 yes, 0 no, -1 error. */
static int
in_tier(PyObject *gop, long long age)
{
    PyObject *names[2] = {rules.age_min_name, rules.age_max_name};
    for (int i = 0; i < 2; i++) {
        PyObject *bound = PyObject_GetAttr(gop, names[i]);
        if (!bound)
            return -1;
        int ok = 1;
        long long b = bound == Py_None ? 0 : small_int(bound, &ok);
        int none = bound == Py_None;
        Py_DECREF(bound);
        if (!ok)
            return 0; /* not a plain bound: the full path decides */
        if (!none && (i == 0 ? age < b : age > b))
            return 0;
    }
    return 1;
}

/* R8's counter of one service, as count_caps. */
static int
plain_count_cap(const PlainCap *cap, int video, PyObject *totals, PyObject *by_video, int volume)
{
    PyObject *lanr = slot(cap->service, rules.s_lanr), *key;
    long long amount;
    if (volume && cap->fast & F_VOLUME) {
        amount = cap->points * cap->multiplier * 100;
        key = PyTuple_Pack(2, lanr, rules.volume_key);
    } else {
        PyObject *base = PyObject_GetAttr(cap->gop, rules.base_name);
        if (!base)
            return -1;
        amount = cap->multiplier;
        key = PyTuple_Pack(2, lanr, base);
        Py_DECREF(base);
    }
    if (!key)
        return -1;
    int r = add_to(totals, key, amount) || (video && add_to(by_video, key, amount)) ? -1 : 0;
    Py_DECREF(key);
    return r;
}

/* list[index] += amount, for a list of ints */
static int
list_add(PyObject *list, Py_ssize_t index, long long amount)
{
    long long value = PyLong_AsLongLong(PyList_GET_ITEM(list, index));
    if (value == -1 && PyErr_Occurred())
        return -1;
    PyObject *sum = PyLong_FromLongLong(value + amount);
    return sum ? PyList_SetItem(list, index, sum) : -1;
}

/* R7: one more counted case for the unit (and a video-only one with its points). */
static int
count_unit(PyObject *units, PyObject *unit, int video_only, long long points)
{
    PyObject *counter = PyObject_GetItem(units, unit); /* a defaultdict makes it */
    if (!counter)
        return -1;
    int r = -1;
    if (!PyList_CheckExact(counter) || PyList_GET_SIZE(counter) != 3)
        PyErr_SetString(PyExc_TypeError, "units: [counted, video-only, points]");
    else
        r = list_add(counter, 0, 1) || (video_only && (list_add(counter, 1, 1) || list_add(counter, 2, points)))
                ? -1
                : 0;
    Py_DECREF(counter);
    return r;
}

static PyObject *
check_plain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!rules.ready) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    PyObject *state = nargs == 3 ? args[2] : NULL;
    if (!state || !PyTuple_Check(state) || PyTuple_GET_SIZE(state) != 9) {
        PyErr_SetString(PyExc_TypeError, "check_plain(scheine, age, state)");
        return NULL;
    }
    PyObject *infos = PyTuple_GET_ITEM(state, 0), *info_of = PyTuple_GET_ITEM(state, 1);
    PyObject *unknown_gops = PyTuple_GET_ITEM(state, 2), *lanr_checked = PyTuple_GET_ITEM(state, 3);
    PyObject *caps_state = PyTuple_GET_ITEM(state, 4), *tally = PyTuple_GET_ITEM(state, 5);
    PyObject *units = PyTuple_GET_ITEM(state, 6), *no_unit = PyTuple_GET_ITEM(state, 8);
    int practice = PyObject_IsTrue(PyTuple_GET_ITEM(state, 7));
    if (practice < 0)
        return NULL;
    if (!PyDict_Check(infos) || !PyDict_Check(unknown_gops) || !PyDict_Check(lanr_checked) || !PyDict_Check(units)
        || !PyList_CheckExact(tally) || PyList_GET_SIZE(tally) != TALLY
        || (caps_state != Py_None && (!PyTuple_Check(caps_state) || PyTuple_GET_SIZE(caps_state) != 3))) {
        PyErr_SetString(PyExc_TypeError, "check_plain: state (infos, info, unknown_gops, lanr_checked, caps, tally, "
                                         "units, practice, no_unit)");
        return NULL;
    }
    if (!PyList_CheckExact(args[0]) && !PyTuple_CheckExact(args[0]))
        Py_RETURN_NONE;
    PyObject *scheine = args[0];
    Py_ssize_t nscheine = PySequence_Fast_GET_SIZE(scheine);
    PyObject **items = PySequence_Fast_ITEMS(scheine);

    PlainVisit visits[PLAIN_VISITS];
    long days[PLAIN_VISITS]; /* JJJJMMTT of each visit's first service */
    PyObject *lanrs[PLAIN_SMALL], *tiered[PLAIN_SMALL], *unknown_codes[PLAIN_SERVICES];
    PlainLimit limits[PLAIN_SMALL];
    PlainCap caps[PLAIN_SERVICES];
    Py_ssize_t nvisits = 0, nlanrs = 0, ntiered = 0, nunknown = 0, nlimits = 0, ncaps = 0;
    long long total = 0;
    Py_ssize_t count = 0, unpriced = 0, marker = 0;
    long special = 0, first_day = 0;
    int has_pauschale = 0, tss_acute = 0, ok = 1;

    if (nscheine == 0)
        Py_RETURN_NONE;
    /* The Scheine waited in the grouping window and are out of the CPU caches by now: ask for all their
     * services at once, so that the memory loads overlap instead of coming one after the other. Only
     * addresses are computed here; nothing is read before the type checks below. */
    for (Py_ssize_t number = 0; number < nscheine; number++)
        if (Py_TYPE(items[number]) == rules.case_type) {
            PyObject *services = slot(items[number], rules.c_services);
            if (PyList_CheckExact(services))
                __builtin_prefetch(((PyListObject *)services)->ob_item);
        }
    for (Py_ssize_t number = 0; number < nscheine; number++)
        if (Py_TYPE(items[number]) == rules.case_type) {
            PyObject *services = slot(items[number], rules.c_services);
            if (PyList_CheckExact(services))
                for (Py_ssize_t i = 0; i < PyList_GET_SIZE(services); i++) {
                    char *service = (char *)PyList_GET_ITEM(services, i);
                    __builtin_prefetch(service);
                    __builtin_prefetch(service + 64);
                }
        }
    for (Py_ssize_t number = 0; number < nscheine; number++) {
        PyObject *schein = items[number];
        if (Py_TYPE(schein) != rules.case_type)
            Py_RETURN_NONE;
        PyObject *record = slot(schein, rules.c_record_type), *tss = slot(schein, rules.c_tss_acute);
        if (slot(schein, rules.c_contacts) != Py_None || !PyUnicode_Check(record)
            || PyUnicode_CompareWithASCIIString(record, "0104") == 0 || !PyBool_Check(tss))
            Py_RETURN_NONE; /* stated contacts, an emergency Schein: the full path */
        tss_acute |= tss == Py_True;
        PyObject *services = slot(schein, rules.c_services);
        if (!PyList_CheckExact(services))
            Py_RETURN_NONE;
        long offset = (long)number << 16;
        PyObject *last_number = NULL;
        PlainVisit *current = NULL;
        Py_ssize_t n = PyList_GET_SIZE(services);
        count += n;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *service = PyList_GET_ITEM(services, i);
            if (Py_TYPE(service) != rules.service_type)
                Py_RETURN_NONE;
            PyObject *code = slot(service, rules.s_gop);
            PyObject *visit_number = slot(service, rules.s_visit);
            PyObject *lanr = slot(service, rules.s_lanr);
            if (!PyUnicode_CheckExact(code) || (lanr != Py_None && !PyUnicode_CheckExact(lanr)))
                Py_RETURN_NONE;
            if (visit_number != last_number) {
                long key = (long)small_int(visit_number, &ok);
                if (!ok || key < 0 || key >= (1L << 16))
                    Py_RETURN_NONE;
                last_number = visit_number;
                key |= offset;
                current = NULL;
                for (Py_ssize_t v = 0; v < nvisits; v++)
                    if (visits[v].key == key) {
                        current = &visits[v];
                        break;
                    }
                if (!current) {
                    PyObject *day = slot(service, rules.s_date);
                    if (nvisits == PLAIN_VISITS || !PyDate_CheckExact(day))
                        Py_RETURN_NONE;
                    long ymd = PyDateTime_GET_YEAR(day) * 10000L + PyDateTime_GET_MONTH(day) * 100L
                               + PyDateTime_GET_DAY(day);
                    for (Py_ssize_t d = 0; d < nvisits; d++)
                        if (days[d] == ymd)
                            Py_RETURN_NONE; /* two visits on one day: R9 */
                    if (!first_day || ymd < first_day)
                        first_day = ymd;
                    days[nvisits] = ymd;
                    current = &visits[nvisits++];
                    current->key = key;
                    current->flags = 0;
                }
            }
            if (lanr != Py_None && PyUnicode_GET_LENGTH(lanr) > 0) {
                int seen = 0;
                for (Py_ssize_t l = 0; l < nlanrs && !seen; l++)
                    seen = lanrs[l] == lanr || PyUnicode_Compare(lanrs[l], lanr) == 0;
                if (!seen) {
                    if (nlanrs == PLAIN_SMALL)
                        Py_RETURN_NONE;
                    lanrs[nlanrs++] = lanr;
                }
            }
            PyObject *info = PyDict_GetItemWithError(infos, code);
            if (!info) {
                if (PyErr_Occurred())
                    return NULL;
                PyObject *made = PyObject_CallOneArg(info_of, code); /* CatalogueView.info stores it */
                if (!made)
                    return NULL;
                Py_DECREF(made);
                info = PyDict_GetItemWithError(infos, code);
                if (!info) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_RuntimeError, "info(code) must store its answer in infos");
                    return NULL;
                }
            }
            if (info == Py_None) {
                if (nunknown == PLAIN_SERVICES)
                    Py_RETURN_NONE;
                unknown_codes[nunknown++] = code;
                continue;
            }
            if (!PyTuple_CheckExact(info) || PyTuple_GET_SIZE(info) != 6)
                Py_RETURN_NONE;
            PyObject *points = PyTuple_GET_ITEM(info, 2);
            long long p = 0, m = small_int(slot(service, rules.s_multiplier), &ok);
            if (points == Py_None)
                unpriced++;
            else
                p = small_int(points, &ok);
            long fast = (long)small_int(PyTuple_GET_ITEM(info, 1), &ok);
            if (!ok || m < 0 || m > 1000000 || p < 0 || p > 100000000)
                Py_RETURN_NONE;
            total += p * m;
            if (!fast)
                continue;
            special |= fast;
            if (fast & (F_MIN_CONTACTS | F_SLOW))
                Py_RETURN_NONE; /* R10, dates, R13: the slow pass */
            if (fast & F_CAP && caps_state != Py_None) {
                if (ncaps == PLAIN_SERVICES)
                    Py_RETURN_NONE;
                caps[ncaps++] = (PlainCap){service, PyTuple_GET_ITEM(info, 0), fast, p, m, (int)(current - visits)};
            }
            if (fast & F_PERSONAL)
                current->flags |= 4;
            if (fast & F_KIND) {
                long kind = (long)small_int(PyTuple_GET_ITEM(info, 3), &ok);
                if (!ok || kind == K_TELEPHONE)
                    Py_RETURN_NONE; /* 01435: R1/R2 per Arztfall */
                if (kind == K_PAUSCHALE)
                    has_pauschale = 1;
                else if (kind == K_MARKER)
                    marker++;
            }
            if (fast & F_VIDEO_VISIT)
                current->flags |= 1;
            if (fast & F_LIMITED) {
                PyObject *group = PyTuple_GET_ITEM(info, 4);
                long long limit = small_int(PyTuple_GET_ITEM(info, 5), &ok);
                if (!ok || !PyUnicode_CheckExact(group))
                    Py_RETURN_NONE;
                PlainLimit *entry = NULL;
                for (Py_ssize_t g = 0; g < nlimits && !entry; g++)
                    if (limits[g].group == group || PyUnicode_Compare(limits[g].group, group) == 0)
                        entry = &limits[g];
                if (!entry) {
                    if (nlimits == PLAIN_SMALL)
                        Py_RETURN_NONE;
                    entry = &limits[nlimits++];
                    *entry = (PlainLimit){group, limit, 0}; /* the first service's limit, as rules.py */
                }
                entry->times++;
            }
            if (fast & F_TIERED) {
                if (ntiered == PLAIN_SMALL)
                    Py_RETURN_NONE;
                tiered[ntiered++] = PyTuple_GET_ITEM(info, 0);
            }
        }
    }
    /* Contact inference without 01435 (rules._first_pass): a video visit, an in-person one, else the
     * case's 88220 makes it video, and otherwise it is in person. */
    int video_only = nvisits > 0, any_video = 0;
    for (Py_ssize_t v = 0; v < nvisits; v++) {
        int video = visits[v].flags & 1 || (!(visits[v].flags & 4) && marker);
        any_video |= video;
        video_only &= video;
    }
    if (video_only != (marker > 0))
        Py_RETURN_NONE; /* R6 */
    for (Py_ssize_t g = 0; g < nlimits; g++)
        if (limits[g].times > limits[g].limit)
            Py_RETURN_NONE; /* R5 */
    if (any_video && (has_pauschale || special & F_PERSONAL))
        Py_RETURN_NONE; /* R3 deduction, R12, R1/R11 */
    if (video_only && special & F_EXCLUDED)
        Py_RETURN_NONE; /* R4 */
    if (ntiered) { /* R14 */
        long long age = 0;
        int known = plain_age(args[1], slot(items[0], rules.c_birth), count ? first_day : 0, &age);
        if (known < 0)
            Py_RETURN_NONE;
        for (Py_ssize_t t = 0; known && t < ntiered; t++) {
            int fits = in_tier(tiered[t], age);
            if (fits < 0)
                return NULL;
            if (!fits)
                Py_RETURN_NONE;
        }
    }
    for (Py_ssize_t l = 0; l < nlanrs; l++) {
        PyObject *problem = PyDict_GetItemWithError(lanr_checked, lanrs[l]);
        if (!problem && PyErr_Occurred())
            return NULL;
        if (problem != Py_None)
            Py_RETURN_NONE; /* not validated yet, or faulty: the full path says so */
    }

    /* Plain: count it. */
    for (Py_ssize_t u = 0; u < nunknown; u++)
        if (add_to(unknown_gops, unknown_codes[u], 1))
            return NULL;
    if (caps_state != Py_None) {
        PyObject *totals = PyTuple_GET_ITEM(caps_state, 0), *by_video = PyTuple_GET_ITEM(caps_state, 1);
        int volume = PyObject_IsTrue(PyTuple_GET_ITEM(caps_state, 2));
        if (volume < 0 || !PyDict_Check(totals) || !PyDict_Check(by_video)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "caps: (totals, by_video, volume)");
            return NULL;
        }
        for (Py_ssize_t c = 0; c < ncaps; c++) {
            const PlainVisit *visit = &visits[caps[c].visit];
            int video = visit->flags & 1 || (!(visit->flags & 4) && marker);
            if (plain_count_cap(&caps[c], video, totals, by_video, volume))
                return NULL;
        }
    }
    total *= 100;
    if (list_add(tally, T_CASES, 1) || list_add(tally, T_SCHEINE, nscheine) || list_add(tally, T_POINTS, total)
        || list_add(tally, T_SERVICES, count) || list_add(tally, T_UNKNOWN, nunknown)
        || list_add(tally, T_UNPRICED, unpriced) || list_add(tally, T_VIDEO_ONLY, video_only)
        || list_add(tally, T_PLAIN, 1))
        return NULL;
    if (!tss_acute) { /* R7 (no emergency Schein here: those take the full path) */
        if (list_add(tally, T_COUNTED, 1) || list_add(tally, T_COUNTED_VIDEO, video_only))
            return NULL;
        if (practice) {
            PyObject *bsnr = slot(items[0], rules.c_bsnr);
            int has = PyObject_IsTrue(bsnr);
            if (has < 0 || count_unit(units, has ? bsnr : no_unit, video_only, total))
                return NULL;
        } else if (!nlanrs) {
            if (count_unit(units, no_unit, video_only, total))
                return NULL;
        } else {
            for (Py_ssize_t l = 0; l < nlanrs; l++)
                if (count_unit(units, lanrs[l], video_only, total))
                    return NULL;
        }
    }
    return Py_BuildValue("(LnnN)", total, count, nunknown, PyBool_FromLong(video_only));
}

/* group_key(schein) -> the Behandlungsfall key grouping._key makes of the Schein's patient (3101,
 * 3102, 3103), payer (4111) and quarter (4101), the same bytes; None when the Schein is no Case or
 * has no surname or quarter (grouping.group_key decides then). One bytes object caches its hash,
 * which a tuple computes again at every lookup. */
static PyObject *
group_key(PyObject *module, PyObject *schein)
{
    if (!rules.ready || Py_TYPE(schein) != rules.case_type)
        Py_RETURN_NONE;
    PyObject *parts[4] = {slot(schein, rules.c_name), slot(schein, rules.c_first_name), slot(schein, rules.c_birth),
                          slot(schein, rules.c_payer)};
    PyObject *quarter = slot(schein, rules.c_quarter);
    if (parts[0] == Py_None || quarter == Py_None)
        Py_RETURN_NONE;
    Py_ssize_t size = 48; /* the quarter: two numbers and a slash */
    for (int i = 0; i < 4; i++) {
        if (parts[i] == Py_None)
            size += 1;
        else if (PyBytes_CheckExact(parts[i]))
            size += 24 + PyBytes_GET_SIZE(parts[i]); /* its length, a colon and itself */
        else
            Py_RETURN_NONE;
    }
    long long numbers[2];
    PyObject *names[2] = {rules.year_name, rules.number_name};
    for (int i = 0; i < 2; i++) {
        PyObject *value = PyObject_GetAttr(quarter, names[i]);
        if (!value)
            return NULL;
        int ok = 1;
        numbers[i] = small_int(value, &ok);
        Py_DECREF(value);
        if (!ok)
            Py_RETURN_NONE;
    }
    PyObject *key = PyBytes_FromStringAndSize(NULL, size);
    if (!key)
        return NULL;
    char *out = PyBytes_AS_STRING(key);
    Py_ssize_t at = 0;
    for (int i = 0; i < 4; i++) {
        if (parts[i] == Py_None) {
            out[at++] = '-';
            continue;
        }
        Py_ssize_t len = PyBytes_GET_SIZE(parts[i]);
        at += snprintf(out + at, (size_t)(size - at), "%zd:", len);
        memcpy(out + at, PyBytes_AS_STRING(parts[i]), (size_t)len);
        at += len;
    }
    at += snprintf(out + at, (size_t)(size - at), "%lld/%lld", numbers[0], numbers[1]);
    if (_PyBytes_Resize(&key, at))
        return NULL;
    return key;
}

/* bloom(filter, h, add) -> whether the four bits of the key hash h were all set (before adding them
 * when add): grouping.Grouper's Bloom filter (positions h1 + i·h2 of the 64-bit hash, Kirsch and
 * Mitzenmacher 2006), the same bits as its Python reference there. ``filter``: a writable buffer of
 * 2^27 bits. */
#define BLOOM_SHIFT 27
#define BLOOM_MASK ((UINT64_C(1) << BLOOM_SHIFT) - 1)
/* The four bits of key hash h in bits[2^27 / 8]: whether all were set (before adding them when add). */
static int
bloom_bits(unsigned char *bits, long long h, int add)
{
    uint64_t u = (uint64_t)h;
    /* Python's h >> 27 floors: for a negative h that is ~(~h >> 27) on the two's complement bits */
    uint64_t shifted = h < 0 ? ~(~u >> BLOOM_SHIFT) : u >> BLOOM_SHIFT;
    uint64_t a = u & BLOOM_MASK, step = (shifted & BLOOM_MASK) | 1;
    int all = 1;
    for (int i = 0; i < 4; i++) {
        unsigned char bit = (unsigned char)(1u << (a & 7));
        if (!(bits[a >> 3] & bit)) {
            all = 0;
            if (!add)
                break;
        }
        if (add)
            bits[a >> 3] |= bit;
        a = (a + step) & BLOOM_MASK;
    }
    return all;
}

static PyObject *
bloom(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "bloom(filter, hash, add)");
        return NULL;
    }
    long long h = PyLong_AsLongLong(args[1]);
    int add = PyObject_IsTrue(args[2]);
    if ((h == -1 && PyErr_Occurred()) || add < 0)
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_WRITABLE))
        return NULL;
    if (view.len != (Py_ssize_t)((BLOOM_MASK + 1) / 8)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "the filter has 2**27 bits");
        return NULL;
    }
    int all = bloom_bits(view.buf, h, add);
    PyBuffer_Release(&view);
    return PyBool_FromLong(all);
}

/* -- the grouping window (grouping.Grouper with a window, C paths) --------------------------------
 *
 * Window(window, fallback): push(schein) files a Schein under its Behandlungsfall key (group_key, or
 * fallback(schein) = grouping.group_key when that gives None) and returns what is to be checked now:
 * the Schein itself when it has no key, the group opened earliest (a Case, or a list of Cases) when
 * more than ``window`` Scheine are held, else None. flush() returns the groups still open, earliest
 * first. A new key already in the Bloom filter (made at the first eviction, filled with the keys of
 * evicted groups) counts as ``scattered``. grouping.Grouper's Python loop is the reference: the same
 * groups in the same order, the same bits in ``bloom``. */
typedef struct {
    PyObject_HEAD
    PyObject *groups;   /* key -> Case or list of Cases */
    PyObject **ring;    /* the keys of the open groups, earliest at ``head`` (owned references) */
    Py_ssize_t capacity, head, open;
    Py_ssize_t window, held, scattered, pushed;
    PyObject *bloom;    /* bytearray of 2^27 bits, or NULL before the first eviction */
    PyObject *fallback;
} Window;

static int
Window_init(Window *self, PyObject *args, PyObject *kwds)
{
    Py_ssize_t window;
    PyObject *fallback;
    if (!PyArg_ParseTuple(args, "nO:Window", &window, &fallback))
        return -1;
    if (window < 0 || window > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(PyObject *) - 2) {
        PyErr_SetString(PyExc_ValueError, "window out of range");
        return -1;
    }
    if (self->groups) {
        PyErr_SetString(PyExc_RuntimeError, "Window is made once");
        return -1;
    }
    self->capacity = window + 2; /* open groups <= held <= window + 1 */
    self->ring = PyMem_Calloc((size_t)self->capacity, sizeof(PyObject *));
    self->groups = PyDict_New();
    if (!self->ring || !self->groups) {
        PyErr_NoMemory();
        return -1;
    }
    self->window = window;
    self->fallback = Py_NewRef(fallback);
    return 0;
}

static void
Window_dealloc(Window *self)
{
    if (self->ring) {
        for (Py_ssize_t i = 0; i < self->open; i++)
            Py_XDECREF(self->ring[(self->head + i) % self->capacity]);
        PyMem_Free(self->ring);
    }
    Py_XDECREF(self->groups);
    Py_XDECREF(self->bloom);
    Py_XDECREF(self->fallback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
window_bloom(Window *self, PyObject *key, int add)
{
    if (PyByteArray_GET_SIZE(self->bloom) != (Py_ssize_t)((BLOOM_MASK + 1) / 8)) { /* resized from Python */
        PyErr_SetString(PyExc_ValueError, "the filter has 2**27 bits");
        return -1;
    }
    Py_hash_t h = PyObject_Hash(key);
    if (h == -1)
        return -1;
    return bloom_bits((unsigned char *)PyByteArray_AS_STRING(self->bloom), (long long)h, add);
}

static PyObject *
Window_push(Window *self, PyObject *schein)
{
    if (!self->groups) {
        PyErr_SetString(PyExc_RuntimeError, "Window not initialised");
        return NULL;
    }
    PyObject *key = group_key(NULL, schein);
    if (key == Py_None) {
        Py_DECREF(key);
        key = PyObject_CallOneArg(self->fallback, schein);
    }
    if (!key)
        return NULL;
    self->pushed++;
    if (key == Py_None) { /* no patient known: checked alone, now */
        Py_DECREF(key);
        return Py_NewRef(schein);
    }
    PyObject *group = PyDict_GetItemWithError(self->groups, key);
    if (group) {
        int r;
        if (PyList_CheckExact(group)) {
            r = PyList_Append(group, schein);
        } else {
            PyObject *both = PyList_New(2);
            if (!both) {
                Py_DECREF(key);
                return NULL;
            }
            PyList_SET_ITEM(both, 0, Py_NewRef(group));
            PyList_SET_ITEM(both, 1, Py_NewRef(schein));
            r = PyDict_SetItem(self->groups, key, both);
            Py_DECREF(both);
        }
        Py_DECREF(key);
        if (r)
            return NULL;
    } else {
        if (PyErr_Occurred() || self->open == self->capacity) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "window ring full");
            Py_DECREF(key);
            return NULL;
        }
        int seen = self->bloom ? window_bloom(self, key, 0) : 0;
        if (seen < 0 || PyDict_SetItem(self->groups, key, schein)) {
            Py_DECREF(key);
            return NULL;
        }
        self->scattered += seen;
        self->ring[(self->head + self->open++) % self->capacity] = key; /* the ring owns it */
    }
    if (++self->held <= self->window)
        Py_RETURN_NONE;
    /* Too many held: the group opened earliest is checked now. */
    PyObject *oldest = self->ring[self->head];
    self->ring[self->head] = NULL;
    self->head = (self->head + 1) % self->capacity;
    self->open--;
    PyObject *evicted = PyDict_GetItemWithError(self->groups, oldest);
    if (!evicted) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "window: an open group is missing");
        Py_DECREF(oldest);
        return NULL;
    }
    Py_INCREF(evicted);
    self->held -= PyList_CheckExact(evicted) ? PyList_GET_SIZE(evicted) : 1;
    if (!self->bloom) {
        self->bloom = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)((BLOOM_MASK + 1) / 8));
        if (self->bloom)
            memset(PyByteArray_AS_STRING(self->bloom), 0, (size_t)((BLOOM_MASK + 1) / 8));
    }
    if (!self->bloom || PyDict_DelItem(self->groups, oldest) || window_bloom(self, oldest, 1) < 0) {
        Py_DECREF(oldest);
        Py_DECREF(evicted);
        return NULL;
    }
    Py_DECREF(oldest);
    return evicted;
}

static PyObject *
Window_flush(Window *self, PyObject *unused)
{
    PyObject *out = PyList_New(0);
    if (!out || !self->groups)
        return out;
    while (self->open) {
        PyObject *key = self->ring[self->head];
        self->ring[self->head] = NULL;
        self->head = (self->head + 1) % self->capacity;
        self->open--;
        PyObject *group = PyDict_GetItemWithError(self->groups, key);
        int r = group ? PyList_Append(out, group) : -1;
        if (!group && !PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "window: an open group is missing");
        if (r == 0)
            r = PyDict_DelItem(self->groups, key);
        Py_DECREF(key);
        if (r) {
            Py_DECREF(out);
            return NULL;
        }
    }
    self->held = 0;
    return out;
}

static PyObject *
Window_get_bloom(Window *self, void *closure)
{
    return Py_NewRef(self->bloom ? self->bloom : Py_None);
}

static PyMethodDef Window_methods[] = {
    {"push", (PyCFunction)Window_push, METH_O, "file a Schein; what is to be checked now, or None"},
    {"flush", (PyCFunction)Window_flush, METH_NOARGS, "the groups still open, earliest first"},
    {NULL},
};

static PyMemberDef Window_members[] = {
    {"scattered", T_PYSSIZET, offsetof(Window, scattered), READONLY, "new keys the Bloom filter had seen"},
    {"pushed", T_PYSSIZET, offsetof(Window, pushed), READONLY, "Scheine pushed"},
    {NULL},
};

static PyGetSetDef Window_getset[] = {
    {"bloom", (getter)Window_get_bloom, NULL, "the Bloom filter's bits (None before the first eviction)", NULL},
    {NULL},
};

static PyTypeObject WindowType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sprechzimmer.billing.domain._kvdt.Window",
    .tp_doc = "The grouping window of grouping.Grouper.",
    .tp_basicsize = sizeof(Window),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Window_init,
    .tp_dealloc = (destructor)Window_dealloc,
    .tp_methods = Window_methods,
    .tp_members = Window_members,
    .tp_getset = Window_getset,
};

static PyMethodDef module_methods[] = {
    {"bloom", (PyCFunction)(void (*)(void))bloom, METH_FASTCALL, "the Grouper's Bloom filter: test (and add) a key hash"},
    {"check_plain", (PyCFunction)(void (*)(void))check_plain, METH_FASTCALL, "a Behandlungsfall without findings, counted; else None"},
    {"group_key", (PyCFunction)group_key, METH_O, "the grouping key of a Schein (grouping._key)"},
    {"count_caps", (PyCFunction)(void (*)(void))count_caps, METH_FASTCALL, "R8's counters of one Behandlungsfall"},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL, "configure(Case, Service, VIDEO, TELEPHONE, PERSONAL)"},
    {"first_pass", (PyCFunction)(void (*)(void))first_pass, METH_FASTCALL, "the first pass of QuarterCheck._check"},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kvdt", "The KVDT line loop in C (see kvdt.py).", -1, module_methods,
};

#define INTERN(var, text) if (!(var = PyUnicode_InternFromString(text))) return NULL

PyMODINIT_FUNC
PyInit__kvdt(void)
{
    INTERN(s_date_m, "_date");
    INTERN(s_gop_m, "_gop");
    INTERN(s_lanr_m, "_lanr");
    INTERN(s_time_m, "_time");
    INTERN(s_digits_m, "_digits");
    INTERN(s_quarter_m, "_quarter");
    INTERN(s_billing_quarter_m, "_billing_quarter");
    INTERN(s_record_m, "_record");
    INTERN(s_pseudonym_m, "_pseudonym");
    INTERN(s_age_m, "_age");
    INTERN(s_bsnr_m, "_bsnr");
    INTERN(s_fail_m, "_fail");
    INTERN(s_scan_m, "_scan");
    INTERN(s_bad_block_m, "_bad_block");
    INTERN(s_finish_m, "_finish");
    INTERN(s_case_id_m, "_case_id");
    INTERN(s_subgroup_m, "_subgroup");
    INTERN(s_multiplier_m, "_multiplier");
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI)
        return NULL;
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    if (PyType_Ready(&WindowType) < 0 || PyModule_AddObjectRef(m, "Window", (PyObject *)&WindowType) < 0
        || PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
