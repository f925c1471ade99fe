# cython: language_level=3
"""segment._walk over libxml2's nodes, read straight from C: the same rows, without a Python proxy, a
dict of attributes and an event tuple for every element walked, a string for every word of a block, or a
tag path and class/id string for every element (segment.py's docstrings say what the walk does;
tests/test_segment.py checks that both walks give the same rows)."""

cimport cython
from cpython.ref cimport PyObject
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.stdlib cimport free, malloc
from libc.string cimport strcmp, strlen

from winnow._unicode cimport (PyUnicode_KIND, PyUnicode_DATA, PyUnicode_READ, PyUnicode_GET_LENGTH,
                             Py_UNICODE_ISSPACE, PyUnicode_FromKindAndData, PyUnicode_4BYTE_KIND)

cimport lxml.includes.etreepublic as cetree
from lxml.includes cimport tree

# segment.py imports this module after defining these.
from winnow.segment import BLOCK_TAGS, LABEL_ATTRIBUTE, _REACT_STREAMED, _tokens_of

cetree.import_lxml__etree()


@cython.no_gc  # holds strings and its parent: no cycles to collect, and the walk makes one per element
cdef class _Open:
    cdef str tag, tokens, label, owner
    cdef bint is_block, skipped
    cdef _Open parent
    # The tag path of the blocks down to here, and the class/id tokens of all elements down to here: made
    # when a row first needs them (_made), since most elements start no row.
    cdef str path, all_tokens


cdef _Open _open(str tag, _Open parent, str tokens, str label, bint is_block, bint skipped):
    cdef _Open opened = _Open.__new__(_Open)
    opened.tag, opened.tokens, opened.is_block, opened.skipped, opened.parent = tag, tokens, is_block, skipped, parent
    opened.label = label or (parent.label if parent is not None else "")
    opened.owner = tag if is_block else (parent.owner if parent is not None else "")
    return opened


cdef inline str _joined(str first, str second):
    """The two space-separated, either alone where the other is empty."""
    return f"{first} {second}" if first and second else first or second


cdef _Open _made(_Open opened):
    """`opened`, with its path and all_tokens made, and those of its ancestors that lacked them."""
    cdef list unmade = []
    cdef _Open o = opened
    while o is not None and o.path is None:
        unmade.append(o)
        o = o.parent
    for o in reversed(unmade):
        o.path, o.all_tokens = (o.parent.path, o.parent.all_tokens) if o.parent is not None else ("", "")
        if o.is_block:
            o.path = _joined(o.path, o.tag)
        if o.tokens:
            o.all_tokens = _joined(o.all_tokens, o.tokens)
    return opened


cdef bint _visible(str text):
    """not text.isspace(), without a method call: True for "" too."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), k
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    for k in range(n):
        if not Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k)):
            return True
    return n == 0


cdef str _collapse(list parts):
    """segment.collapse("".join(parts)): runs of whitespace as one space, none at the ends, written into one
    buffer instead of a string for every word."""
    cdef Py_ssize_t length = 0, written = 0, k
    cdef int kind
    cdef void* data
    cdef Py_UCS4 c
    cdef bint gap = False
    for part in parts:
        length += PyUnicode_GET_LENGTH(part)
    cdef Py_UCS4* out = <Py_UCS4*>malloc((length + 1) * sizeof(Py_UCS4))
    if out is NULL:
        raise MemoryError()
    try:
        for part in parts:
            kind, data = PyUnicode_KIND(part), PyUnicode_DATA(part)
            for k in range(PyUnicode_GET_LENGTH(part)):
                c = PyUnicode_READ(kind, data, k)
                if Py_UNICODE_ISSPACE(c):
                    gap = written > 0
                    continue
                if gap:
                    out[written] = 32
                    written += 1
                    gap = False
                out[written] = c
                written += 1
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, written)
    finally:
        free(out)


cdef Py_ssize_t _stripped_length(str text):
    """len(text.strip()), without making the stripped copy."""
    cdef Py_ssize_t start = 0, end = PyUnicode_GET_LENGTH(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    while start < end and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, start)):
        start += 1
    while end > start and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end - 1)):
        end -= 1
    return end - start


cdef bint _may_hide(const char* style):
    """Whether a style attribute may hide its element: it holds "none" or "hidden" in any case, which each
    of segment's hiding styles needs (or a byte beyond ASCII: the regex decides). Most styles hold
    neither, and are neither decoded nor searched."""
    cdef Py_ssize_t k = 0
    cdef unsigned char c
    while style[k]:
        c = <unsigned char>style[k] | 0x20
        if c >= 0x80 or (c == b'n' and _lower_at(style + k, b"none")) or \
                (c == b'h' and _lower_at(style + k, b"hidden")):
            return True
        k += 1
    return False


cdef inline bint _lower_at(const char* text, const char* word):
    """Whether text starts with the lower-case ASCII `word`, in any case."""
    cdef Py_ssize_t k = 0
    while word[k]:
        if (<unsigned char>text[k] | 0x20) != <unsigned char>word[k]:
            return False
        k += 1
    return True


cdef inline str _utf8(const char* text):
    return PyUnicode_DecodeUTF8(text, strlen(text), NULL)


cdef inline bint _walked(tree.xmlNode* node):
    """What lxml's iterwalk visits: elements, and comments, PIs and entity references (skipped here)."""
    return node.type == tree.XML_ELEMENT_NODE or node.type == tree.XML_COMMENT_NODE or \
        node.type == tree.XML_PI_NODE or node.type == tree.XML_ENTITY_REF_NODE


cdef tree.xmlNode* _next_walked(tree.xmlNode* node):
    while node is not NULL and not _walked(node):
        node = node.next
    return node


cdef inline bint _is_text(tree.xmlNode* node):
    return node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE


cdef inline bint _in_text_run(tree.xmlNode* node):
    """What lxml's .text / .tail read through: text, and XInclude markers (skipped)."""
    return _is_text(node) or node.type == tree.XML_XINCLUDE_START or node.type == tree.XML_XINCLUDE_END


cdef object _text_from(tree.xmlNode* node):
    """lxml's .text / .tail: the run of text nodes from `node` (None when there is none)."""
    cdef list pieces
    cdef bint found = False
    if node is NULL or not _in_text_run(node):
        return None  # most calls: no text at all
    if _is_text(node) and (node.next is NULL or not _in_text_run(node.next)):  # one text node: no list to join
        return _utf8(<const char*>node.content) if node.content is not NULL else ""
    pieces = []
    while node is not NULL and _in_text_run(node):
        if _is_text(node):
            found = True
            if node.content is not NULL and node.content[0] != 0:
                pieces.append(_utf8(<const char*>node.content))
        node = node.next
    if not found:
        return None
    return pieces[0] if len(pieces) == 1 else "".join(pieces)


cdef str _attribute_value(tree.xmlAttr* attribute):
    cdef tree.xmlNode* child = attribute.children
    cdef list pieces
    if child is not NULL and child.next is NULL:  # one text node, the common case: no list to join
        return _utf8(<const char*>child.content) if child.content is not NULL else ""
    pieces = []
    while child is not NULL:
        if child.content is not NULL:
            pieces.append(_utf8(<const char*>child.content))
        child = child.next
    return "".join(pieces)


DEF TOKEN_BUFFER = 512
cdef const char* _EMPTY = b""


cdef const char* _plain_value(tree.xmlAttr* attribute):
    """An attribute's value where it is one run of text ("" without one; NULL where it is several, which
    _attribute_value joins)."""
    cdef tree.xmlNode* child = attribute.children
    if child is NULL or (child.next is NULL and child.content is NULL):
        return _EMPTY
    if child.next is not NULL:
        return NULL
    return <const char*>child.content


cdef int _add_tokens(const char* text, char* out, int at) noexcept:
    """Append the runs of two or more ASCII letters of `text`, lower-cased, each after a space, to `out`
    from `at`; the new length, or -1 for a byte beyond ASCII or an `out` too short."""
    cdef int start = -1, k = 0, j
    cdef char c
    while True:
        c = text[k]
        if <unsigned char>c >= 0x80:
            return -1
        if b'A' <= c <= b'Z' or b'a' <= c <= b'z':
            if start < 0:
                start = k
        else:
            if start >= 0 and k - start >= 2:
                if at + 1 + k - start >= TOKEN_BUFFER:
                    return -1
                out[at] = b' '
                for j in range(start, k):
                    out[at + 1 + j - start] = text[j] | 0x20  # lower-case
                at += 1 + k - start
            start = -1
            if c == 0:
                return at
        k += 1


cdef str _tokens(tree.xmlAttr* classes, tree.xmlAttr* ids):
    """segment._tokens_of(class + " " + id): read from the values themselves where they are ASCII (the same
    runs of [a-z] that lower-casing and the regex find); through Python where they are not."""
    cdef char out[TOKEN_BUFFER]
    cdef const char* class_text = _EMPTY
    cdef const char* id_text = _EMPTY
    if classes is not NULL:
        class_text = _plain_value(classes)
    if ids is not NULL:
        id_text = _plain_value(ids)
    cdef int length = 0
    if class_text is not NULL and id_text is not NULL:
        length = _add_tokens(class_text, out, 0)
        if length >= 0:
            length = _add_tokens(id_text, out, length)
        if length >= 0:
            return PyUnicode_DecodeASCII(out + 1, length - 1, NULL) if length else ""
    return _tokens_of((_attribute_value(classes) if classes is not NULL else "") + " " +
                      (_attribute_value(ids) if ids is not NULL else ""))


@cython.no_gc
cdef class _Tag:
    """A lowered tag name, and whether the walk skips or starts a block at it."""
    cdef str name
    cdef bint skipped, block


cdef _Tag _tag(str name, frozenset skip):
    cdef _Tag tag = _Tag.__new__(_Tag)
    tag.name, tag.skipped, tag.block = name, not name or name in skip, name in BLOCK_TAGS
    return tag


DEF TAG_SLOTS = 256


cdef class _Tags:
    """The _Tag of each node name met in one walk (`skip` differs by walk). libxml2 keeps one copy of each
    name per document, so a name is known by its address: a slot picked by the address holds the last name
    met there, a dict the rest."""
    cdef frozenset skip
    cdef dict known  # address -> _Tag
    cdef size_t addresses[TAG_SLOTS]
    cdef PyObject* slots[TAG_SLOTS]  # borrowed from `known`

    def __cinit__(self, frozenset skip):
        self.skip, self.known = skip, {}

    cdef _Tag of(self, tree.xmlNode* node):
        """The node's _Tag (name "" for a comment, PI or entity reference)."""
        cdef size_t address
        cdef Py_ssize_t slot
        if node.type != tree.XML_ELEMENT_NODE:
            address = 0
        elif node.ns is not NULL and node.ns.href is not NULL:
            name = "{" + _utf8(<const char*>node.ns.href) + "}" + _utf8(<const char*>node.name)
            return _tag(name.lower(), self.skip)
        else:
            address = <size_t>node.name
        slot = (address >> 4) % TAG_SLOTS
        if self.slots[slot] is not NULL and self.addresses[slot] == address:
            return <_Tag>self.slots[slot]
        tag = self.known.get(address)
        if tag is None:
            tag = self.known[address] = _tag(_utf8(<const char*>node.name).lower() if address else "", self.skip)
        self.addresses[slot], self.slots[slot] = address, <PyObject*>tag
        return tag


cdef class _Walk:
    cdef list rows, parts, stack
    cdef int link_chars, max_blocks
    cdef object label  # of the block being gathered, once it has visible text (None before)

    cdef void add(self, str text):
        self.parts.append(text)
        if self.label is None and _visible(text):
            self.label = (<_Open>self.stack[-1]).label if self.stack else ""

    cdef void flush(self):
        cdef _Open top
        if self.label is not None:
            text = _collapse(self.parts)
            if text and len(self.rows) < self.max_blocks:
                stack = self.stack
                top = _made(stack[-1]) if stack else None
                owner, path, near = (top.owner, top.path, top.tokens) if top is not None else ("", "", "")
                if len(stack) > 1:
                    near = _joined((<_Open>stack[-2]).tokens, near)
                far = (<_Open>stack[-3]).all_tokens if len(stack) > 2 else ""  # made with top's
                self.rows.append((text, owner, path, len(stack), min(self.link_chars, len(text)), near, far, 0,
                                  self.label))
        if self.parts:
            del self.parts[:]
        self.link_chars, self.label = 0, None


def walk(cetree._Element root, bint images, int max_blocks, frozenset skip, int max_elements, object hidden_style):
    """The block rows of segment._walk (without anchors)."""
    cdef _Walk state = _Walk()
    state.rows, state.parts, state.stack = [], [], []
    state.link_chars, state.max_blocks, state.label = 0, max_blocks, None
    cdef bytes label_name = LABEL_ATTRIBUTE.encode()
    cdef const char* c_label_name = label_name
    cdef tree.xmlNode* node = root._c_node
    cdef tree.xmlNode* child
    cdef tree.xmlAttr* attribute
    cdef tree.xmlAttr* class_attribute
    cdef tree.xmlAttr* id_attribute
    cdef const char* name
    cdef const char* value
    cdef int started = 0, in_link = 0
    cdef bint descend, has_attributes, hidden_attribute, hidden, is_image, is_block
    cdef _Open parent, opened
    cdef _Tag kind
    cdef str tag
    cdef object text, label, style, aria, src, alt
    stack = state.stack
    cdef _Tags tags = _Tags(skip)
    while node is not NULL:
        # start
        started += 1
        if started > max_elements:
            break
        kind = tags.of(node)
        tag = kind.name
        parent = stack[-1] if stack else None
        label = style = aria = src = alt = None
        class_attribute = id_attribute = NULL
        has_attributes = hidden_attribute = False
        if node.type == tree.XML_ELEMENT_NODE:
            attribute = node.properties
            while attribute is not NULL:
                has_attributes = True
                if attribute.ns is NULL or attribute.ns.href is NULL:
                    name = <const char*>attribute.name
                    if strcmp(name, "class") == 0:
                        class_attribute = attribute if class_attribute is NULL else class_attribute
                    elif strcmp(name, "id") == 0:
                        id_attribute = attribute if id_attribute is NULL else id_attribute
                    elif strcmp(name, c_label_name) == 0:
                        label = _attribute_value(attribute) if label is None else label
                    elif strcmp(name, "hidden") == 0:
                        hidden_attribute = True
                    elif strcmp(name, "aria-hidden") == 0:
                        aria = _attribute_value(attribute) if aria is None else aria
                    elif strcmp(name, "style") == 0 and style is None:
                        value = _plain_value(attribute)
                        style = _attribute_value(attribute) if value is NULL or _may_hide(value) else ""
                    elif strcmp(name, "src") == 0:
                        src = _attribute_value(attribute) if src is None else src
                    elif strcmp(name, "alt") == 0:
                        alt = _attribute_value(attribute) if alt is None else alt
                attribute = attribute.next
        if hidden_attribute:  # segment._hidden
            hidden = not _REACT_STREAMED.fullmatch(_attribute_value(id_attribute) if id_attribute is not NULL else "")
        else:
            hidden = (aria is not None and aria == "true") or bool(style and hidden_style.search(style))
        descend = True
        if kind.skipped or (has_attributes and hidden):
            stack.append(_open(tag, parent, "", "", False, True))
            descend = False
        else:
            is_image = images and tag == "img"
            is_block = kind.block or is_image
            if is_block:
                state.flush()
            tokens = _tokens(class_attribute, id_attribute) if class_attribute is not NULL or id_attribute is not NULL else ""
            stack.append(_open(tag, parent, tokens, label or "", is_block, False))
            if is_image:
                source = (src or "").strip()
                state.add(source if source and not source.startswith("data:") else (alt or ""))
            if tag == "a":
                in_link += 1
            text = _text_from(node.children)
            if text:
                state.add(text)
                if in_link:
                    state.link_chars += _stripped_length(text)
        child = _next_walked(node.children) if descend and node.type == tree.XML_ELEMENT_NODE else NULL
        if child is not NULL:
            node = child
            continue
        # end events, climbing until a node with a next sibling to walk
        while True:
            opened = stack.pop()
            if opened.is_block:
                stack.append(opened)  # the block's own tokens and label still apply to its last text
                state.flush()
                stack.pop()
            tag = opened.tag
            if tag == "a" and not opened.skipped:
                in_link -= 1
            text = _text_from(node.next)
            if text:
                state.add(" " + text if tag == "br" else text)
                if in_link:
                    state.link_chars += _stripped_length(text)
            if node is root._c_node:
                node = NULL
                break
            child = _next_walked(node.next)
            if child is not NULL:
                node = child
                break
            node = node.parent
    state.flush()
    return state.rows

