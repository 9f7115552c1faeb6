#!/usr/bin/python3
"""Writes the hand-made seeds of the fuzz corpora (tests/fuzz/corpus/).

    /usr/bin/python3 tests/fuzz/make_corpus.py [MODEL_JSON]

MODEL_JSON: a model.json written by `archetype fit --k 3` on the embedded
dataset (the model seeds are variants of it; without it they are not
rewritten).  The files are committed; this script documents how they were
made.  Seeds
named regress_* are inputs the fuzzers found (see tests/fuzz/README.md)
and are not written here.  A fuzz_csv input starts with one flag byte (see
fuzz_csv.cpp): 1 drop_invalid, 2 a --columns line, 4 an --id-column line,
8 also parse in tiny chunks (bits 4-7: how many).
"""
import json
import os

import numpy as np
from numpy.lib import format as npf

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
REFERENCE_CSV = os.path.join(HERE, "..", "..", "data", "instagram_visits_clustering.csv")
DROP, COLUMNS, ID, CHUNKED = 1, 2, 4, 8


def write(kind, name, data):
    with open(os.path.join(CORPUS, kind, name), "wb") as f:
        f.write(data)


def csv_seeds():
    with open(REFERENCE_CSV, "rb") as f:
        head = b"".join(f.readlines()[:12])
    seeds = {
        "reference_head": (CHUNKED | 0x30, head),
        "basic_id": (0, b"id,a,b\n1,2.5,3\n2,-1,+4\n"),
        "quoted_crlf": (CHUNKED, b'id,"x,y",b\r\n"1"," 2",3\r\n"k\r\n2",4e-3, "5" \r\n'),
        "doubled_quotes_header": (0, b'"a""b",c\n1,2\n'),
        "columns_by_name_and_index": (COLUMNS, b"b,0\na,b,c\n1,2,3\n4,5,6\n"),
        "id_column_named": (ID, b"c\na,b,c\n1,2,x\n3,4,y\n"),
        "columns_and_id": (COLUMNS | ID, b"Spending\nUser\nUser,Spending,Other\n7,1.5,q\n"),
        "drop_invalid_mixed": (DROP | CHUNKED | 0x20, b"a,b\n1,2\nx,3\n\n1,2,3\n4,nan\n5,1e39\n6,inf\n7,8\n"),
        "bom_lone_cr": (CHUNKED | 0x10, b"\xef\xbb\xbfa,b\r1,2\r3,4\r\r"),
        "unterminated_quote": (0, b'a,b\n"1,2\n3,4\n'),
        "nul_byte": (CHUNKED, b"a,b\n1,2\n3,\x00\n"),
        "junk_after_quote": (0, b'a,b\n"1"x,2\n'),
        "only_header": (0, b"a,b\n\n\n"),
        "only_id_column": (0, b"id\n1\n"),
        "duplicate_header_selected": (COLUMNS, b"a\na,a\n1,2\n"),
        "binary_utf8_names": (0, b"\xc3\xa9t\xc3\xa9,\xff\xfe\n1,2\n"),
    }
    for name, (flags, text) in seeds.items():
        write("csv", name, bytes([flags]) + text)


def npy_bytes(arr, version=None):
    import io
    buf = io.BytesIO()
    npf.write_array(buf, arr, version=version)
    return buf.getvalue()


def raw_npy(header, data=b"", version=1):
    """A file with a hand-written header dict (for shapes numpy cannot hold)."""
    text = header.encode("latin1") + b"\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data
    return b"\x93NUMPY" + bytes([version, 0]) + len(text).to_bytes(4, "little") + text + data


def npy_seeds():
    base = np.array([[1.5, -2.25], [3.0, 4.125], [0.0, 1e-3]])
    write("npy", "f32_2d.npy", npy_bytes(base.astype(np.float32)))
    write("npy", "f64_2d.npy", npy_bytes(base))
    write("npy", "f32_1d.npy", npy_bytes(np.array([0.5, 1.5], dtype=np.float32)))
    write("npy", "f32_v2.npy", npy_bytes(base.astype(np.float32), (2, 0)))
    write("npy", "f64_v3.npy", npy_bytes(base, (3, 0)))
    write("npy", "f32_empty.npy", npy_bytes(np.zeros((0, 3), dtype=np.float32)))
    write("npy", "f64_nan.npy", npy_bytes(np.array([[1.0, np.nan]])))
    write("npy", "f64_overflow.npy", npy_bytes(np.array([[1e300]])))
    write("npy", "f32_fortran.npy", npy_bytes(np.asfortranarray(base.astype(np.float32))))
    write("npy", "i8_2d.npy", npy_bytes(base.astype(np.int64)))
    write("npy", "f32_3d.npy", npy_bytes(np.zeros((1, 1, 2), dtype=np.float32)))
    write("npy", "f32_truncated.npy", npy_bytes(base.astype(np.float32))[:-5])
    write("npy", "python2_long_dims.npy",
          raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", b"\0" * 8))
    write("npy", "structured_dtype.npy",
          raw_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", b"\0" * 4))
    write("npy", "huge_shape.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 3), }"))


def model_seeds(model_path):
    with open(model_path) as f:
        model = json.load(f)
    model["training_input"] = "instagram_visits_clustering.csv"

    def dump(name, m):
        write("model", name, json.dumps(m, indent=2).encode())

    dump("fit_k3.json", model)
    broken = dict(model, k=4)
    dump("k_mismatch.json", broken)
    dump("negative_scale.json", dict(model, scaler={"mean": model["scaler"]["mean"], "scale": [1.0, -2.0]}))
    dump("missing_personas.json", {k: v for k, v in model.items() if k != "personas"})
    dump("wrong_version.json", dict(model, version=2))
    dump("feature_not_object.json", dict(model, features=["a", 1]))
    write("model", "not_an_object.json", b"[1, 2, 3]")
    write("model", "truncated.json", json.dumps(model).encode()[:200])


DATA = os.path.join(HERE, "..", "..", "data")


def json_seeds(kind, source, variants):
    """The shipped file (minified, comments dropped) and variants of it."""
    with open(os.path.join(DATA, source)) as f:
        base = json.load(f)
    base.pop("_comment", None)
    write(kind, source, json.dumps(base).encode())
    for name, change in variants.items():
        doc = json.loads(json.dumps(base))
        write(kind, name, json.dumps(change(doc)).encode())


def personas_seeds():
    def one_feature(c):
        c["features"] = c["features"][:1]
        for a in c["archetypes"]:
            a["levels"] = a["levels"][:1]
        return c

    json_seeds("personas", "personas.json", {
        "one_feature.json": one_feature,
        "no_archetypes.json": lambda c: dict(c, archetypes=[]),
        "duplicate_alias.json": lambda c: dict(c, features=[dict(c["features"][0], aliases=["x", "X"])] +
                                              c["features"][1:]),
        "levels_short.json": lambda c: dict(c, archetypes=[dict(c["archetypes"][0], levels=[0.5])]),
        "bad_distance.json": lambda c: dict(c, max_match_distance=-1),
        "names_with_controls.json": lambda c: dict(c, archetypes=[dict(a, name=a["name"] + "\n\u001b[2J")
                                                                  for a in c["archetypes"]]),
    })
    write("personas", "not_an_object.json", b'["a"]')


def generator_seeds():
    def singular(g):
        g["components"][0]["cov"] = [[1.0, 1.0], [1.0, 1.0]]
        return g

    json_seeds("generator", "generator.json", {
        "one_component.json": lambda g: dict(g, components=[dict(g["components"][0], weight=1.0)]),
        "singular_cov.json": singular,
        "weights_off.json": lambda g: dict(g, components=[dict(c, weight=0.5) for c in g["components"]]),
        "loading_one.json": lambda g: dict(g, extra_features=dict(g["extra_features"], loading=1.0)),
        "huge_mean.json": lambda g: dict(g, components=[dict(c, mean=[1e300, 1e300]) for c in g["components"]]),
    })


if __name__ == "__main__":
    import sys
    csv_seeds()
    npy_seeds()
    personas_seeds()
    generator_seeds()
    if len(sys.argv) > 1:  # a model.json written by `archetype fit`
        model_seeds(sys.argv[1])
