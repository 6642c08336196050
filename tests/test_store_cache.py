import os
from pathlib import Path

import pytest

from kit.errors import DataFolderError
from kit.store import cache_store_for, resolve_store


def test_a_relative_store_is_made_absolute(tmp_path, monkeypatch):
    store = tmp_path / "store"
    store.mkdir()
    (store / "store.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    resolved = resolve_store("store")
    assert resolved.is_absolute()
    assert resolved == store.resolve()
    # a notebook running in another folder still finds it
    os.chdir(tmp_path.parent)
    assert (resolved / "store.json").is_file()


def test_the_cache_store_lies_outside_the_data_folder_and_is_stable(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    first = cache_store_for(data)
    monkeypatch.chdir(tmp_path)
    assert cache_store_for(Path("data")) == first
    assert first.is_absolute()
    assert data not in first.parents


def test_a_missing_data_folder_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataFolderError, match="does not exist"):
        resolve_store(tmp_path / "nowhere")
