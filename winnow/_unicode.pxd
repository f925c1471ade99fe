# CPython's str internals, as the compiled modules read and make strings without a Python call per
# character (declarations only: no module of its own).
cdef extern from "Python.h":
    int PyUnicode_KIND(object string)
    void* PyUnicode_DATA(object string)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index)
    Py_ssize_t PyUnicode_GET_LENGTH(object string)
    bint Py_UNICODE_ISSPACE(Py_UCS4 character)
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    int PyUnicode_1BYTE_KIND
    int PyUnicode_4BYTE_KIND
