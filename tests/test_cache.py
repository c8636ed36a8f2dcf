"""Cache files (common/cache.py): written whole, the last used kept, stale ones removed."""
import os

from common.cache import map_cached, read_cached, write_cached


def test_write_keeps_the_last_used_and_removes_the_stale(tmp_path):
    for k, name in enumerate(["m-a", "m-b", "m-c", "old-x"]):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (1000 + k, 1000 + k))
    assert read_cached(tmp_path / "m-a") == b"x"          # read: now the last used of the three
    write_cached(tmp_path / "m-new", b"data", "*", keep=3, stale=lambda p: p.name.startswith("old-"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-a", "m-c", "m-new"]
    assert read_cached(tmp_path / "m-new") == b"data"
    assert read_cached(tmp_path / "missing") is None


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    write_cached(blocker / "sub" / "m-1", b"data", "m-*", keep=2)    # a file where a directory should be
    assert not (blocker / "sub").exists()


def test_a_mapped_file_counts_as_used_as_a_read_one(tmp_path):
    for k, name in enumerate(["m-a", "m-b", "m-c"]):
        (tmp_path / name).write_bytes(b"12345678")
        os.utime(tmp_path / name, (1000 + k, 1000 + k))
    mapped = map_cached(tmp_path / "m-a")
    assert mapped is not None and mapped[:] == b"12345678"
    write_cached(tmp_path / "m-new", b"data", "m-*", keep=2)     # m-a was used last: it stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-a", "m-new"]
    (tmp_path / "empty").write_bytes(b"")
    assert map_cached(tmp_path / "empty") is None
    assert map_cached(tmp_path / "missing") is None


def test_arrays_are_kept_together_and_a_damaged_file_is_built_again(tmp_path):
    import numpy as np

    from common.cache import cached_arrays
    calls = []

    def build():
        calls.append(1)
        return [np.arange(5, dtype="<u2"), np.zeros(0, dtype="<u8"), np.array([1.5, -2.0], dtype="<f4")]

    path = tmp_path / "a-1.bin"
    first = cached_arrays(path, "a-*", 2, build)
    again = cached_arrays(path, "a-*", 2, build)
    assert len(calls) == 1                                     # the second was mapped
    assert [a.tolist() for a in again] == [a.tolist() for a in first] == [[0, 1, 2, 3, 4], [], [1.5, -2.0]]
    assert [a.dtype.str for a in again] == ["<u2", "<u8", "<f4"]
    whole = path.read_bytes()
    for damaged in (whole[:-4], whole + b"\0" * 8, b"not arrays" + whole[10:], whole[:20], b""):
        path.write_bytes(damaged)
        assert [a.tolist() for a in cached_arrays(path, "a-*", 2, build)] == [a.tolist() for a in first]
        assert path.read_bytes() == whole                      # written again
    assert len(calls) == 6


def test_arrays_of_another_layout_or_a_damaged_header_are_built_again(tmp_path):
    import numpy as np

    from common.cache import _ARRAYS_MAGIC, cached_arrays
    calls = []

    def build():
        calls.append(1)
        return [np.arange(3, dtype="<u4"), np.ones(2, dtype="|u1")]

    path = tmp_path / "b-1.bin"
    whole = (cached_arrays(path, "b-*", 2, build, ["<u4", "|u1"]), path.read_bytes())[1]
    assert len(calls) == 1
    # A whole file of other arrays: one array only, or other dtypes.
    for other in ([np.arange(3, dtype="<u4")], [np.arange(3, dtype="<u8"), np.ones(2, dtype="|u1")]):
        path.unlink()
        cached_arrays(path, "b-*", 2, lambda other=other: other)
        found = cached_arrays(path, "b-*", 2, build, ["<u4", "|u1"])
        assert [a.tolist() for a in found] == [[0, 1, 2], [1, 1]] and path.read_bytes() == whole
    # Headers that name an array of no size, a kind of no number, or too many arrays.
    for dtype in (b"V0", b"S0", b"U3", b"O", b"<M8[s]"):
        entry = dtype.ljust(8, b" ") + np.array([5], dtype="<u8").tobytes()
        path.write_bytes(_ARRAYS_MAGIC + np.array([1], dtype="<u8").tobytes() + entry + b"\0" * 40)
        assert [a.tolist() for a in cached_arrays(path, "b-*", 2, build)] == [[0, 1, 2], [1, 1]], dtype
        assert path.read_bytes() == whole
    path.write_bytes(_ARRAYS_MAGIC + np.array([10 ** 6], dtype="<u8").tobytes())
    assert len(cached_arrays(path, "b-*", 2, build)) == 2
    assert len(calls) == 9
