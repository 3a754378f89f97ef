"""Reading a suite file: bounded in size and in alias expansion, UTF-8 text, and a path that
is no suite file says why (a folder, another suffix, a missing file, an unknown name)."""

from __future__ import annotations

import time

import pytest

from benchmarks.suite.model import load_suite
from benchmarks.suite.yaml_lines import TooManyNodes, load_with_lines
from tests.suite.test_suite_validation import BASE


def _alias_bomb(levels: int) -> str:
    """``levels`` keys, each a list of 9 aliases of the one before: 9**levels leaves."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [8, 12])
def test_an_alias_bomb_is_one_line_at_once(tmp_path, levels):
    path = tmp_path / "s.yaml"
    path.write_text(BASE + _alias_bomb(levels))
    start = time.perf_counter()
    with pytest.raises(ValueError) as error:
        load_suite(str(path))
    assert time.perf_counter() - start < 2
    assert str(error.value) == (
        f"{path}:44: the YAML must expand to at most 10,000 nodes, but its aliases (*name) "
        "expand to more from this key on. Write the values out, or nest fewer aliases.")


def test_aliases_under_a_merge_key_count_too():
    merged = _alias_bomb(6).replace("\n", ", ").rstrip(", ")
    with pytest.raises(TooManyNodes):
        load_with_lines(f"m:\n  <<: {{{merged}}}\n")


UTF8_FIX = ("Pass the suite's .yaml text file, saved as UTF-8 (a binary or UTF-16 file is not "
            "a suite).")
TOO_LARGE = ("it must be at most 1 MiB (a suite is a few dozen lines), but it is larger. Check "
             "that it is the suite you meant.")


@pytest.mark.parametrize("content,needle", [
    (b"\xff\xfe\x00n\x00a\x00m\x00e",
     f"it must be UTF-8 YAML text, but byte 0 is 0xff, which UTF-8 cannot decode. {UTF8_FIX}"),
    (b"name: x\x00", f"it must be UTF-8 YAML text, but byte 7 is 0x00 (NUL). {UTF8_FIX}"),
    (b"#" * (1 << 20) + b"\n", TOO_LARGE),
], ids=["utf-16", "nul", "too-large"])
def test_a_suite_file_that_is_not_yaml_text_is_one_line(tmp_path, content, needle):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    with pytest.raises(ValueError) as error:
        load_suite(str(path))
    assert str(error.value) == f"suite file '{path}': {needle}"


def test_a_path_that_is_no_suite_file_says_why(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "tiny.txt").write_text(BASE)
    (tmp_path / "bad" / "b.yaml").write_text(BASE)
    messages = {}
    for name in ("bad/tiny.txt", "bad", "bad/nope.yaml", "quikstart"):
        with pytest.raises(ValueError) as error:
            load_suite(name)
        messages[name] = str(error.value)
    assert messages["bad/tiny.txt"] == (
        "suite file 'bad/tiny.txt': it must end in .yaml or .yml, but it ends in .txt. Rename "
        "it bad/tiny.yaml (a suite file is YAML text).")
    assert messages["bad"] == ("suite file 'bad': it must be a .yaml file, but it is a folder. "
                               "Pass a suite file in it (b.yaml).")
    assert messages["bad/nope.yaml"].startswith(
        f"suite file 'bad/nope.yaml': it must exist, but it does not (the current folder is "
        f"{tmp_path}). Check the path, or run a built-in suite: ")
    assert messages["quikstart"].startswith("suite 'quikstart': it must be a built-in suite (")
    assert messages["quikstart"].endswith("but it is neither. Did you mean: quickstart?")
