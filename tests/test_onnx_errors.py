"""Clear errors: malformed files, unsupported ops (all listed), ops without a mapping; hooks."""

from __future__ import annotations

import helpers
import numpy as np
import pytest

import minigrad as mg

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def model_of(nodes, inits=(), opset=17, domains=()):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], list(inits),
    )  # fmt: skip
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    return helper.make_model(graph, opset_imports=imports)


def test_garbage_and_truncated_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\xffthis is not protobuf\x13\x37" * 3)
    with pytest.raises(mg.onnx.OnnxFormatError, match=r"bad\.onnx is not an ONNX model"):
        mg.onnx.load(bad)
    good = model_of([helper.make_node("Relu", ["x"], ["y"])]).SerializeToString()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(mg.onnx.OnnxFormatError, match="cut.onnx"):
        mg.onnx.load(cut)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(mg.onnx.OnnxFormatError, match="no nodes and no outputs"):
        mg.onnx.load(empty)
    with pytest.raises(FileNotFoundError):
        mg.onnx.load(tmp_path / "missing.onnx")


def test_invalid_graphs_name_the_problem():
    # a node reading a value nobody defines
    m = model_of([helper.make_node("Relu", ["nowhere"], ["y"], name="r1")])
    with pytest.raises(mg.onnx.OnnxFormatError, match="nowhere"):
        mg.onnx.load(m)
    # nodes out of topological order
    m = model_of([helper.make_node("Relu", ["h"], ["y"]), helper.make_node("Relu", ["x"], ["h"])])
    with pytest.raises(mg.onnx.OnnxFormatError, match="'h'"):
        mg.onnx.load(m)


def test_every_unsupported_op_is_listed_and_custom_domains_are_never_loaded():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Einsum", ["a", "a"], ["b"], equation="ij,ij->ij", name="e1"),
        helper.make_node("Einsum", ["b", "b"], ["c"], equation="ij,ij->ij", name="e2"),
        helper.make_node("Hardmax", ["c"], ["d"], name="hm"),
        helper.make_node("MyOp", ["d"], ["y"], domain="com.example", name="mine"),
    ]
    m = model_of(nodes, domains=["com.example"])
    with pytest.raises(mg.onnx.UnsupportedOnnxOpError) as info:
        mg.onnx.load(m)
    msg = str(info.value)
    assert info.value.ops == ["Einsum", "Hardmax", "com.example::MyOp"]
    for part in ("3 ONNX op(s)", "Einsum (nodes e1, e2)", "Hardmax (node hm)", "com.example::MyOp"):
        assert part in msg
    assert "Relu" not in msg


def test_unsupported_attributes_name_the_node():
    w = numpy_helper.from_array(np.ones((3, 3), np.float32), "w")
    m = model_of([helper.make_node("Gemm", ["x", "w"], ["g"]),
                  helper.make_node("Pad", ["g", "pads"], ["y"], mode="reflect", name="pad1")],
                 inits=[w, numpy_helper.from_array(np.array([0, 0, 0, 0]), "pads")])  # fmt: skip
    with pytest.raises(mg.onnx.OnnxError, match=r"'pad1' \(Pad\): mode 'reflect'"):
        mg.onnx.load(m)(np.zeros((2, 3), np.float32))


def test_wrong_input_shape_and_count():
    model = mg.onnx.load(model_of([helper.make_node("Relu", ["x"], ["y"])]))
    with pytest.raises(ValueError, match=r"input 'x' expects shape \('N', 3\), got \(2, 4\)"):
        model(np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="takes 1 input"):
        model(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="input 'x' expects dtype float32, got float64"):
        model(np.zeros((2, 3)))
    assert model([[1.0, -2.0, 3.0]]).data.tolist() == [[1.0, 0.0, 3.0]]  # lists take float32


class Cube(helpers.Cube):
    """The shared test op x ** power, here knowing its own ONNX form."""

    @staticmethod
    def to_onnx(b, node):
        power = b.const(float(node.attrs.get("power", 3)), dtype=node.out_dtype, hint="power")
        return b.add("Pow", [node.inputs[0], power])


class Plain(mg.Op):
    """An op without any ONNX mapping."""

    @staticmethod
    def forward(ctx, x):
        return x + 1

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_plugin_hooks_and_missing_mapping():
    ort = pytest.importorskip("onnxruntime")
    mg.register_op("onnx_test_cube", Cube, override=True)
    mg.register_op("onnx_test_plain", Plain, override=True)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    proto = mg.onnx.export(lambda t: mg.ops.onnx_test_cube(t), x, None)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], x**3, rtol=1e-6)
    proto = mg.onnx.export(lambda t: mg.ops.onnx_test_cube(t, power=2), x, None)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], x**2, rtol=1e-6)
    with pytest.raises(mg.onnx.OnnxExportError, match="op 'onnx_test_plain'.*register_exporter"):
        mg.onnx.export(lambda t: mg.ops.onnx_test_plain(t) * 2.0, x, None)
    # a registered exporter makes it exportable (and wins over to_onnx)
    mg.onnx.register_exporter(
        "onnx_test_plain",
        lambda b, node: b.add("Add", [node.inputs[0], b.const(1.0, dtype=node.out_dtype)]),
        override=True,
    )
    proto = mg.onnx.export(lambda t: mg.ops.onnx_test_plain(t) * 2.0, x, None)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], (x + 1) * 2, rtol=1e-6)
    with pytest.raises(ValueError, match="already has an ONNX exporter"):
        mg.onnx.register_exporter("onnx_test_plain", lambda b, n: "")


def test_register_loader_adds_an_onnx_op():
    mg.onnx.register_loader("Softplus", lambda node, x: mg.log(mg.exp(x) + 1.0), override=True)
    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    y = mg.onnx.load(model_of([helper.make_node("Softplus", ["x"], ["y"])]))(x)
    np.testing.assert_allclose(y.data, np.log1p(np.exp(x)), rtol=1e-6)


def test_export_argument_errors():
    with pytest.raises(ValueError, match="opset 9 is not supported"):
        mg.onnx.export(lambda t: t * 2.0, np.zeros((1, 2), np.float32), None, opset=9)
    with pytest.raises(mg.onnx.OnnxExportError, match="does not depend on the input"):
        mg.onnx.export(lambda t: mg.ones(2), np.zeros((1, 2), np.float32), None)
    with pytest.raises(mg.onnx.OnnxExportError, match="must return a Tensor"):
        mg.onnx.export(lambda t: "nope", np.zeros((1, 2), np.float32), None)


def test_without_the_onnx_package_the_error_says_what_to_install():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class NoOnnx:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'onnx':\n"
        "            raise ImportError('No module named onnx')\n"
        "sys.meta_path.insert(0, NoOnnx())\n"
        "import minigrad as mg\n"
        "for call in (lambda: mg.onnx.load('m.onnx'),\n"
        "             lambda: mg.onnx.export(lambda t: t * 2.0, mg.ones(1, 2), None)):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('pip install "minigrad-cnn[onnx]"') == 2


def external(name, location, shape=(3,)):
    """A float tensor whose data lives in the external file ``location``."""
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
    t.data_location = TensorProto.EXTERNAL
    entry = t.external_data.add()
    entry.key, entry.value = "location", location
    return t


def secret_file(folder):
    path = folder / "secret.bin"
    path.write_bytes(np.array([7.0, 8.0, 9.0], dtype=np.float32).tobytes())
    return path


def test_a_model_given_as_bytes_or_a_proto_never_reads_external_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secret_file(tmp_path)  # what a hostile model would copy into its weights and outputs
    in_initializer = model_of(
        [helper.make_node("Add", ["x", "w"], ["y"])], [external("w", "secret.bin")]
    )
    in_constant = model_of(
        [
            helper.make_node("Constant", [], ["c"], value=external("c", "secret.bin")),
            helper.make_node("Add", ["x", "c"], ["y"]),
        ]
    )
    for model in (in_initializer, in_constant):
        for source, what in (
            (model, "the given ModelProto"),
            (model.SerializeToString(), "the given bytes"),
        ):
            with pytest.raises(
                mg.onnx.OnnxFormatError,
                match=rf"{what}: 1 tensor\(s\) keep their data in external files .*'secret.bin'.*Load it by path",
            ):
                mg.onnx.load(source)
        with pytest.raises(mg.onnx.OnnxFormatError, match="never reads files"):
            mg.onnx.OnnxModule(model)


def test_a_model_loaded_by_path_reads_external_data_from_its_own_folder(tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    model = model_of(
        [helper.make_node("Add", ["x", "w"], ["y"])], [numpy_helper.from_array(w, "w")]
    )
    onnx.save_model(
        model,
        folder / "m.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="m.data",
        size_threshold=0,
    )
    monkeypatch.chdir(tmp_path)  # elsewhere: the data is found beside the model, not here
    loaded = mg.onnx.load(folder / "m.onnx")
    np.testing.assert_array_equal(loaded(np.ones((2, 3), np.float32)).data, 1.0 + np.stack([w, w]))


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink"])
def test_external_data_outside_the_models_folder_is_refused(tmp_path, where):
    folder = tmp_path / "model"
    folder.mkdir()
    secret = secret_file(tmp_path)
    location = {"parent": "../secret.bin", "absolute": str(secret), "symlink": "link.bin"}[where]
    if where == "symlink":
        (folder / "link.bin").symlink_to(secret)
    model = model_of([helper.make_node("Add", ["x", "w"], ["y"])], [external("w", location)])
    (folder / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(mg.onnx.OnnxFormatError, match="not inside the model's folder"):
        mg.onnx.load(folder / "m.onnx")


def test_external_data_in_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "w.bin")
    model = model_of([helper.make_node("Add", ["x", "w"], ["y"])], [external("w", "w.bin")])
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(mg.onnx.OnnxFormatError, match="'w.bin', which is not a regular file"):
        mg.onnx.load(tmp_path / "m.onnx")


def test_a_model_path_that_is_a_fifo_or_a_folder_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"mg.onnx.load: .*m.onnx' is a named pipe \(FIFO\)"):
        mg.onnx.load(tmp_path / "m.onnx")
    with pytest.raises(IsADirectoryError, match="is a directory, not a file; expected an .onnx"):
        mg.onnx.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="mg.onnx.load: no such file"):
        mg.onnx.load(tmp_path / "missing.onnx")


@pytest.mark.parametrize("kw", ["input_names", "output_names"])
def test_an_io_name_with_a_lone_surrogate_is_refused_by_name(kw):
    net = mg.nn.Sequential(mg.nn.Linear(2, 2))
    with pytest.raises(mg.onnx.OnnxExportError, match=rf"{kw} entry 'x\\ud800' cannot be written"):
        mg.onnx.export(net, np.ones((1, 2), np.float32), None, **{kw: ["x\ud800"]})
    with pytest.raises(TypeError, match=f"{kw} must be strings, got 3"):
        mg.onnx.export(net, np.ones((1, 2), np.float32), None, **{kw: [3]})
